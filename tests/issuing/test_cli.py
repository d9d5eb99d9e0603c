"""``licensing-portal``: the vendor CLI, driven in-process (``main([...])``) and as a real console script.

Devices are real SDK installations in temporary folders (fixed hardware ids); the vendor is a real
workspace created by ``init``. Nothing here depends on a fake clock: dates are far in the past or
future, so the system clock is fine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from licensing import Configuration, LicenseID, LicenseManager, VendorInputError
from licensing.issuing import catalog
from licensing.issuing.cli import main
from licensing.issuing.dates import parse_date, parse_start_date
from licensing.issuing.demo import DEMO_FEATURES, DEMO_PASSWORD, DEMO_USER, build_demo
from licensing.issuing.workspace import DATA_ENV, VendorWorkspace

# -- helpers -----------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return Result(code, captured.out, captured.err)


class Vendor:
    """A vendor made through the CLI, plus SDK devices that talk to it through files."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.data = root / "vendor"
        self.capsys = capsys
        init = self.cli("init", json_output=True)
        assert init.code == 0 and init.json["ok"] is True
        assert self.cli("product", "add", "chatbot", "--name", "Chatbot").code == 0
        self._configs: dict[str, Path] = {}

    def cli(self, *args: str, json_output: bool = False) -> Result:
        return run(self.capsys, "--data", str(self.data), *(["--json"] if json_output else []), *args)

    def ok(self, *args: str) -> dict:
        result = self.cli(*args, json_output=True)
        assert result.code == 0, result.out + result.err
        data = result.json
        assert data["ok"] is True
        return data

    def refused(self, *args: str) -> dict:
        """Run a command expected to be refused: exit 1, one JSON object with ok=false."""
        result = self.cli(*args, json_output=True)
        assert result.code == 1, result.out + result.err
        data = result.json
        assert data["ok"] is False and data["message"] and data["hint"]
        return data

    def issue(self, *args: str, license_type: str = "perpetual", product: str = "chatbot") -> str:
        data = self.ok("license", "issue", "--product", product, "--type", license_type, *args)
        return data["key"] or data["user"]

    def password_file(self, password: str) -> str:
        """A file holding ``password`` (what a script passes as ``--password-file``)."""
        path = self.root / f"password-{len(list(self.root.glob('password-*')))}.txt"
        path.write_text(password + "\n")
        path.chmod(0o600)
        return str(path)

    def config_file(self, product: str = "chatbot") -> Path:
        if product not in self._configs:
            data = self.ok("product", "export-config", product, "-o", str(self.root / f"{product}.json"))
            self._configs[product] = Path(data["path"])
        return self._configs[product]

    def config(self, device: str = "device-A", product: str = "chatbot", **overrides: object) -> Configuration:
        folder = self.root / "devices" / device
        (folder / "desktop").mkdir(parents=True, exist_ok=True)
        return Configuration.from_file(self.config_file(product), data_dir=folder / "data",
                                       request_dir=folder / "desktop", hardware_id=device, **overrides)

    def manager(self, device: str = "device-A", **overrides: object) -> LicenseManager:
        return LicenseManager(self.config(device, **overrides))

    def request(self, manager: LicenseManager, key: str, password: str | None = None) -> Path:
        license_id = LicenseID.from_user(key, password) if password is not None else LicenseID.from_key(key)
        return manager.create_offline_activation_file(license_id)

    def activate(self, manager: LicenseManager, key: str, password: str | None = None):
        answer = self.ok("respond", str(self.request(manager, key, password)))
        return manager.activate_license_offline(answer["path"])

    def refuse_request(self, manager: LicenseManager, key: str, password: str | None = None) -> str:
        return self.refused("respond", str(self.request(manager, key, password)))["code"]


@pytest.fixture
def vendor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Vendor:
    return Vendor(tmp_path, capsys)


# -- the whole offline round trip --------------------------------------------------------------


