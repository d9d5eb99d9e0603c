"""Conversations with the bot over the real engine and a real vendor (the ``lab``): every intent,
the guided offline activation, confirmations, refusals and their explanations, odd input."""

from __future__ import annotations

import os
import random
import re
import shlex
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chatbot.bootstrap import (
    DATA_DIR_ENV,
    DEFAULT_CONFIG_ENV,
    DEMO_PINS_FILE,
    FINGERPRINT_ENV,
    HARDWARE_ID_ENV,
    create_bot,
)
from chatbot.bot import CANCEL, CONFIRM, Bot, DemoContext, Reply, detect_portal_program
from chatbot.explain import MEMORY_VS_DISK, REQUEST_REFUSAL_CODES, explain_code
from chatbot.intents import parse
from chatbot.skills import JOKES
from licensing import (
    ConfigurationError,
    ConfigurationTamperedError,
    InvalidCredentialsError,
    License,
    LicenseManager,
    OfflineNotSupportedError,
)
from licensing.issuing import catalog

from support.lab import Lab

KEY_HINT = "ABCD-1234-EFGH-5678"


def make_bot(lab: Lab, device: str = "device-A", **overrides: object) -> Bot:
    return Bot(lab.manager(device, **overrides), rng=random.Random(3), local_tz=timezone.utc, debug=True)


def say(bot: Bot, *lines: str) -> Reply:
    reply = bot.handle(lines[0])
    for line in lines[1:]:
        reply = bot.handle(line)
    return reply


def outside_code(markdown: str) -> str:
    """The Markdown with its inline code spans removed: what would be rendered as markup."""
    return re.sub(r"(`+)(?:(?!\1).)+\1", "", markdown)


def activate(lab: Lab, bot: Bot, key: str) -> Reply:
    request = say(bot, f"activate offline {key}")
    assert request.ok, request.text
    lab.respond(Path(request.data["path"]))
    reply = bot.handle("activate offline")
    assert reply.ok and reply.status is not None and reply.status.licensed, reply.text
    return reply


def held(bot: Bot) -> License:
    license_ = bot.manager.get_current_license()
    assert license_ is not None
    return license_


def vendor_license(lab: Lab, key: str, change: object, *args: object, **kwargs: object) -> None:
    with lab.vendor.store.session() as session:
        change(session, lab.clock(), catalog.get_license(session, key), *args, **kwargs)  # type: ignore[operator]


# -- greeting and status ---------------------------------------------------------------------------


def test_greeting_without_a_license_says_what_the_bot_is_and_how_to_start(lab: Lab) -> None:
    greeting = make_bot(lab).greeting()
    assert "licensing chatbot" in greeting.text and "activate offline" in greeting.text
    assert greeting.status is not None and not greeting.status.licensed
    assert greeting.status.summary == "none yet · no license server configured (offline mode)"
    assert "**License:** none yet · no license server configured (offline mode)." in greeting.text
    assert greeting.status.problem_code == "no_license" and greeting.status.online is False
    assert "activate offline" in greeting.suggestions


def test_status_of_a_time_based_license(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("time-based", features=("jokes",)))
    status = bot.status()
    assert status.licensed and status.license_type == "time-based" and status.days_left == 30
    assert status.expires == lab.clock() + timedelta(days=30) and status.consumption_left is None
    assert status.summary == "licensed · time-based · 30 days left · no license server configured (offline mode)"
    assert status.problem_code is None


# -- the guided offline activation -------------------------------------------------------------------


