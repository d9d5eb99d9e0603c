"""Every licensing error code has plain words and a fix; the tutorial's reasons and problems are covered."""

from __future__ import annotations

import pytest

from chatbot.explain import (
    EXPLAINED_CODES,
    MEMORY_VS_DISK,
    REQUEST_REFUSAL_CODES,
    explain,
    explain_code,
    has_specific_explanation,
    md_code,
    md_escape,
    skill_refusal,
)
from licensing import (
    ERROR_CODES,
    ClockTamperedError,
    FeatureExpiredError,
    FeatureNotFoundError,
    FileMissingError,
    LicenseError,
    LicenseExpiredError,
    SignatureMismatchError,
    VendorLicenseExpiredError,
)


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_error_code_has_its_own_explanation(code: str) -> None:
    assert has_specific_explanation(code), f"no plain-words explanation for {code!r}: add it to chatbot/explain.py"
    explanation = explain(ERROR_CODES[code]())
    assert explanation.code == code
    assert "Licensing problem" not in explanation.title
    assert explanation.what_happened and explanation.how_to_fix
    assert explanation.markdown().startswith(f"**{explanation.title}**")


def test_an_unknown_code_still_gets_the_errors_own_message_and_hint() -> None:
    class BrandNewError(LicenseError):
        code = "brand_new_code"

    explanation = explain(BrandNewError("Something new broke at C:\\x.", hint="Do the new thing."))
    assert "brand_new_code" in explanation.title
    assert "Something new broke" in explanation.what_happened and explanation.how_to_fix == "Do the new thing."
    assert "not one I know" in explain_code("never_heard_of_it").what_happened


def test_server_unreachable_is_explained() -> None:
    assert "server_unreachable" in EXPLAINED_CODES
    assert "cannot be reached" in explain_code("server_unreachable").title


# The tutorial: "Reasons Why The Request File May Not Generate a License File When Uploaded", plus
# the subscription rule of "License Types Supported".
@pytest.mark.parametrize(("code", "words"), [
    ("max_activations_reached", ["activations", "maximum"]),
    ("license_expired", ["expired"]),
    ("license_disabled", ["disabled"]),
    ("invalid_credentials", ["key", "user name", "password", "credentials"]),
    ("product_configuration", ["product code", "API key", "shared key"]),
    ("free_tier", ["free tier"]),
    ("offline_not_supported", ["subscription", "perpetual, time-based and consumption"]),
])
def test_the_tutorials_reasons_a_request_gets_no_license_file(code: str, words: list[str]) -> None:
    assert code in REQUEST_REFUSAL_CODES
    text = explain_code(code, at_vendor=True).markdown()
    for word in words:
        assert word.lower() in text.lower(), (code, word)


def test_the_same_code_reads_differently_at_the_vendor_and_on_the_device() -> None:
    at_vendor = explain(VendorLicenseExpiredError())
    on_device = explain(LicenseExpiredError())
    assert at_vendor.code == on_device.code == "license_expired"
    assert "new request" in at_vendor.how_to_fix and "refresh" in on_device.how_to_fix
    assert explain_code("license_expired", at_vendor=True) == at_vendor
    assert explain_code("license_expired") == on_device


def test_common_problems_of_the_tutorial() -> None:
    mismatch = explain(SignatureMismatchError()).markdown()
    assert "different device" in mismatch and "on this device" in mismatch
    assert "SignatureMismatch" not in mismatch  # SDK jargon stays out of what users read
    assert "memory" in MEMORY_VS_DISK and "reload" in MEMORY_VS_DISK and "get_current_license" in MEMORY_VS_DISK
    vendor_side = explain_code("device_disabled", at_vendor=True).what_happened
    assert "not seen by an offline device" in vendor_side and "resetting" in vendor_side
    clock = explain_code("clock_tampered")
    assert "clock" in clock.title.lower() and "Set the system date and time" in clock.how_to_fix


def test_the_clock_explanation_says_the_clock_was_set_back_once() -> None:
    error = ClockTamperedError("This computer's clock reads 2026-05-31 12:00 UTC, but the license was already used "
                               "at 2026-06-03 12:00 (UTC). The clock has been set back.")
    what = explain(error).what_happened
    assert what.startswith("This computer's clock reads 2026-05-31 12:00 UTC")
    assert what.count("set back") == 1 and what.count("clock reads") == 1
    assert "Time zones do not matter" in what and "Nothing is wrong with the license itself" in what
    # with no specific message, the table's own words say it (once, too)
    assert explain(ClockTamperedError()).what_happened.count("set back") == 1