def test_offline_round_trip_through_cli_and_sdk(vendor: Vendor, capsys) -> None:
    key = vendor.issue("--features", "jokes,dice", "--max-activations", "2", "--customer", "ACME")
    config_path = vendor.config_file()
    assert json.loads(config_path.read_text())["product"] == "chatbot"

    manager = vendor.manager("device-A")
    request = vendor.request(manager, key)
    assert request.name == "ls_activation.req"

    human = vendor.cli("respond", str(request))
    assert human.code == 0, human.err
    response = request.parent / "ls_activation.lic"
    assert str(response) in human.out and key in human.out and "1 / 2" in human.out

    license = manager.activate_license_offline()  # the default path: ls_activation.lic on the "desktop"
    assert license.key == key
    assert license.local_check().ok
    assert {f.code for f in license.features()} == {"jokes", "dice"}
    device_id = license.device_id

    changed = vendor.ok("license", "add-feature", key, "convert", "--name", "Unit conversion")
    assert "convert" in [f["code"] for f in changed["license"]["features"]]

    listing = vendor.cli("device", "list", "--license", key)
    assert listing.code == 0 and device_id in listing.out and "1 / 2" in listing.out
    devices = vendor.ok("device", "list", "--license", key)["devices"]
    assert [(d["id"], d["active"], d["enabled"]) for d in devices] == [(device_id, True, True)]

    refreshed = vendor.ok("refresh", "--license", key, "--device", device_id, "-o", str(request.parent))
    assert refreshed["path"] == str(request.parent / "license_refresh.lic")
    license.update_offline()
    assert license.has_feature("convert") and license.local_check().ok

    deactivation = license.deactivate_offline()
    assert deactivation.name == "ls_deactivation.req"
    receipt = vendor.cli("respond", str(deactivation))
    assert receipt.code == 0 and "Deactivation receipt" in receipt.out and "0 / 2" in receipt.out
    shown = vendor.ok("license", "show", key)["license"]
    assert shown["total_activations"] == 0 and shown["devices"][0]["active"] is False

    listing = vendor.cli("device", "list", "--license", key)
    assert "0 / 2" in listing.out
    row = next(line for line in listing.out.splitlines() if line.startswith(device_id))
    assert row.split()[2:4] == ["no", "yes"]  # ACTIVE no, ENABLED yes


def test_deactivation_json_receipt_books_consumption(vendor: Vendor) -> None:
    key = vendor.issue("--max-consumptions", "20", "--features", "wordcount", license_type="consumption")
    license = vendor.activate(vendor.manager(), key)
    license.add_local_consumption(3)
    data = vendor.ok("respond", str(license.deactivate_offline()))
    assert data["receipt"]["consumptions_booked"] == 3
    assert data["receipt"]["license"] == key and data["receipt"]["total_activations"] == 0
    shown = vendor.ok("license", "show", key)["license"]
    assert shown["total_consumptions"] == 3 and shown["devices"][0]["booked_consumptions"] == 3
    human = vendor.cli("license", "show", key)
    assert "3 / 20" in human.out

    reset = vendor.ok("license", "reset-consumption", key)["license"]
    assert reset["total_consumptions"] == 0


def test_refresh_extends_and_resets_consumption(vendor: Vendor, tmp_path: Path, monkeypatch) -> None:
    key = vendor.issue("--max-consumptions", "5", license_type="consumption")
    license = vendor.activate(vendor.manager(), key)
    license.add_local_consumption(2)
    vendor.ok("license", "extend", key, "--expires", "2099-12-31")
    monkeypatch.chdir(tmp_path)
    data = vendor.ok("refresh", "--license", key, "--device", license.device_id, "--reset-consumption")
    assert data["path"] == str(tmp_path / "license_refresh.lic")  # default: ./license_refresh.lic
    license.update_offline(data["path"])
    assert license.local_consumptions == 0
    assert license.expires == datetime(2100, 1, 1, tzinfo=timezone.utc)



def test_respond_answers_a_devices_own_refresh_request(vendor: Vendor) -> None:
    """The device's license_refresh.req (the portal's self-service page answers it too) works here."""
    key = vendor.issue("--features", "jokes")
    license = vendor.activate(vendor.manager(), key)
    vendor.ok("license", "add-feature", key, "dice")
    request = license.create_refresh_request()
    human = vendor.cli("respond", str(request))
    assert human.code == 0, human.err
    assert f"Wrote the refresh file to {request.parent / 'license_refresh.lic'}" in human.out
    data = vendor.ok("respond", str(request), "-o", str(request.parent / "again.lic"))
    assert data == {"ok": True, "kind": "refresh", "path": str(request.parent / "again.lic")}
    license.update_offline()
    assert license.has_feature("dice") and license.local_check().ok