def test_guided_offline_activation_step_by_step(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes", "dice"), max_activations=3)
    bot = make_bot(lab)
    desktop = bot.manager.config.requests_dir

    asked = bot.handle("activate offline")
    assert asked.ok and asked.intent == "activate_offline" and asked.data["awaiting"] == "license_id"
    assert "key" in asked.text

    step1 = bot.handle(key)
    request = desktop / "ls_activation.req"
    assert step1.ok and step1.data == {"path": str(request), "route": "offline", "step": 1}
    assert request.is_file() and f"`{request}`" in step1.text
    assert "carry this file to a computer with internet and upload it at the offline licensing portal" \
        in step1.text.lower()
    assert "ls_activation.lic" in step1.text and "activate offline" in step1.text

    early = bot.handle("activate offline")  # the response is not back yet
    assert not early.ok and early.data["looked_in"] == [str(desktop / "ls_activation.lic")]
    assert f"`{desktop}`" in early.text and "Offline Licensing Portal" in early.text

    lab.respond(request)  # the vendor answers; ls_activation.lic lands next to the request
    done = bot.handle("activate offline")
    assert done.ok and done.data["step"] == 2 and done.data["route"] == "offline"
    assert "perpetual" in done.text and "never expires" in done.text and "Activations: 1 of 3" in done.text
    assert "`jokes`" in done.text and "`dice`" in done.text
    assert done.status is not None and done.status.licensed
    assert bot.handle("tell me a joke").text in JOKES


def test_activation_with_key_and_folder_in_one_line_and_a_typed_response_path(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    usb = tmp_path / "usb stick"
    usb.mkdir()
    bot = make_bot(lab)
    step1 = bot.handle(f'create activation request for {key} in "{usb}"')
    assert step1.ok and step1.data["path"] == str(usb / "ls_activation.req")
    moved = tmp_path / "download" / "answer.lic"
    moved.parent.mkdir()
    lab.respond(usb / "ls_activation.req", out=moved)
    done = bot.handle(f'activate offline "{moved}"')
    assert done.ok and done.data["path"] == str(moved) and bot.status().licensed


def test_the_response_is_also_found_next_to_a_request_made_elsewhere(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("perpetual")
    bot = make_bot(lab)
    request = Path(say(bot, f"activate offline {key} {tmp_path}").data["path"])
    assert request == tmp_path / "ls_activation.req"
    lab.respond(request)
    assert bot.handle("activate offline").ok


def test_user_based_credentials_are_asked_for_and_never_echoed(lab: Lab) -> None:
    user = lab.issue("perpetual", user="ada@example.com", password="s3cret-Pa55", features=("jokes",))
    bot = make_bot(lab)
    replies = [bot.handle("activate offline"), bot.handle(f"user {user} password s3cret-Pa55")]
    assert replies[1].ok and replies[1].data["step"] == 1
    lab.respond(Path(replies[1].data["path"]))
    replies.append(bot.handle("activate offline"))
    assert replies[-1].ok and "ada@example.com" in replies[-1].text
    assert all("s3cret" not in reply.text and "s3cret" not in str(reply.data) for reply in replies)


def test_credentials_in_one_line(lab: Lab) -> None:
    user = lab.issue("perpetual", user="bob@example.com", password="pw-1")
    bot = make_bot(lab)
    step1 = bot.handle(f"activate offline user {user} password pw-1")
    assert step1.ok and step1.intent == "activate_offline"
    lab.respond(Path(step1.data["path"]))
    assert bot.handle("activate offline").ok


def test_wrong_key_refused_by_the_vendor_is_explained_when_pasted(lab: Lab) -> None:
    bot = make_bot(lab)
    step1 = bot.handle("activate offline ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    with pytest.raises(InvalidCredentialsError) as refused:
        lab.respond(Path(step1.data["path"]))
    reply = bot.handle(f"the portal said: {refused.value}")
    assert reply.intent == "help" and reply.data["code"] == "invalid_credentials"
    assert "Wrong license key or credentials" in reply.text and "new request" in reply.text


@pytest.mark.parametrize("code", REQUEST_REFUSAL_CODES)
def test_every_reason_the_portal_refuses_is_explained_from_its_code(lab: Lab, code: str) -> None:
    reply = make_bot(lab).handle(f"what does {code} mean?")
    assert reply.data["code"] == code and explain_code(code, at_vendor=True).title in reply.text


def test_a_subscription_is_refused_offline_at_the_vendor(lab: Lab) -> None:
    key = lab.issue("subscription", features=("jokes",))
    bot = make_bot(lab)
    step1 = bot.handle(f"activate offline {key}")
    with pytest.raises(OfflineNotSupportedError) as refused:
        lab.respond(Path(step1.data["path"]))
    assert "Subscription licenses cannot be activated offline" in bot.handle(str(refused.value)).text


def test_hybrid_activation_without_a_server_takes_the_offline_route_and_says_why(lab: Lab) -> None:
    key = lab.issue("perpetual")
    reply = make_bot(lab).handle(f"activate {key}")
    assert reply.intent == "activate_online" and reply.ok and reply.data["route"] == "offline"
    assert "**offline** route, because no license server is configured" in reply.text
    assert Path(reply.data["path"]).is_file()


def test_a_leftover_response_offers_a_new_request(lab: Lab) -> None:
    key = lab.issue("perpetual", max_activations=2)
    bot = make_bot(lab)
    activate(lab, bot, key)
    say(bot, "clear storage", "yes")
    reused = bot.handle("activate offline")  # the old ls_activation.lic is still on the desktop
    assert not reused.ok and reused.data["code"] in ("request_mismatch", "response_already_used")
    assert "tell me the license key" in reused.text
    again = bot.handle(key)
    assert again.ok and again.data["step"] == 1


# -- deactivation, clearing ----------------------------------------------------------------------------


def test_deactivation_asks_first_cancel_keeps_the_license_yes_deactivates(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    bot = make_bot(lab)
    activate(lab, bot, key)
    asked = bot.handle("deactivate offline")
    assert asked.ok and asked.suggestions == ("yes", "no") and "ls_deactivation.req" in asked.text
    cancelled = bot.handle("no")
    assert cancelled.intent == CANCEL and bot.status().licensed

    bot.handle("deactivate offline")
    done = bot.handle("yes")
    request = bot.manager.config.requests_dir / "ls_deactivation.req"
    assert done.intent == CONFIRM and done.ok and done.data == {"path": str(request), "route": "offline"}
    assert "upload it at the Offline Licensing Portal" in done.text
    assert done.status is not None and not done.status.licensed and done.status.problem_code == "no_license"
    receipt = lab.vendor.issuer.answer_deactivation(request.read_bytes())  # the vendor frees the seat
    assert receipt.total_activations == 0


def test_another_command_cancels_a_confirmation_and_is_then_handled(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    bot.handle("deactivate offline")
    reply = bot.handle("tell me a joke")
    assert reply.intent == "skill_joke" and reply.ok and "cancelled the deactivate offline" in reply.text
    assert bot.handle("yes").intent == "unknown"  # the question is gone
    assert bot.status().licensed


def test_deactivate_online_without_a_server_falls_back_to_offline(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    done = say(bot, "deactivate online", "sure")
    assert done.intent == CONFIRM and done.data["route"] == "offline"
    assert "because no license server is configured" in done.text and not bot.status().licensed


def test_deactivating_without_a_license_explains_instead_of_asking(lab: Lab) -> None:
    reply = make_bot(lab).handle("deactivate offline")
    assert not reply.ok and reply.data["code"] == "no_license"


def test_clear_storage_confirms_and_explains_the_seat_stays_taken(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    asked = bot.handle("clear local storage")
    assert "does **not** free the activation" in asked.text and "deactivate offline" in asked.text
    done = bot.handle("y")
    assert done.intent == CONFIRM and done.status is not None and done.status.problem_code == "no_license"
    assert bot.manager.reload_license() is None


# -- refresh -----------------------------------------------------------------------------------------------


def test_refresh_adding_a_feature_unlocks_its_skill(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    bot = make_bot(lab)
    activate(lab, bot, key)
    refused = bot.handle("roll 2d6")
    assert not refused.ok and "Your license has no `dice` feature" in refused.text and "refresh" in refused.text
    assert refused.data == {"code": "feature_not_found", "feature": "dice"}

    vendor_license(lab, key, catalog.add_feature, "dice")
    lab.refresh_file(key, held(bot).device_id, bot.manager)
    refreshed = bot.handle("refresh")
    assert refreshed.ok and "revision 1 → 2" in refreshed.text and "new feature: `dice`" in refreshed.text
    assert bot.handle("roll 2d6").text.startswith("🎲 2d6:")


def test_refresh_reports_a_new_expiry_and_a_missing_file(lab: Lab) -> None:
    key = lab.issue("time-based", features=("jokes",))
    bot = make_bot(lab)
    activate(lab, bot, key)
    missing = bot.handle("refresh")
    assert not missing.ok and missing.data["code"] == "file_not_found" and "Devices tab" in missing.text
    vendor_license(lab, key, catalog.extend_license, lab.clock() + timedelta(days=90))
    lab.refresh_file(key, held(bot).device_id, bot.manager)
    assert "the license now expires 2026-08-30 12:00 UTC" in bot.handle("refresh").text
    outdated = bot.handle("refresh")  # the same file again
    assert not outdated.ok and outdated.data["code"] == "refresh_outdated"


# -- skills are gated ------------------------------------------------------------------------------------


def test_skills_without_a_license_are_refused_with_how_to_get_one(lab: Lab) -> None:
    bot = make_bot(lab)
    for line in ("tell me a joke", "count words in a b c", "convert 5 km to miles", "roll a die", "what time is it"):
        reply = bot.handle(line)
        assert not reply.ok and reply.data["code"] == "no_license", line
        assert "activate offline" in reply.text


def test_an_expired_license_refuses_skills_and_says_refresh(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("time-based", features=("jokes", "time")))
    assert "**12:00** UTC" in bot.handle("what time is it").text
    lab.clock.advance(days=31)
    reply = bot.handle("tell me a joke")
    assert not reply.ok and reply.data["code"] == "license_expired"
    assert "I can't tell a joke right now: the license has expired" in reply.text and "refresh" in reply.suggestions


def test_consumption_counts_each_use_and_runs_out_clearly(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("consumption", features=("wordcount",), max_consumptions=2))
    assert bot.status().consumption_left == 2
    assert not bot.handle("count words").ok  # a request without text costs nothing
    first = bot.handle("count words in one two three")
    assert first.ok and "**3** words" in first.text and "1 left" in first.text
    assert first.status is not None and first.status.consumption_left == 1
    second = bot.handle("count words in four")
    assert second.status is not None and second.status.consumption_left == 0
    out = bot.handle("count words in five")
    assert not out.ok and out.data["code"] == "consumption_limit" and "all uses are used up" in out.text
    assert "refresh" in out.text


def test_consume_intent_asks_how_many(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("consumption", max_consumptions=10))
    asked = bot.handle("consume")
    assert asked.ok and asked.data["awaiting"] == "count" and "How many" in asked.text
    recorded = bot.handle("three")
    assert recorded.ok and "Recorded 3 uses" in recorded.text and recorded.data["remaining"] == 7
    assert bot.handle("use a credit").data["remaining"] == 6
    assert bot.handle("consume 2").data["remaining"] == 4
    too_many = bot.handle("consume 5")
    assert not too_many.ok and too_many.data["code"] == "consumption_limit"


def test_consume_on_a_license_that_does_not_count(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    reply = bot.handle("use a credit")
    assert not reply.ok and "does not count uses" in reply.text


def test_a_feature_with_its_own_limit_and_expiry_is_listed_and_enforced(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    vendor_license(lab, key, catalog.add_feature, "dice", max_consumptions=1)
    vendor_license(lab, key, catalog.add_feature, "time", expires=lab.clock() + timedelta(days=2))
    bot = make_bot(lab)
    activate(lab, bot, key)
    listed = bot.handle("list features")
    assert "`dice` — unlocks *roll dice*, 0 of 1 uses" in listed.text
    assert "`time` — unlocks *tell the time*, until 2026-06-03" in listed.text
    assert "Not on your license: `wordcount` (count words), `convert` (convert units)" in listed.text
    assert bot.handle("roll a die").ok
    assert bot.handle("roll a die").data["code"] == "consumption_limit"
    lab.clock.advance(days=3)
    expired = bot.handle("what time is it")
    assert expired.data["code"] == "feature_expired" and "`time` feature has expired" in expired.text
    assert "`time` — unlocks *tell the time*, expired 2026-06-03" in bot.handle("features").text


# -- what goes wrong on the device --------------------------------------------------------------------------


def test_clock_turned_back_is_named_as_the_clock_with_the_fix(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    lab.clock.advance(days=2)
    bot.handle("local check")
    lab.clock.advance(days=-1)
    status = bot.handle("am I licensed?")
    assert status.data == {"licensed": False, "code": "clock_tampered", "check": "clock"}
    assert "It's this computer's clock" in status.text and "Set the system date and time" in status.text
    assert bot.status().summary == \
        "perpetual, not usable right now (clock tampered) · no license server configured (offline mode)"
    joke = bot.handle("tell me a joke")
    assert not joke.ok and "clock" in joke.text
    lab.clock.advance(days=1)
    assert bot.handle("tell me a joke").ok


def test_guard_file_removed_is_explained_and_a_new_request_offered(lab: Lab) -> None:
    bot = make_bot(lab)
    step1 = bot.handle(f"activate offline {lab.issue('perpetual')}")
    lab.respond(Path(step1.data["path"]))
    (bot.manager.config.product_dir / ".guard").unlink()
    reply = bot.handle("activate offline")
    assert not reply.ok and reply.data["code"] == "guard_missing"
    assert "guard file" in reply.text and "tell me the license key" in reply.text


def test_a_response_for_another_device_is_refused_with_the_tutorials_explanation(lab: Lab) -> None:
    key = lab.issue("perpetual", max_activations=2)
    made_on_a = make_bot(lab, "device-A").handle(f"activate offline {key}")
    response = lab.respond(Path(made_on_a.data["path"]))
    bot_b = make_bot(lab, "device-B")
    bot_b.handle(f"activate offline {key}")
    reply = bot_b.handle(f"activate offline {response}")
    assert not reply.ok and reply.data["code"] == "device_mismatch"
    assert "Made for another device" in reply.text and "most common reason" in reply.text
    assert "SignatureMismatch" not in reply.text  # the tutorial's SDK name is for developers, not users


def test_a_typed_response_path_that_does_not_exist(lab: Lab, tmp_path: Path) -> None:
    reply = make_bot(lab).handle(f"activate offline {tmp_path}/nowhere/ls_activation.lic")
    assert not reply.ok and reply.data["code"] == "file_not_found" and "nowhere" in reply.text


def test_diagnose_why_am_i_not_licensed(lab: Lab) -> None:
    bot = make_bot(lab)
    nothing = bot.handle("why am I not licensed?")
    assert nothing.intent == "license_status" and nothing.data == {"licensed": False, "code": "no_license"}
    assert "activate offline" in nothing.text
    activate(lab, bot, lab.issue("time-based", features=("jokes",)))
    fine = bot.handle("why am I not licensed?")
    assert fine.data == {"licensed": True} and "You are licensed" in fine.text
    lab.clock.advance(days=40)
    expired = bot.handle("why am I not licensed?")
    assert expired.data == {"licensed": False, "code": "license_expired", "check": "validity"}
    assert "the dates check failed" in expired.text and "The license has expired" in expired.text
    assert "refresh" in expired.suggestions


def test_reload_explains_memory_versus_disk(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    LicenseManager(bot.manager.config).clear_local_storage()  # another program wipes the disk
    assert bot.handle("status").data == {"licensed": True}  # still the copy in memory
    reloaded = bot.handle("reload license")
    assert "the license file is gone" in reloaded.text and MEMORY_VS_DISK in reloaded.text
    assert reloaded.status is not None and reloaded.status.problem_code == "no_license"
    assert "matches what I had in memory" not in reloaded.text
    assert bot.handle("reload").text.startswith("I read the disk again: there is no license")


def test_reload_picks_up_a_license_activated_by_another_program(lab: Lab) -> None:
    bot = make_bot(lab)
    assert not bot.status().licensed
    lab.activate(LicenseManager(bot.manager.config), lab.issue("perpetual"))
    reply = bot.handle("reload")
    assert "loaded the license there" in reply.text and reply.status is not None and reply.status.licensed
    assert "matches what I had in memory" in bot.handle("reload").text


def test_local_check_check_online_and_is_online_without_a_server(lab: Lab) -> None:
    bot = make_bot(lab)
    assert not bot.handle("local check").ok
    activate(lab, bot, lab.issue("perpetual"))
    local = bot.handle("run a local check")
    assert local.ok and "Local check passed" in local.text and "clock" in local.text
    online = bot.handle("check online")
    assert online.ok and online.data == {"route": "offline"}
    assert "because no license server is configured, so I ran a local check instead" in online.text
    is_online = bot.handle("am I online?")
    assert is_online.data == {"online": False} and "no license server is configured" in is_online.text
    lab.clock.advance(days=-1)
    failed = bot.handle("check online")
    assert not failed.ok and failed.data["code"] == "clock_tampered" and "ran a local check" in failed.text


# -- dialogue, help, odd input -------------------------------------------------------------------------------


def test_clarify_offers_the_candidates_and_takes_an_answer(lab: Lab) -> None:
    bot = make_bot(lab)
    asked = bot.handle("activate")
    assert asked.intent == "clarify" and asked.suggestions == ("activate online", "activate offline")
    assert "Did you mean **activate online** or **activate offline**?" in asked.text
    assert bot.handle("offline").data["awaiting"] == "license_id"
    for suggestion in asked.suggestions:
        assert parse(suggestion).name in ("activate_online", "activate_offline")


def test_clarify_keeps_the_path_and_accepts_a_number(lab: Lab, tmp_path: Path) -> None:
    bot = make_bot(lab)
    assert bot.handle(f"{tmp_path}/x.lic").data["candidates"] == ["activate_offline", "refresh_offline"]
    reply = bot.handle("1")
    assert reply.intent == "activate_offline" and reply.data["code"] == "file_not_found"
    assert "x.lic" in reply.text


def test_a_clarify_answer_that_is_something_else_is_handled_normally(lab: Lab) -> None:
    bot = make_bot(lab)
    bot.handle("deactivate")
    assert bot.handle("help").intent == "help"


def test_a_question_after_did_you_mean_is_answered_and_never_picks_an_option_by_one_word(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    assert bot.handle("deactivate").data["candidates"] == ["deactivate_online", "deactivate_offline"]
    reply = bot.handle("does offline work with subscription licenses")
    assert reply.intent == "help" and reply.data.get("awaiting") is None, reply.text
    assert bot.held_license() is not None
    assert bot.handle("deactivate").data["awaiting"] == "clarify"
    assert bot.handle("the offline one").data["awaiting"] == "confirm"  # a short answer still picks


def test_a_question_or_a_mishap_never_offers_to_deactivate_or_clear(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    for line in ("could someone forge a license file", "i removed a hidden file from the license folder and now "
                 "activation fails", "can anyone delete my license remotely?"):
        reply = bot.handle(line)
        assert reply.intent in ("help", "license_status") and not reply.data.get("awaiting"), (line, reply.text)


def test_help_topics_and_the_keys_question_keeps_the_key_question_open(lab: Lab) -> None:
    bot = make_bot(lab)
    assert "`activate offline`" in bot.handle("help").text
    assert "Offline activation takes three steps" in bot.handle("how does offline activation work?").text
    problems = bot.handle("help problems").text
    assert "No activations left" in problems and "free tier" in problems and MEMORY_VS_DISK in problems
    assert "`km/h`" in bot.handle("help convert").text
    assert bot.handle("help refresh").data == {"topic": "refresh"}  # the knowledge entry, not the command
    bot.handle("activate offline")
    keys = bot.handle("which keys can I use?")
    assert keys.data["topic"] == "keys" and "your vendor gives you a license key" in keys.text.lower()
    key = lab.issue("perpetual")
    assert bot.handle(key).data["step"] == 1  # still answering "which license?"


def test_a_sentence_about_credentials_is_not_taken_for_credentials(lab: Lab) -> None:
    bot = make_bot(lab)
    assert bot.handle("I forgot my user name and password").intent == "unknown"
    assert bot.handle("user name x password y").data["route"] == "offline"  # but this is a user-based activation


def test_unknown_input_says_what_the_bot_can_do(lab: Lab) -> None:
    reply = make_bot(lab).handle("how much does a license cost?")
    assert reply.intent == "unknown" and not reply.ok and "contact your vendor" in reply.text
    assert "help" in reply.suggestions


def test_quit(lab: Lab) -> None:
    reply = make_bot(lab).handle("quit")
    assert reply.quit and reply.ok and reply.intent == "quit"


@pytest.mark.parametrize("line", ["", "   ", "\x00\x07\x1b", "\n\n"])
def test_empty_input(lab: Lab, line: str) -> None:
    reply = make_bot(lab).handle(line)
    assert reply.intent == "unknown" and not reply.ok and "help" in reply.text


def test_markdown_typed_by_the_user_is_echoed_inside_code(lab: Lab) -> None:
    reply = make_bot(lab).handle("**bold** [x](y) <b>hi</b>")
    assert "`**bold** [x](y) <b>hi</b>`" in reply.text
    assert "**bold**" not in outside_code(reply.text) and "<b>" not in outside_code(reply.text)


def test_control_characters_are_dropped(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    assert bot.handle("\x1b[31mtell me a joke\x07").intent == "skill_joke"


def test_a_10_kb_line_is_answered_quickly_and_counted_whole(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("wordcount",)))
    started = time.perf_counter()
    junk = bot.handle("x" * 10_240)
    counted = bot.handle("count words in " + "word " * 2_000)
    assert time.perf_counter() - started < 2.0
    assert junk.intent == "unknown" and len(junk.text) < 1_000
    assert "**2000** words" in counted.text


def test_handle_never_raises_for_odd_lines(lab: Lab) -> None:
    bot = make_bot(lab)  # debug on: an unexpected exception would fail this test
    activate(lab, bot, lab.issue("perpetual", features=("jokes", "wordcount", "convert", "dice", "time")))
    for line in ("activate offline ~/nowhere/x.lic", "refresh /dev/null", "convert 1e400 km to m", "roll 0d0",
                 "consume -1", "user x password", "activate 0000-0000-0000-0000", "\ud800", "yes", "no",
                 "`" * 300, "count words in ```", "deactivate", "3", "activate offline .", "refresh .",
                 "activate offline ~nosuchuser/x.lic", "activate offline ~nosuchuser/usb", "refresh ~nosuchuser/r.lic",
                 f"activate offline /{'a' * 5000}", f"activate offline /{'a' * 5000}.lic",
                 "count words in user x password y"):
        assert isinstance(bot.handle(line), Reply), line


def test_an_internal_error_gets_an_apology_unless_debugging(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    broken_rng = object()  # a bug: the joke skill cannot pick from it
    bot = Bot(lab.manager(), rng=broken_rng)  # type: ignore[arg-type]
    activate(lab, bot, key)
    reply = bot.handle("tell me a joke")
    assert not reply.ok and reply.data == {"code": "internal_error"} and "Sorry" in reply.text
    assert bot.handle("status").ok  # the conversation goes on
    with pytest.raises(AttributeError):
        Bot(lab.manager(), rng=broken_rng, debug=True).handle("tell me a joke")  # type: ignore[arg-type]


def test_status_is_attached_when_the_license_may_have_changed(lab: Lab) -> None:
    bot = make_bot(lab)
    assert bot.handle("help").status is None and bot.handle("status").status is not None
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    assert bot.handle("tell me a joke").status is None  # nothing counted, nothing changed


# -- create_bot ------------------------------------------------------------------------------------------------


def test_create_bot_with_an_explicit_configuration(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    config = lab.config().write_file(tmp_path / "licensing.json")
    bot = create_bot(config, data_dir=tmp_path / "data")
    assert bot.demo is None and bot.manager.config.product == "chatbot"
    assert bot.manager.config.product_dir == tmp_path / "data" / "licenses" / "chatbot"
    assert "demo vendor" not in bot.greeting().text


def test_create_bot_from_the_environment(lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = lab.config().write_file(tmp_path / "from-env.json")
    monkeypatch.setenv(DEFAULT_CONFIG_ENV, str(config))
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env-data"))
    bot = create_bot()
    assert bot.demo is None and bot.manager.config.product_dir == tmp_path / "env-data" / "licenses" / "chatbot"


def test_a_missing_configuration_file_is_a_clear_error(tmp_path: Path) -> None:
    from licensing import FileMissingError

    with pytest.raises(FileMissingError, match="no configuration file"):
        create_bot(tmp_path / "missing.json", data_dir=tmp_path)


def test_demo_mode_builds_the_demo_once_and_guides_with_the_portal_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "chatbot-data"))
    first = create_bot()
    vendor = tmp_path / "chatbot-data" / "demo-vendor"
    assert first.demo is not None and first.demo == DemoContext(vendor, first.demo.licenses)
    assert (vendor / "chatbot-config.json").is_file()
    keys_file = vendor / "keys"
    stamp = sorted((p.name, p.stat().st_mtime_ns) for p in keys_file.iterdir())
    second = create_bot()
    assert second.demo is not None and second.demo.licenses == first.demo.licenses  # the same keys
    assert sorted((p.name, p.stat().st_mtime_ns) for p in keys_file.iterdir()) == stamp

    greeting = second.greeting().text
    assert "demo vendor" in greeting and f"licensing-portal --data {vendor} respond" in greeting
    keys = second.handle("which keys can I use?")
    perpetual = {label: key for label, key, _ in second.demo.licenses}["perpetual"]
    assert f"`{perpetual}`" in keys.text and "demo-password" in keys.text


def test_the_demo_configuration_is_pinned_when_the_demo_is_built(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The chatbot pins what it ships: an edited demo configuration (a key slipped in) is refused."""
    import json

    from licensing.wire import crypto

    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    monkeypatch.setenv("CHATBOT_STATE_DIR", str(tmp_path / "state"))
    bot = create_bot(data_dir=tmp_path / "data")
    assert bot.demo is not None
    pins = json.loads((tmp_path / "state" / DEMO_PINS_FILE).read_text())
    assert list(pins.values()) == [bot.manager.config.fingerprint]
    config_file = bot.demo.vendor_dir / "chatbot-config.json"
    data = json.loads(config_file.read_text())
    data["trusted_keys"]["mine"] = crypto.b64encode(crypto.public_bytes(crypto.Ed25519PrivateKey.generate().public_key()))
    config_file.write_text(json.dumps(data))
    with pytest.raises(ConfigurationTamperedError) as caught:
        create_bot(data_dir=tmp_path / "data")
    assert "demo vendor" in caught.value.message and str(bot.demo.vendor_dir) in caught.value.hint


def test_a_vendor_configuration_is_pinned_by_the_fingerprint_the_vendor_gives(
        lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    config = lab.config().write_file(tmp_path / "licensing.json")
    monkeypatch.setenv(FINGERPRINT_ENV, lab.config().fingerprint)
    assert create_bot(config, data_dir=tmp_path / "data").manager.config.fingerprint == lab.config().fingerprint
    monkeypatch.setenv(FINGERPRINT_ENV, "sha256:" + "0" * 64)
    with pytest.raises(ConfigurationTamperedError):
        create_bot(config, data_dir=tmp_path / "data")


def test_the_chatbot_pins_a_device_id_only_through_its_own_setting(
        lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    config = lab.config().write_file(tmp_path / "licensing.json")
    pinned = LicenseManager(lab.config(hardware_id="container-1")).hardware_id
    monkeypatch.setenv("LICENSING_HARDWARE_ID", "container-1")  # the SDK's variable: not the chatbot's choice
    monkeypatch.delenv(HARDWARE_ID_ENV, raising=False)
    try:
        assert create_bot(config, data_dir=tmp_path / "data").manager.hardware_id != pinned
    except ConfigurationError:
        pass  # a machine without a machine id of its own: refused, still not moved
    monkeypatch.setenv(HARDWARE_ID_ENV, "container-1")
    assert create_bot(config, data_dir=tmp_path / "data").manager.hardware_id == pinned


def test_demo_flow_end_to_end_with_the_vendor_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from licensing.issuing.cli import main as portal

    monkeypatch.delenv(DEFAULT_CONFIG_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no desktop there: requests go to the home folder
    (tmp_path / "home").mkdir()
    bot = create_bot(data_dir=tmp_path / "data")
    assert bot.demo is not None
    key = {label: key for label, key, _ in bot.demo.licenses}["perpetual"]
    step1 = bot.handle(f"activate offline {key}")
    assert step1.data["path"] == str(tmp_path / "home" / "ls_activation.req")
    command = bot.demo.portal_command(Path(step1.data["path"]))
    assert f"`{command}`" in step1.text
    assert portal(shlex.split(command)[1:] + ["--json"]) == 0
    done = bot.handle("activate offline")
    assert done.ok and "Activations: 1 of 3" in done.text
    assert bot.handle("convert 5 km to miles").ok


def test_an_activated_license_survives_a_restart(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    again = make_bot(lab)
    assert again.status().licensed and again.greeting().suggestions[0] == "tell me a joke"
    assert held(again).key == held(bot).key


# -- what a newcomer reads (the transcript review) ------------------------------------------------------------

MIDNIGHT_2027 = datetime(2027, 1, 1, tzinfo=timezone.utc)  # `license extend KEY --expires 2026-12-31`


def test_an_expiry_at_midnight_utc_is_shown_as_the_last_valid_day(lab: Lab) -> None:
    key = lab.issue("time-based", features=("jokes",), expires=MIDNIGHT_2027)
    vendor_license(lab, key, catalog.add_feature, "time", expires=datetime(2026, 7, 1, tzinfo=timezone.utc))
    bot = make_bot(lab)
    done = activate(lab, bot, key)
    assert "**time-based**, valid through 2026-12-31 (213 days left)" in done.text
    status = bot.handle("status").text
    assert "valid through 2026-12-31" in status and "2027-01-01" not in status
    assert "`time` — unlocks *tell the time*, valid through 2026-06-30" in bot.handle("features").text

    vendor_license(lab, key, catalog.extend_license, datetime(2027, 7, 1, tzinfo=timezone.utc))
    lab.refresh_file(key, held(bot).device_id, bot.manager)
    refreshed = bot.handle("refresh").text
    assert "the license is now valid through 2027-06-30" in refreshed and "2027-07-01" not in refreshed

    lab.clock.set(datetime(2026, 7, 2, tzinfo=timezone.utc))
    feature = bot.handle("what time is it?")
    assert feature.data["code"] == "feature_expired"
    assert "The feature `time` was valid through 2026-06-30." in feature.text and "2026-07-01" not in feature.text
    assert "`time` — unlocks *tell the time*, expired (it was valid through 2026-06-30)" in bot.handle("features").text

    lab.clock.set(datetime(2027, 7, 2, tzinfo=timezone.utc))
    expired = bot.handle("status")
    assert expired.data["code"] == "license_expired"
    assert "The license was valid through 2027-06-30." in expired.text and "2027-07-01" not in expired.text
    joke = bot.handle("tell me a joke")
    assert "The license was valid through 2027-06-30." in joke.text and "2027-07-01" not in joke.text


def test_an_expiry_at_another_time_is_shown_with_its_time_in_utc(lab: Lab) -> None:
    bot = make_bot(lab)
    done = activate(lab, bot, lab.issue("time-based", features=("jokes",)))  # 30 days from 12:00 UTC
    assert "**time-based**, expires 2026-07-01 12:00 UTC (30 days left)" in done.text
    lab.clock.advance(days=31)
    assert "The license expired on 2026-07-01 12:00 UTC." in bot.handle("tell me a joke").text


def test_no_uses_left_is_not_just_you_are_licensed(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("consumption", features=("wordcount",), max_consumptions=1))
    assert bot.handle("count words in one").ok
    status = bot.handle("am I licensed?")
    assert status.text.startswith("**You are licensed, but no uses are left.**")
    assert "**You are licensed.**" not in status.text
    assert "**What to do:** Ask your vendor to raise the limit or reset the consumption" in status.text
    assert status.suggestions[0] == "refresh" and status.data == {"licensed": True, "uses_left": 0}
    assert bot.status().summary.startswith("licensed, but no uses left · consumption")
    greeting = make_bot(lab).greeting()
    assert "tell me a joke" not in greeting.suggestions and "Try **tell me a joke**" not in greeting.text


def test_the_device_id_is_shown_where_the_vendor_needs_it(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    bot = make_bot(lab)
    activate(lab, bot, key)
    device = f"`{held(bot).device_id}`"
    assert f"- This device's activation id: {device}" in bot.handle("status").text
    assert f"This device's activation id: {device}" in bot.handle("features").text
    missing = bot.handle("refresh")  # no refresh file yet: say what the vendor needs to make one
    assert not missing.ok and device in missing.text
    refused = bot.handle("roll a die")  # "ask your vendor for a refresh file that adds it"
    assert refused.data["code"] == "feature_not_found" and device in refused.text
    assert device in bot.handle("help offline").text


def test_a_refresh_file_for_another_device_says_so_once(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",), max_activations=2)
    bot_a, bot_b = make_bot(lab, "device-A"), make_bot(lab, "device-B")
    activate(lab, bot_a, key)
    activate(lab, bot_b, key)
    lab.refresh_file(key, held(bot_a).device_id, bot_b.manager)  # made for A, put on B's desktop
    reply = bot_b.handle("refresh")
    assert reply.data["code"] == "device_mismatch"
    assert reply.text.count("different device") == 1 and "made for" in reply.text
    assert "SignatureMismatch" not in reply.text and f"`{held(bot_b).device_id}`" in reply.text


@pytest.mark.parametrize(("features", "ending"), [
    (("jokes", "dice", "time", "convert"), "A refresh file from your vendor can add it."),
    (("jokes", "dice", "time"), "A refresh file from your vendor can add them."),
])
def test_missing_features_are_it_or_them(lab: Lab, features: tuple[str, ...], ending: str) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=features))
    assert ending in bot.handle("features").text


def test_help_problems_lists_every_reason_a_request_is_refused(lab: Lab) -> None:
    text = make_bot(lab).handle("help problems").text
    for code in ("max_activations_reached", "free_tier", "offline_not_supported", "request_replayed",
                 "device_disabled"):
        assert f"(`{code}`)" in text, code
    assert "**That request was already answered** (`request_replayed`)" in text
    assert "**This device was disabled by the vendor** (`device_disabled`)" in text


def test_request_replayed_points_to_the_first_response(lab: Lab) -> None:
    text = make_bot(lab).handle("request_replayed").text
    assert "If you still have the `ls_activation.lic` the portal gave you the first time, use that" in text


def test_the_local_check_lists_server_contact_only_for_a_license_that_went_online(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    offline = bot.handle("local check").text
    assert "Checked: vendor signature" in offline and "clock." in offline and "server contact" not in offline
    monkeypatch.setattr(License, "last_server_contact", property(lambda self: lab.clock()))
    assert "clock, server contact." in bot.handle("local check").text


def test_yes_to_did_you_mean_asks_again_with_the_options(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    assert bot.handle("deactivate").data["awaiting"] == "clarify"
    again = bot.handle("yes")
    assert "didn't understand" not in again.text and again.data["awaiting"] == "clarify"
    assert "Which one?" in again.text and "1. **deactivate online**" in again.text
    assert "2. **deactivate offline**" in again.text
    assert again.suggestions == ("deactivate online", "deactivate offline")
    chosen = bot.handle("2")
    assert chosen.intent == "deactivate_offline" and chosen.data["awaiting"] == "confirm"
    assert bot.handle("no").intent == CANCEL and bot.status().licensed
    bot.handle("activate")
    assert bot.handle("no").text == "OK, never mind."


def test_why_after_a_refusal_explains_it_again(lab: Lab) -> None:
    bot = make_bot(lab)
    nothing = bot.handle("why?")
    assert nothing.ok and "nothing to explain" in nothing.text and "didn't understand" not in nothing.text
    refused = bot.handle("tell me a joke")
    assert not refused.ok and refused.data["code"] == "no_license"
    why = bot.handle("why?")
    assert why.ok and why.intent == "help" and why.data == {"topic": "why", "code": "no_license"}
    assert why.text.startswith("You said `tell me a joke`, and it did not work:")
    assert "**What happened:**" in why.text and "**How to fix it:**" in why.text and "activate offline" in why.text
    assert bot.handle("but why?").data["code"] == "no_license"  # asking again still explains it
    assert bot.handle("help").ok
    assert bot.handle("how come?").data["code"] == "no_license"  # help in between changes nothing
    bot.handle("what time is it?")  # refused too: now that one is the last problem
    assert "You said `what time is it?`" in bot.handle("why").text
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    assert bot.handle("tell me a joke").ok
    assert "nothing to explain" in bot.handle("why?").text  # the joke worked: nothing failed since


def test_why_explains_a_failed_status_and_a_failed_command(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual", features=("jokes",)))
    lab.clock.advance(days=2)
    bot.handle("local check")
    lab.clock.advance(days=-1)
    assert bot.handle("status").data["code"] == "clock_tampered"
    why = bot.handle("why?")
    assert why.data["code"] == "clock_tampered" and "Set the system date and time" in why.text
    lab.clock.advance(days=1)
    assert not bot.handle("refresh").ok  # no refresh file: a problem of its own
    assert bot.handle("why?").data["code"] == "file_not_found"


# -- the demo command is runnable as printed ---------------------------------------------------------------


@pytest.fixture
def fake_venv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("")
    script = bin_dir / "licensing-portal"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    return script


def test_the_portal_command_is_the_bare_name_when_the_shell_finds_this_script(
        fake_venv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_venv.parent}{os.pathsep}/usr/bin")
    assert detect_portal_program() == "licensing-portal"


def test_the_portal_command_is_the_scripts_path_when_the_venv_is_not_activated(
        fake_venv: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert detect_portal_program() == str(fake_venv)
    other = tmp_path / "elsewhere"  # another licensing-portal first on PATH: not this one
    other.mkdir()
    (other / "licensing-portal").write_text("#!/bin/sh\n")
    (other / "licensing-portal").chmod(0o755)
    monkeypatch.setenv("PATH", str(other))
    assert detect_portal_program() == str(fake_venv)
    demo = DemoContext(tmp_path / "vendor dir", ())
    assert demo.portal_command() == f"{fake_venv} --data '{tmp_path / 'vendor dir'}' respond <path to ls_activation.req>"


def test_without_the_script_the_portal_command_runs_the_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert detect_portal_program() == f"{tmp_path / 'python'} -m licensing.issuing.cli"


def test_the_portal_program_can_be_given(lab: Lab, tmp_path: Path) -> None:
    demo = DemoContext(tmp_path, (), portal_program="licensing-portal")
    bot = Bot(lab.manager(), demo=demo, debug=True)
    assert f"`licensing-portal --data {tmp_path} respond <path to ls_activation.req>`" in bot.greeting().text


def test_help_while_asked_which_one_is_help_not_an_answer(lab: Lab) -> None:
    bot = make_bot(lab)
    activate(lab, bot, lab.issue("perpetual"))
    bot.handle("deactivate")
    reply = bot.handle("help offline")
    assert reply.intent == "help" and "Offline activation, step by step" in reply.text