@pytest.mark.parametrize("message", [None, "This refresh file was made for a different device than this one."])
def test_the_device_mismatch_explanation_has_no_sdk_jargon_and_no_repetition(message: str | None) -> None:
    error = SignatureMismatchError() if message is None else SignatureMismatchError(
        message, hint="In the portal's Devices tab, download the refresh file of this device.")
    text = explain(error).markdown()
    assert "SignatureMismatch" not in text and "tutorial" not in text
    assert text.count("different device") == 1 and "most common reason" in text


def test_request_replayed_says_the_first_response_is_still_good() -> None:
    fix = explain_code("request_replayed", at_vendor=True).how_to_fix
    assert fix.startswith("If you still have the `ls_activation.lic` the portal gave you the first time, use that")
    assert "Otherwise create a new request" in fix


def test_every_reason_a_request_is_refused_is_listed_including_replays_and_disabled_devices() -> None:
    """DESIGN §2 adds a replayed request and a disabled device to the tutorial's list."""
    assert {"request_replayed", "device_disabled", "offline_not_supported"} <= set(REQUEST_REFUSAL_CODES)


def test_a_callers_message_replaces_the_errors_own() -> None:
    explanation = explain(LicenseExpiredError("The license expired on 2027-01-01 00:00 UTC."),
                          message="The license was valid through 2026-12-31.")
    assert explanation.what_happened.startswith("The license was valid through 2026-12-31. Its expiry date has passed")
    assert "2027" not in explanation.what_happened
    refusal = skill_refusal("tell the time", "time", FeatureExpiredError("The feature 'time' expired on 2026-07-01."),
                            message="The feature `time` was valid through 2026-06-30.")
    assert refusal.what_happened == "The feature `time` was valid through 2026-06-30."


def test_a_specific_hint_from_the_raise_site_wins_over_the_table() -> None:
    explanation = explain(SignatureMismatchError("Made elsewhere.", hint="Download the refresh of THIS device."))
    assert explanation.how_to_fix == "Download the refresh of THIS device."
    assert explanation.what_happened.startswith("Made elsewhere.")


def test_messages_are_escaped_so_a_path_cannot_inject_markdown() -> None:
    explanation = explain(FileMissingError("There is no file at /tmp/**x**/[a](b)/ls_activation.lic."))
    assert "\\*\\*x\\*\\*" in explanation.what_happened and "\\[a\\](b)" in explanation.what_happened
    assert "ls_activation.lic" in explanation.what_happened  # intraword underscores stay readable


def test_skill_refusals_name_the_feature_and_the_fix() -> None:
    refusal = skill_refusal("tell a joke", "jokes", FeatureNotFoundError())
    assert refusal.title == "Your license has no `jokes` feature"
    assert "refresh file that adds it" in refusal.how_to_fix and "refresh" in refusal.suggestions
    expired = skill_refusal("tell a joke", "jokes", LicenseExpiredError())
    assert expired.title.startswith("I can't tell a joke right now: the license has expired")


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "`plain`"),
    ("a`b", "``a`b``"),
    ("`start", "`` `start ``"),
    ("line\nbreak\x00", "`line break\ufffd`"),
    ("", "(nothing)"),
])
def test_md_code(text: str, expected: str) -> None:
    assert md_code(text) == expected


def test_md_code_cuts_long_text() -> None:
    assert md_code("x" * 500) == "`" + "x" * 79 + "…`"


@pytest.mark.parametrize(("text", "expected"), [
    ("**bold** [x](y)", "\\*\\*bold\\*\\* \\[x\\](y)"),
    ("<script>", "\\<script\\>"),
    ("_emphasis_ but snake_case", "\\_emphasis\\_ but snake_case"),
    ("# heading", "\\# heading"),
    ("1. item", "1\\. item"),
    ("a | b ~~c~~ `d`", "a \\| b \\~\\~c\\~\\~ \\`d\\`"),
])
def test_md_escape(text: str, expected: str) -> None:
    assert md_escape(text) == expected