def test_response_to_an_explicit_output_folder_and_file(vendor: Vendor, tmp_path: Path) -> None:
    key = vendor.issue("--max-activations", "3")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    manager = vendor.manager("device-A")
    data = vendor.ok("respond", str(vendor.request(manager, key)), "-o", str(outbox))
    assert data["path"] == str(outbox / "ls_activation.lic") and data["license"] == key
    assert data["device_id"].startswith("dev_")
    manager.activate_license_offline(data["path"])

    other = vendor.manager("device-B")
    named = tmp_path / "answers" / "for-b.lic"
    data = vendor.ok("respond", str(vendor.request(other, key)), "-o", str(named))
    assert data["path"] == str(named) and data["total_activations"] == 2
    assert other.activate_license_offline(named).local_check().ok


# -- refusals: stable codes, exit 1 ------------------------------------------------------------


def test_max_activations_reached(vendor: Vendor) -> None:
    key = vendor.issue("--max-activations", "1")
    vendor.activate(vendor.manager("device-A"), key)
    assert vendor.refuse_request(vendor.manager("device-B"), key) == "max_activations_reached"
    vendor.ok("license", "set-max-activations", key, "2")
    assert vendor.activate(vendor.manager("device-B"), key).local_check().ok


def test_max_activations_human_output(vendor: Vendor) -> None:
    key = vendor.issue()
    vendor.activate(vendor.manager("device-A"), key)
    result = vendor.cli("respond", str(vendor.request(vendor.manager("device-B"), key)))
    assert result.code == 1 and result.out == ""
    assert "error: This license is already active on 1 of its 1" in result.err
    assert "hint: " in result.err and "(code: max_activations_reached)" in result.err


def test_device_reset_frees_the_activation(vendor: Vendor) -> None:
    key = vendor.issue()
    device_id = vendor.activate(vendor.manager("device-A"), key).device_id
    data = vendor.ok("device", "reset", device_id)
    assert data["device"]["active"] is False and data["total_activations"] == 0
    assert vendor.activate(vendor.manager("device-B"), key).local_check().ok


def test_license_expired_then_extended(vendor: Vendor) -> None:
    key = vendor.issue("--expires", "2020-01-31", license_type="time-based")
    shown = vendor.ok("license", "show", key)["license"]
    assert shown["expires"] == "2020-02-01T00:00:00.000000Z" and shown["status"] == "expired"
    assert vendor.refuse_request(vendor.manager(), key) == "license_expired"
    vendor.ok("license", "extend", key, "--expires", "2099-06-30T12:00:00+02:00")
    assert vendor.activate(vendor.manager(), key).expires == datetime(2099, 6, 30, 10, tzinfo=timezone.utc)


def test_license_disabled_then_enabled(vendor: Vendor) -> None:
    key = vendor.issue("--disabled")
    assert vendor.refuse_request(vendor.manager(), key) == "license_disabled"
    assert vendor.ok("license", "enable", key)["license"]["enabled"] is True
    assert vendor.activate(vendor.manager(), key).local_check().ok
    other = vendor.issue()
    vendor.ok("license", "disable", other)
    assert vendor.refuse_request(vendor.manager("device-B"), other) == "license_disabled"


def test_invalid_credentials_wrong_key(vendor: Vendor) -> None:
    vendor.issue()
    assert vendor.refuse_request(vendor.manager(), "AAAA-BBBB-CCCC-DDDD") == "invalid_credentials"


def test_user_based_license(vendor: Vendor) -> None:
    data = vendor.ok("license", "issue", "--product", "chatbot", "--type", "perpetual",
                     "--user", "ann@example.com", "--password-file", vendor.password_file("right"),
                     "--features", "jokes")
    assert data["key"] is None and data["user"] == "ann@example.com"
    assert vendor.refuse_request(vendor.manager("device-A"), "ann@example.com", "wrong") == "invalid_credentials"
    license = vendor.activate(vendor.manager("device-B"), "ann@example.com", "right")
    assert license.user == "ann@example.com" and license.has_feature("jokes")
    # the user name names the license in every command
    assert vendor.ok("license", "show", "ann@example.com")["license"]["total_activations"] == 1
    assert vendor.ok("device", "list", "--license", "ann@example.com")["devices"][0]["id"] == license.device_id


