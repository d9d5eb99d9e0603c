"""``licensing-floating``: a floating server set up, activated, refreshed and deactivated by files.

Driven in-process (``main([...])``) against a real vendor (``support.lab``), whose answers go
through ``licensing-portal respond`` and ``refresh`` exactly as in the tutorial; ``serve`` runs as
its own process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from licensing.floating.cli import main
from licensing.floating.launcher import start_server
from licensing.issuing import catalog
from licensing.issuing.cli import main as portal_main
from licensing.wire import FLOATING_API_PREFIX, system_clock

from support.floating import FloatingLab
from support.lab import PRODUCT, Lab


def floating_cli(capsys: pytest.CaptureFixture[str], site: Path, *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["--data", str(site), "--json", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def vendor_cli(capsys: pytest.CaptureFixture[str], lab: Lab, *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert portal_main(["--data", str(lab.vendor.folder), "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.fixture
def system_lab(tmp_path: Path) -> Iterator[Lab]:
    created = Lab(tmp_path, system_clock)  # type: ignore[arg-type]
    yield created
    created.vendor.close()


def test_a_floating_server_lives_its_whole_life_by_files(system_lab: Lab, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    lab = system_lab
    config = lab.vendor.client_configuration(PRODUCT).write_file(tmp_path / "chatbot-config.json")
    key = lab.issue("floating", seats=3, lease_seconds=60, max_borrow_seconds=86_400, features=("jokes",))
    site = tmp_path / "site"

    code, refused = floating_cli(capsys, site, "status")
    assert code == 1 and refused["code"] == "configuration_invalid" and "no floating server" in str(refused["message"])
    code, made = floating_cli(capsys, site, "init", "--config", str(config), "--hardware-id", "floating-host")
    assert code == 0 and made["product"] == PRODUCT
    code, again = floating_cli(capsys, site, "init", "--config", str(config))
    assert code == 1 and again["code"] == "invalid_argument"
    code, refused = floating_cli(capsys, site, "status")
    assert code == 1 and refused["code"] == "no_license" and "licensing-floating request" in str(refused["hint"])
    code, refused = floating_cli(capsys, site, "serve")
    assert code == 1 and refused["code"] == "no_license"  # refuses before listening

    # step 1, 2, 3: the request, the vendor's answer, the activation
    code, request = floating_cli(capsys, site, "request", key)
    assert code == 0 and Path(str(request["path"])) == site / "ls_activation.req"
    answer = vendor_cli(capsys, lab, "respond", str(request["path"]))
    assert answer["kind"] == "activation"
    code, activated = floating_cli(capsys, site, "activate")
    assert code == 0 and activated["license"]["seats"] == 3 and activated["license"]["license"] == key  # type: ignore[index]

    code, status = floating_cli(capsys, site, "status")
    assert code == 0 and status["used"] == 0 and status["license"]["max_borrow_seconds"] == 86_400  # type: ignore[index]
    capsys.readouterr()
    assert main(["--data", str(site), "status"]) == 0
    text = capsys.readouterr().out
    assert "Seats in use: 0 of 3" in text and "1 day" in text and "(every seat is free)" in text

    # the vendor adds seats: a refresh file, applied by the server
    with lab.vendor.store.session() as session:
        catalog.set_floating(session, system_clock(), catalog.get_license(session, key), seats=5)
    code, refresh_request = floating_cli(capsys, site, "refresh-request")
    assert code == 0
    refresh = tmp_path / "license_refresh.lic"
    refresh.write_bytes(lab.vendor.issuer.answer_refresh_request(Path(str(refresh_request["path"])).read_bytes()))
    code, refreshed = floating_cli(capsys, site, "refresh", str(refresh))
    assert code == 0 and refreshed["license"]["seats"] == 5  # type: ignore[index]

    # serving: the certificate a workstation sees carries the new seats
    with start_server(site) as server:
        lease = system_lab.manager("ws-1", clock=system_clock).floating(server.url).request_lease()
        assert lease.seats == 5 and lease.local_check().ok
        assert httpx.get(server.url + FLOATING_API_PREFIX + "/ping").json()["serving"] is True
    code, status = floating_cli(capsys, site, "status")
    assert status["used"] == 1 and status["holders"][0]["lease_id"] == lease.lease_id  # type: ignore[index]

    # deactivation by file: the vendor frees the activation, every seat goes
    code, deactivated = floating_cli(capsys, site, "deactivate")
    assert code == 0
    receipt = vendor_cli(capsys, lab, "respond", str(deactivated["path"]))
    assert receipt["kind"] == "deactivation" and receipt["receipt"]["total_activations"] == 0  # type: ignore[index]
    code, refused = floating_cli(capsys, site, "status")
    assert code == 1 and refused["code"] == "no_license"


def test_a_server_with_borrowed_seats_out_is_not_deactivated_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    floating = FloatingLab(tmp_path, system_clock, seats=2, max_borrow_seconds=86_400)  # the CLI's clock
    try:
        with floating.serving() as url:
            floating.client(url, "laptop").borrow(timedelta(hours=4))
        code, refused = floating_cli(capsys, floating.site, "deactivate")
        assert code == 1 and refused["code"] == "invalid_argument" and "1 borrowed seat is" in str(refused["message"])
        assert "--force" in str(refused["hint"])
        code, done = floating_cli(capsys, floating.site, "deactivate", "--force", "-o", str(tmp_path / "out.req"))
        assert code == 0 and Path(str(done["path"])) == tmp_path / "out.req"
    finally:
        floating.lab.vendor.close()


@pytest.mark.parametrize(("args", "message"), [
    (["request"], "by its key, or by --user"),
    (["request", "ABCD-EFGH-JKLM-NPQR", "--user", "ann"], "by its key, or by --user"),
    (["request", "--user", "ann"], "needs --password"),
    (["request", "not-a-key"], "is not a license key"),
])
def test_request_refusals_say_what_is_wrong(tmp_path: Path, lab: Lab, capsys: pytest.CaptureFixture[str],
                                            args: list[str], message: str) -> None:
    config = lab.vendor.client_configuration(PRODUCT).write_file(tmp_path / "config.json")
    site = tmp_path / "site"
    assert floating_cli(capsys, site, "init", "--config", str(config))[0] == 0
    code, refused = floating_cli(capsys, site, *args)
    assert code == 1 and refused["code"] == "invalid_argument" and message in str(refused["message"])


def test_usage_errors_exit_2_and_help_needs_no_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "serve", "--port", "70000"]) == 2
    assert main(["--json", "nonsense"]) == 2
    assert json.loads(capsys.readouterr().out)["code"] == "invalid_argument"
    assert main(["init", "--config", str(tmp_path / "missing.json"), "--data", str(tmp_path / "s")]) == 1
    shown = subprocess.run([sys.executable, "-m", "licensing.floating", "--help"], capture_output=True, text=True,
                           check=True)
    assert "licensing-floating" in shown.stdout and "serve" in shown.stdout and "activate" in shown.stdout
