"""Which machine a license belongs to, and what it takes to move one.

Every "machine" here is a real data folder and a real SDK; what differs between machines is what
the SDK reads to identify them. The attacks copy a data folder to another machine and try to
make the SDK believe it is still the first one.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from licensing import Configuration, LicenseError, LicenseID, LicenseManager
from licensing.issuing import catalog

from support.lab import Lab
from support.whitebox import LICENSE_FILE, reseal, store_of

ENV = "LICENSING_HARDWARE_ID"


def _passes(config: Configuration) -> bool:
    """Does a license load and pass its local check with this configuration?"""
    try:
        license = LicenseManager(config).reload_license()
        return license is not None and license.local_check().ok
    except LicenseError:
        return False


def _copy_data(lab: Lab, source: Configuration, machine: str) -> Path:
    """Copy a machine's whole data folder to another machine's place, as a person with a USB stick would."""
    target = lab.root / machine / "data"
    shutil.copytree(source.data_dir, target)  # type: ignore[arg-type]
    (lab.root / machine / "desktop").mkdir(parents=True, exist_ok=True)
    return target


# -- 1. the environment alone never moves a license -------------------------------------------


def test_the_environment_cannot_move_a_license_to_other_machines(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's attack: copy the data folder, set the variable to the first machine's id."""
    first = lab.config("machine-A")
    lab.activate(LicenseManager(first), lab.issue())
    assert _passes(first)
    monkeypatch.setenv(ENV, "machine-A")
    for machine in ("machine-B", "machine-C"):
        data = _copy_data(lab, first, machine)
        # This machine's application pins nothing: the SDK identifies the machine itself.
        elsewhere = lab.config(machine, hardware_id=None, data_dir=data)
        assert not _passes(elsewhere), f"{ENV} moved the license to {machine}"