def test_product_configuration_refusals(vendor: Vendor) -> None:
    key = vendor.issue("--max-activations", "5")
    good = vendor.config("device-A")
    wrong_product = replace(good, product="not-chatbot")
    wrong_api = good.with_options(api_key="not-the-api-key")
    wrong_shared = good.with_options(shared_key="not-the-shared-key")
    for config in (wrong_product, wrong_api, wrong_shared):
        assert vendor.refuse_request(LicenseManager(config), key) == "product_configuration"
    # a product that exists, but whose keys the app does not have
    vendor.ok("product", "add", "other")
    other = replace(good, product="other")
    assert vendor.refuse_request(LicenseManager(other), key) == "product_configuration"


def test_free_tier(vendor: Vendor) -> None:
    assert vendor.ok("product", "add", "trial", "--free-tier")["product"]["free_tier"] is True
    key = vendor.issue(product="trial")
    assert vendor.refuse_request(vendor.manager("device-A", product="trial"), key) == "free_tier"


def test_subscription_is_online_only(vendor: Vendor) -> None:
    key = vendor.issue(license_type="subscription")
    assert vendor.refuse_request(vendor.manager(), key) == "offline_not_supported"


def test_the_same_request_again_gets_the_same_answer_until_its_activation_ends(vendor: Vendor) -> None:
    key = vendor.issue("--max-activations", "3")
    request = vendor.request(vendor.manager(), key)
    first = vendor.ok("respond", str(request))
    response = Path(first["path"]).read_bytes()
    assert first["first_answered_at"] is None and first["total_activations"] == 1
    again = vendor.cli("respond", str(request))
    assert again.code == 0 and "already answered" in again.out and "nothing was counted twice" in again.out
    repeated = vendor.ok("respond", str(request))
    assert repeated["first_answered_at"] is not None
    assert (repeated["device_id"], repeated["total_activations"]) == (first["device_id"], 1)
    assert Path(repeated["path"]).read_bytes() == response  # the very same signed file
    assert vendor.ok("license", "show", key)["license"]["total_activations"] == 1
    vendor.ok("device", "reset", first["device_id"])
    refused = vendor.refused("respond", str(request))
    assert refused["code"] == "request_replayed" and "ended since" in refused["message"]


def test_device_disabled(vendor: Vendor) -> None:
    key = vendor.issue("--max-activations", "3")
    manager = vendor.manager("device-A")
    device_id = vendor.activate(manager, key).device_id
    assert vendor.ok("device", "disable", device_id)["device"]["enabled"] is False
    assert vendor.refuse_request(manager, key) == "device_disabled"
    assert vendor.refused("refresh", "--license", key, "--device", device_id)["code"] == "device_disabled"
    vendor.ok("device", "enable", device_id)
    assert vendor.activate(manager, key).local_check().ok


# -- usage errors and bad input ----------------------------------------------------------------


@pytest.mark.parametrize("args, fragment", [
    (["license", "issue", "--product", "chatbot", "--type", "time-based", "--expires", "31/12/2026"], "is not a date"),
    (["license", "issue", "--product", "chatbot", "--type", "time-based", "--expires", "2026-02-30"],
     "not a real calendar date"),
    (["license", "issue", "--product", "chatbot", "--type", "time-based", "--expires", "2026-12-31T10:00"],
     "no time zone"),
    (["license", "extend", "AAAA-BBBB-CCCC-DDDD", "--expires", "tomorrow"], "is not a date"),
    (["license", "issue", "--product", "chatbot", "--type", "lifetime"], "invalid choice: 'lifetime'"),
    (["license", "issue", "--type", "perpetual"], "the following arguments are required: --product"),
    (["license", "extend", "AAAA-BBBB-CCCC-DDDD"], "required: --expires"),
    (["license", "set-max-activations", "AAAA-BBBB-CCCC-DDDD", "many"], "invalid int value"),
    (["product", "export-config", "chatbot"], "required: -o/--output"),
    (["device", "list"], "required: --license"),
    (["respond"], "required: FILE.req"),
    (["license"], "required: COMMAND"),
    (["frobnicate"], "invalid choice"),
    ([], "required: COMMAND"),
])
def test_usage_errors_exit_2_with_a_clear_message(vendor: Vendor, args: list[str], fragment: str) -> None:
    result = vendor.cli(*args)
    assert result.code == 2
    assert fragment in result.err and "usage:" in result.err and result.out == ""


