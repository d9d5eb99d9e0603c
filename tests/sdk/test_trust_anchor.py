"""The configuration file is the trust anchor: an application can pin it in code.

The attack: add your own Ed25519 key to the shipped ``licensing.json`` and sign yourself a
license. Without a pin the SDK cannot tell (the file *is* what it trusts); with a pin given in
code — the vendor keys, or the fingerprint of the whole file — the documented loading path
refuses the edited file with a typed error.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from licensing import Configuration, Feature, LicenseError, LicenseID, LicenseManager, LicenseTerms
from licensing.wire import ACTIVATION_RESPONSE, crypto, encode_signed, format_time

from support.lab import Lab

ATTACKER_KID = "attacker-key"


def _shipped(lab: Lab, tmp_path: Path) -> Path:
    """The configuration file the vendor exported and the application ships."""
    return lab.vendor.client_configuration("chatbot").write_file(tmp_path / "licensing.json")


def _edited(shipped: Path, attacker: crypto.Ed25519PrivateKey, **changes: Any) -> Path:
    data = json.loads(shipped.read_text())
    data["trusted_keys"][ATTACKER_KID] = crypto.b64encode(crypto.public_bytes(attacker.public_key()))
    data.update(changes)
    edited = shipped.with_name("edited.json")
    edited.write_text(json.dumps(data, indent=2))
    return edited


def _self_signed_license(manager: LicenseManager, attacker: crypto.Ed25519PrivateKey) -> Path:
    """Make a request as the device does, and answer it with the attacker's key: a forged license."""
    request = manager.create_offline_activation_file(LicenseID.from_key("AAAA-BBBB-CCCC-DDDD"))
    asked = json.loads(base64.b64decode(json.loads(request.read_text())["payload"]))
    terms = LicenseTerms(license_id=1, key="AAAA-BBBB-CCCC-DDDD", user=None, license_type="perpetual", enabled=True,
                         start=None, expires=None, max_activations=1, total_activations=1, max_consumptions=None,
                         total_consumptions=0, allow_overages=False, max_overages=0,
                         features=(Feature("jokes", "Jokes"),), revision=1)
    body = {key: asked[key] for key in ("product", "request_id", "nonce", "hardware_id", "device_key")}
    body.update({"device_id": "dev_forged", "issued_at": format_time(manager.now()), "license": terms.to_dict()})
    if "hardware_components" in asked:
        body["hardware_components"] = asked["hardware_components"]
    forged = request.with_name("ls_activation.lic")
    forged.write_bytes(encode_signed(ACTIVATION_RESPONSE, body, attacker, ATTACKER_KID))
    return forged


def _local_options(lab: Lab) -> dict[str, Any]:
    folder = lab.root / "device-A"
    (folder / "desktop").mkdir(parents=True, exist_ok=True)
    return {"data_dir": folder / "data", "request_dir": folder / "desktop", "hardware_id": "device-A",
            "clock": lab.clock}


def test_without_a_pin_an_edited_file_is_the_trust_anchor(lab: Lab, tmp_path: Path) -> None:
    """What the README warns about: an application that pins nothing trusts whatever the file says."""
    attacker = crypto.Ed25519PrivateKey.generate()
    manager = LicenseManager(Configuration.from_file(_edited(_shipped(lab, tmp_path), attacker), **_local_options(lab)))
    assert manager.activate_license_offline(_self_signed_license(manager, attacker)).has_feature("jokes")


def _vendor_keys(shipped: Path) -> dict[str, str]:
    return dict(json.loads(shipped.read_text())["trusted_keys"])


@pytest.mark.parametrize("pin", ["pinned_keys", "expected_fingerprint"])
def test_a_pinned_application_refuses_the_edited_file(lab: Lab, tmp_path: Path, pin: str) -> None:
    shipped = _shipped(lab, tmp_path)
    pins: dict[str, Any] = ({"pinned_keys": _vendor_keys(shipped)} if pin == "pinned_keys"
                            else {"expected_fingerprint": Configuration.from_file(shipped).fingerprint})
    attacker = crypto.Ed25519PrivateKey.generate()
    with pytest.raises(LicenseError) as caught:
        Configuration.from_file(_edited(shipped, attacker), **pins, **_local_options(lab))
    assert caught.value.code == "configuration_tampered"
    assert "changed" in caught.value.message and caught.value.hint
    # The genuine file loads, and its licenses work.
    manager = LicenseManager(Configuration.from_file(shipped, **pins, **_local_options(lab)))
    assert lab.activate(manager, lab.issue(features=("jokes",))).has_feature("jokes")


def test_pinned_keys_are_also_what_the_sdk_trusts(lab: Lab, tmp_path: Path) -> None:
    """A file that drops a pinned key (rotation) still loads; one that swaps a key's bytes does not."""
    shipped = _shipped(lab, tmp_path)
    keys = _vendor_keys(shipped)
    extra_kid = "old-rotated-key"
    pinned = {**keys, extra_kid: crypto.b64encode(crypto.public_bytes(crypto.Ed25519PrivateKey.generate().public_key()))}
    assert set(Configuration.from_file(shipped, pinned_keys=pinned).trusted_keys) == set(keys)
    data = json.loads(shipped.read_text())
    kid = next(iter(keys))
    data["trusted_keys"][kid] = pinned[extra_kid]  # the right name, another key
    swapped = tmp_path / "swapped.json"
    swapped.write_text(json.dumps(data))
    with pytest.raises(LicenseError) as caught:
        Configuration.from_file(swapped, pinned_keys=pinned)
    assert caught.value.code == "configuration_tampered"


def test_the_fingerprint_covers_the_whole_product_part_but_not_the_layout(lab: Lab, tmp_path: Path) -> None:
    shipped = _shipped(lab, tmp_path)
    fingerprint = Configuration.from_file(shipped).fingerprint
    assert fingerprint.startswith("sha256:") and len(fingerprint) == len("sha256:") + 64
    data = json.loads(shipped.read_text())
    relaid = tmp_path / "relaid.json"
    relaid.write_text(json.dumps(data, indent=None, sort_keys=False))
    assert Configuration.from_file(relaid, expected_fingerprint=fingerprint).fingerprint == fingerprint
    for field, value in (("server_url", "http://127.0.0.1:9"), ("api_key", "x" * 20),
                         ("encryption_key", crypto.b64encode(crypto.public_bytes(
                             crypto.X25519PrivateKey.generate().public_key())))):
        changed = tmp_path / f"{field}.json"
        changed.write_text(json.dumps({**data, field: value}))
        with pytest.raises(LicenseError) as caught:
            Configuration.from_file(changed, expected_fingerprint=fingerprint)
        assert caught.value.code == "configuration_tampered", field


@pytest.mark.parametrize("bad", ["", "sha256:xyz", "md5:" + "0" * 32, 42])
def test_a_malformed_pin_is_a_configuration_error(lab: Lab, tmp_path: Path, bad: object) -> None:
    with pytest.raises(LicenseError) as caught:
        Configuration.from_file(_shipped(lab, tmp_path), expected_fingerprint=bad)
    assert caught.value.code == "configuration_invalid"