def test_an_application_may_opt_in_to_the_environment(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """Containers configured from outside: the application chooses to take the id from the variable."""
    monkeypatch.setenv(ENV, "container-7")
    pinned = lab.config("container", hardware_id=None, hardware_id_from_env=True)
    manager = LicenseManager(pinned)
    lab.activate(manager, lab.issue())
    assert manager.hardware_id == LicenseManager(lab.config("other", hardware_id="container-7")).hardware_id
    monkeypatch.setenv(ENV, "container-8")
    assert not _passes(pinned)  # another container id: another machine
    monkeypatch.delenv(ENV)
    assert not _passes(pinned)  # opted in but not set: the platform's own identity


# -- 2. an identity of several parts ----------------------------------------------------------

A_PARTS = {"disk": "disk-of-A", "board": "board-of-A", "firmware": "uuid-of-A"}


def _machine(lab: Lab, name: str, machine_id: str, parts: Mapping[str, str]) -> Configuration:
    provider: Callable[[], Mapping[str, str]] = lambda: dict(parts)  # noqa: E731
    return lab.config(name, hardware_id=None, hardware_id_provider=lambda: machine_id,
                      hardware_components_provider=provider)


def test_a_copied_machine_id_is_not_the_whole_identity(lab: Lab) -> None:
    """Copy the data folder *and* the machine id to another computer: its other parts give it away."""
    first = _machine(lab, "machine-A", "id-of-A", A_PARTS)
    lab.activate(LicenseManager(first), lab.issue())
    assert _passes(first)
    data = _copy_data(lab, first, "machine-B")
    other = {"disk": "disk-of-B", "board": "board-of-B", "firmware": "uuid-of-B"}
    with pytest.raises(LicenseError) as caught:
        LicenseManager(_machine(lab, "machine-B", "id-of-A", other).with_options(data_dir=data)) \
            .reload_license().local_check()  # type: ignore[union-attr]
    assert caught.value.code == "device_mismatch" and "changed" in caught.value.message


@pytest.mark.parametrize(("parts", "passes"), [
    (A_PARTS, True),
    ({**A_PARTS, "disk": "a new disk"}, True),  # one part may change: a repair, a new disk
    ({k: v for k, v in A_PARTS.items() if k != "firmware"}, True),  # one part unreadable now
    ({**A_PARTS, "disk": "a new disk", "board": "a new board"}, False),
    ({"disk": "disk-of-A"}, False),
    ({}, False),
])
def test_the_matching_rule_tolerates_one_changed_part(lab: Lab, parts: Mapping[str, str], passes: bool) -> None:
    first = _machine(lab, "machine-A", "id-of-A", A_PARTS)
    lab.activate(LicenseManager(first), lab.issue())
    assert _passes(_machine(lab, "machine-A", "id-of-A", parts)) is passes


def test_the_machine_id_must_match_whatever_the_other_parts_say(lab: Lab) -> None:
    first = _machine(lab, "machine-A", "id-of-A", A_PARTS)
    lab.activate(LicenseManager(first), lab.issue())
    assert not _passes(_machine(lab, "machine-A", "id-of-another-machine", A_PARTS))


@pytest.mark.parametrize("recorded", [{"disk": "disk-of-A"}, {"disk": "disk-of-A", "board": "board-of-A"}])
def test_with_one_or_two_parts_every_part_must_match(lab: Lab, recorded: Mapping[str, str]) -> None:
    """Tolerating a change there would leave the machine id (and one part) as the whole identity."""
    first = _machine(lab, "machine-A", "id-of-A", recorded)
    lab.activate(LicenseManager(first), lab.issue())
    assert _passes(first)
    assert not _passes(_machine(lab, "machine-A", "id-of-A", {**recorded, "disk": "disk-of-B"}))


def test_the_parts_travel_hashed_and_are_signed_into_the_license(lab: Lab) -> None:
    manager = LicenseManager(_machine(lab, "machine-A", "id-of-A", A_PARTS))
    request = manager.create_offline_activation_file(LicenseID.from_key(lab.issue()))
    text = request.read_text()
    payload = json.loads(base64.b64decode(json.loads(text)["payload"]))
    assert set(payload["hardware_components"]) == set(A_PARTS)
    assert not any(value in json.dumps(payload) for value in A_PARTS.values())  # no raw serial leaves the machine
    response = lab.respond(request)
    signed = json.loads(base64.b64decode(json.loads(response.read_text())["payload"]))
    assert signed["hardware_components"] == payload["hardware_components"]


def test_a_pinned_id_is_the_whole_identity(lab: Lab) -> None:
    """A container or VM pins its id in the Configuration: that id alone names the machine."""
    pinned = lab.config("vm-1", hardware_id="vm-1-id")
    lab.activate(LicenseManager(pinned), lab.issue())
    data = _copy_data(lab, pinned, "vm-1-moved")
    assert _passes(lab.config("vm-1-moved", hardware_id="vm-1-id", data_dir=data))  # the application's choice
    assert not _passes(lab.config("vm-1-moved", hardware_id="vm-2-id", data_dir=data))


def test_newer_terms_without_the_response_that_signed_the_components_bind_nothing(lab: Lab) -> None:
    """The attacker who holds the machine id rewrites the sealed state and drops the activation response
    (the proof of the components): the refreshed terms it leaves are not taken as this machine's."""
    manager = LicenseManager(_machine(lab, "machine-A", "id-of-A", A_PARTS))
    key = lab.issue()
    license = lab.activate(manager, key)
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, lab.clock(), catalog.get_license(session, key), "dice")
    license.update_offline(lab.refresh_file(key, license.device_id, manager))
    assert _passes(manager.config)
    state = json.loads(store_of(manager)._read_sealed(LICENSE_FILE, "license"))
    assert state["activation"] not in (None, state["license"])
    reseal(manager, LICENSE_FILE, "license", json.dumps({**state, "activation": None}).encode())
    with pytest.raises(LicenseError) as caught:
        LicenseManager(manager.config).reload_license().local_check()  # type: ignore[union-attr]
    assert caught.value.code == "device_mismatch"