def test_usage_error_in_json_mode_is_one_json_object(vendor: Vendor) -> None:
    result = vendor.cli("license", "issue", "--product", "chatbot", "--type", "time-based", "--expires", "soon",
                        json_output=True)
    assert result.code == 2
    data = result.json
    assert data["ok"] is False and data["code"] == "invalid_argument" and "is not a date" in data["message"]


def test_vendor_input_refusals(vendor: Vendor) -> None:
    assert vendor.refused("license", "issue", "--product", "chatbot", "--type", "time-based")["code"] == "vendor_input"
    assert vendor.refused("license", "issue", "--product", "chatbot", "--type", "perpetual",
                          "--user", "x@example.com", "--password-file", vendor.password_file(""))["code"] == "vendor_input"
    assert vendor.refused("product", "add", "chatbot")["code"] == "vendor_input"
    assert vendor.refused("product", "add", "bad code!")["code"] == "vendor_input"
    key = vendor.issue()
    assert vendor.refused("license", "set-max-activations", key, "0")["code"] == "vendor_input"
    assert vendor.refused("license", "issue", "--product", "chatbot", "--type", "perpetual",
                          "--features", "ok,not ok")["code"] == "vendor_input"


def test_things_that_do_not_exist(vendor: Vendor) -> None:
    assert vendor.refused("license", "show", "AAAA-BBBB-CCCC-DDDD")["code"] == "license_not_found"
    assert vendor.refused("license", "disable", "nobody@example.com")["code"] == "license_not_found"
    assert vendor.refused("product", "show", "nope")["code"] == "product_not_found"
    assert vendor.refused("product", "export-config", "nope", "-o", "x.json")["code"] == "product_not_found"
    assert vendor.refused("license", "list", "--product", "nope")["code"] == "product_not_found"
    assert vendor.refused("license", "issue", "--product", "nope", "--type", "perpetual")["code"] == "product_not_found"
    assert vendor.refused("device", "disable", "dev_0000000000000000")["code"] == "device_not_found"
    key = vendor.issue()
    assert vendor.refused("refresh", "--license", key, "--device", "dev_nope")["code"] == "device_not_found"
    result = vendor.cli("device", "reset", "dev_nope")
    assert result.code == 1 and "(code: device_not_found)" in result.err


def test_respond_on_bad_files(vendor: Vendor, tmp_path: Path) -> None:
    assert vendor.refused("respond", str(tmp_path / "missing.req"))["code"] == "file_not_found"
    assert vendor.refused("respond", str(tmp_path))["code"] == "file_not_found"  # a folder
    empty = tmp_path / "empty.req"
    empty.write_bytes(b"")
    assert vendor.refused("respond", str(empty))["code"] == "file_malformed"
    binary = tmp_path / "binary.req"
    binary.write_bytes(bytes(range(256)) * 4)
    assert vendor.refused("respond", str(binary))["code"] == "file_malformed"
    huge = tmp_path / "huge.req"
    huge.write_bytes(b"x" * (65 * 1024))
    assert vendor.refused("respond", str(huge))["code"] == "file_too_large"

    key = vendor.issue()
    manager = vendor.manager()
    request = vendor.request(manager, key)
    tampered = tmp_path / "tampered.req"
    tampered.write_bytes(request.read_bytes().replace(b'"format"', b'"format" '))
    assert vendor.refused("respond", str(tampered))["code"] == "file_malformed"

    response = Path(vendor.ok("respond", str(request))["path"])
    result = vendor.refused("respond", str(response))
    assert result["code"] == "wrong_file_type"
    human = vendor.cli("respond", str(response))
    assert human.code == 1 and "error: This is a file the portal gives out, not a request." in human.err


def test_respond_refuses_an_unwritable_output_before_answering(vendor: Vendor, tmp_path: Path) -> None:
    key = vendor.issue()
    request = vendor.request(vendor.manager(), key)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert vendor.refused("respond", str(request), "-o", str(blocker / "out.lic"))["code"] == "storage_io"
    # nothing was answered, so the same request still works
    assert vendor.ok("respond", str(request))["total_activations"] == 1


def test_deactivation_needs_no_writable_output(vendor: Vendor, tmp_path: Path) -> None:
    """Only an activation writes a file: a deactivation request on read-only media is still answered."""
    key = vendor.issue()
    license = vendor.activate(vendor.manager(), key)
    request = license.deactivate_offline(tmp_path / "usb")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    data = vendor.ok("respond", str(request), "-o", str(blocker / "out.lic"))
    assert data["kind"] == "deactivation" and data["receipt"]["total_activations"] == 0


def test_missing_vendor_says_to_run_init(tmp_path: Path, capsys) -> None:
    result = run(capsys, "--data", str(tmp_path / "nowhere"), "license", "list")
    assert result.code == 1
    assert "init" in result.err and "(code: configuration_invalid)" in result.err
    result = run(capsys, "--data", str(tmp_path / "nowhere"), "--json", "product", "list")
    assert result.code == 1 and result.json["code"] == "configuration_invalid"


def test_init_twice_keeps_the_keys(vendor: Vendor) -> None:
    kid = (vendor.data / "keys" / "keys.json").read_text()
    assert vendor.refused("init")["code"] == "configuration_invalid"
    assert (vendor.data / "keys" / "keys.json").read_text() == kid


def test_data_folder_from_the_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "env-vendor"))
    result = run(capsys, "--json", "init")
    assert result.code == 0 and result.json["data"] == str(tmp_path / "env-vendor")
    assert len(result.json["kid"]) > 0
    assert run(capsys, "product", "add", "app").code == 0
    assert "app" in run(capsys, "product", "list").out


def test_global_options_also_after_the_command(vendor: Vendor, capsys) -> None:
    result = run(capsys, "product", "list", "--data", str(vendor.data), "--json")
    assert result.code == 0 and [p["code"] for p in result.json["products"]] == ["chatbot"]


def test_listings_human_and_json(vendor: Vendor) -> None:
    perpetual = vendor.issue("--features", "jokes", "--customer", "ACME")
    timed = vendor.issue("--expires", "2099-01-31", "--start", "2020-01-01", license_type="time-based")
    vendor.issue("--user", "bob@example.com", "--password-file", vendor.password_file("pw"))
    listing = vendor.cli("license", "list")
    assert listing.code == 0
    assert perpetual in listing.out and timed in listing.out and "user bob@example.com" in listing.out
    assert "ACME" in listing.out and "2099-02-01 00:00" in listing.out
    licenses = vendor.ok("license", "list", "--product", "chatbot")["licenses"]
    assert [lic["type"] for lic in licenses] == ["perpetual", "time-based", "perpetual"]
    assert licenses[1]["start"] == "2020-01-01T00:00:00.000000Z"
    shown = vendor.cli("license", "show", timed)
    assert "valid through 2099-01-31" in shown.out and "2020-01-01 00:00 UTC" in shown.out
    products = vendor.cli("product", "show", "chatbot")
    assert "api key" in products.out and "licenses    3" in products.out
    assert vendor.ok("product", "list")["products"][0]["licenses"] == 3


def test_export_config_with_server_url_into_a_folder(vendor: Vendor, tmp_path: Path) -> None:
    folder = tmp_path / "dist"
    folder.mkdir()
    data = vendor.ok("product", "export-config", "chatbot", "-o", str(folder), "--server-url", "https://lic.example")
    assert data["path"] == str(folder / "chatbot-config.json")
    assert Configuration.from_file(data["path"]).server_url == "https://lic.example"


def test_export_config_gives_the_fingerprint_to_pin(vendor: Vendor, tmp_path: Path) -> None:
    data = vendor.ok("product", "export-config", "chatbot", "-o", str(tmp_path / "app.json"))
    assert Configuration.from_file(data["path"], expected_fingerprint=data["fingerprint"]).product == "chatbot"
    human = vendor.cli("product", "export-config", "chatbot", "-o", str(tmp_path / "again.json"))
    assert f"expected_fingerprint={data['fingerprint']!r}" in human.out


def test_date_parsing() -> None:
    assert parse_date("2026-06-30") == datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert parse_start_date("2026-06-30") == datetime(2026, 6, 30, tzinfo=timezone.utc)
    assert parse_date("2026-06-30T12:00:00Z") == datetime(2026, 6, 30, 12, tzinfo=timezone.utc)
    assert parse_date("2026-06-30 12:00+02:00") == datetime(2026, 6, 30, 10, tzinfo=timezone.utc)
    for bad in ("", "2026", "20260630", "30.06.2026", "2026-06-31", "2026-06-30T12:00", "9999-12-31T23:59:59-23:59"):
        with pytest.raises(VendorInputError) as info:
            parse_date(bad)
        assert info.value.code == "vendor_input" and info.value.message.startswith(repr(bad)), bad


# -- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    [], ["init"], ["product"], ["product", "add"], ["product", "list"], ["product", "show"],
    ["product", "export-config"], ["license"], ["license", "issue"], ["license", "list"], ["license", "show"],
    ["license", "enable"], ["license", "disable"], ["license", "extend"], ["license", "add-feature"],
    ["license", "set-max-activations"], ["license", "reset-consumption"], ["device"], ["device", "list"],
    ["device", "disable"], ["device", "enable"], ["device", "reset"], ["respond"], ["refresh"], ["demo"],
])
def test_help(capsys, args: list[str]) -> None:
    result = run(capsys, *args, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: licensing-portal") and "examples:" in result.out


# -- demo --------------------------------------------------------------------------------------


def test_demo_builds_every_kind_and_is_idempotent(tmp_path: Path, capsys) -> None:
    data = tmp_path / "demo"
    first = run(capsys, "--data", str(data), "--json", "demo")
    assert first.code == 0, first.err
    info = first.json
    assert info["ok"] is True and info["config"] == str(data / "chatbot-config.json")
    labels = [entry["label"] for entry in info["licenses"]]
    assert labels == ["perpetual", "time-based", "consumption", "subscription", "expired", "disabled", "at-max",
                      "user-based", "floating"]
    by_label = {entry["label"]: entry for entry in info["licenses"]}
    assert by_label["user-based"] == {**by_label["user-based"], "key": None, "user": DEMO_USER, "type": "perpetual"}
    assert by_label["subscription"]["type"] == "subscription" and by_label["expired"]["type"] == "time-based"
    assert all(entry["description"] for entry in info["licenses"])

    second = run(capsys, "--data", str(data), "--json", "demo")
    assert second.code == 0 and second.json["licenses"] == info["licenses"]
    human = run(capsys, "--data", str(data), "demo")
    assert human.code == 0
    assert "Configuration.from_file(" in human.out and by_label["perpetual"]["key"] in human.out
    assert "respond" in human.out

    remembered = json.loads((data / "demo-licenses.json").read_text())
    assert remembered["licenses"]["perpetual"] == by_label["perpetual"]["key"]

    workspace = VendorWorkspace.open(data)
    try:
        with workspace.store.session() as session:
            assert len(catalog.list_licenses(session)) == 9  # nothing issued twice
            at_max = catalog.get_license(session, by_label["at-max"]["key"])
            assert catalog.active_devices(session, at_max) == 1
            perpetual = catalog.get_license(session, by_label["perpetual"]["key"])
            assert [f.code for f in perpetual.features] == sorted(DEMO_FEATURES)
            assert perpetual.max_activations == 3
            consumption = catalog.get_license(session, by_label["consumption"]["key"])
            assert (consumption.max_consumptions, consumption.max_activations) == (20, 2)
            assert sorted(f.code for f in consumption.features) == ["convert", "wordcount"]
    finally:
        workspace.close()


def test_demo_licenses_behave_as_labelled(tmp_path: Path, capsys) -> None:
    data = tmp_path / "demo"
    config_out = tmp_path / "app" / "licensing.json"
    result = run(capsys, "--data", str(data), "--json", "demo", "--config-out", str(config_out))
    assert result.code == 0 and result.json["config"] == str(config_out)
    keys = {entry["label"]: entry["key"] or entry["user"] for entry in result.json["licenses"]}

    def manager(device: str) -> LicenseManager:
        folder = tmp_path / device
        return LicenseManager(Configuration.from_file(config_out, data_dir=folder / "data",
                                                      request_dir=folder / "desktop", hardware_id=device))

    def respond(mgr: LicenseManager, label: str, password: str | None = None) -> Result:
        license_id = LicenseID.from_user(keys[label], password) if password else LicenseID.from_key(keys[label])
        request = mgr.create_offline_activation_file(license_id)
        return run(capsys, "--data", str(data), "--json", "respond", str(request))

    for label in ("perpetual", "time-based", "consumption"):
        mgr = manager(f"device-{label}")
        answer = respond(mgr, label)
        assert answer.code == 0, answer.out
        license = mgr.activate_license_offline(answer.json["path"])
        assert license.local_check().ok, label
    assert license.max_consumptions == 20 and license.has_feature("wordcount")

    for label, code in (("expired", "license_expired"), ("disabled", "license_disabled"),
                        ("at-max", "max_activations_reached"), ("subscription", "offline_not_supported"),
                        ("floating", "floating_only")):
        refused = respond(manager(f"device-{label}"), label)
        assert (refused.code, refused.json["code"]) == (1, code), label

    mgr = manager("device-user")
    assert respond(mgr, "user-based", "not-the-password").json["code"] == "invalid_credentials"
    answer = respond(mgr, "user-based", DEMO_PASSWORD)
    assert answer.code == 0
    license = mgr.activate_license_offline(answer.json["path"])
    assert license.user == DEMO_USER and all(license.has_feature(code) for code in DEMO_FEATURES)


def test_build_demo_library_call(tmp_path: Path) -> None:
    clock = lambda: datetime(2026, 6, 1, 12, tzinfo=timezone.utc)  # noqa: E731
    info = build_demo(tmp_path / "v", clock=clock)
    assert info.config_path == tmp_path / "v" / "chatbot-config.json"
    assert Configuration.from_file(info.config_path).product == "chatbot"
    again = build_demo(tmp_path / "v", clock=clock)
    assert again.licenses == info.licenses
    workspace = VendorWorkspace.open(tmp_path / "v")
    try:
        with workspace.store.session() as session:
            expired = catalog.get_license(session, info.key_of("expired"))
            assert expired.expires == clock() - timedelta(days=1)
            timed = catalog.get_license(session, info.key_of("time-based"))
            assert timed.expires == clock() + timedelta(days=30)
    finally:
        workspace.close()


# -- the real console script -------------------------------------------------------------------


def _script() -> list[str]:
    script = Path(sys.executable).parent / "licensing-portal"
    return [str(script)] if script.exists() else [sys.executable, "-m", "licensing.issuing.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[DATA_ENV] = str(tmp_path / "script-vendor")
    return env


def test_console_script_init_and_json(tmp_path: Path) -> None:
    env = _env(tmp_path)
    done = subprocess.run([*_script(), "--json", "init"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"] == str(tmp_path / "script-vendor")
    done = subprocess.run([*_script(), "--json", "product", "show", "nope"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == "product_not_found"
    assert "Traceback" not in done.stderr


def test_module_entry_point_errors_without_traceback(tmp_path: Path) -> None:
    module = [sys.executable, "-m", "licensing.issuing.cli"]
    env = _env(tmp_path)
    done = subprocess.run([*module, "license", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1 and "error:" in done.stderr and "init" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    done = subprocess.run([*module, "license", "issue", "--product", "p", "--type", "perpetual", "--expires", "x"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2 and "is not a date" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([*module, "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "respond" in done.stdout


# -- the engine itself raises typed errors for a broken vendor folder or an ambiguous name -------


def test_engine_workspace_create_on_a_file_raises_license_error(tmp_path: Path) -> None:
    from licensing import LicenseError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(LicenseError):
        VendorWorkspace.create(blocker)


def test_engine_workspace_open_on_damaged_database_raises_license_error(tmp_path: Path) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from licensing import LicenseError

    folder = tmp_path / "v"
    VendorWorkspace.create(folder).close()
    (folder / "vendor.db").write_bytes(b"this is not a database" * 100)
    for leftover in ("vendor.db-wal", "vendor.db-shm"):
        (folder / leftover).unlink(missing_ok=True)
    try:
        VendorWorkspace.open(folder).close()
    except SQLAlchemyError:
        raise AssertionError("raw SQLAlchemy error escaped") from None
    except LicenseError:
        pass


def test_engine_refresh_by_user_name_with_two_products(vendor: Vendor) -> None:
    vendor.ok("product", "add", "second")
    for product in ("chatbot", "second"):
        vendor.ok("license", "issue", "--product", product, "--type", "perpetual", "--user", "sam@example.com",
                  "--password-file", vendor.password_file("pw"))
    manager = vendor.manager("device-A", product="second")
    license = vendor.activate(manager, "sam@example.com", "pw")
    vendor.ok("refresh", "--license", "sam@example.com", "--device", license.device_id,
              "-o", str(vendor.root / "refresh.lic"))
