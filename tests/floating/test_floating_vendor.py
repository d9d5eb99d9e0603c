"""The vendor's side of floating licenses: issued like any other license (CLI, admin pages, catalogue),
activated only by a floating server, changed by a refresh file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from licensing import (
    Configuration,
    FileMalformedError,
    FloatingOnlyError,
    LicenseID,
    LicenseManager,
    LicenseTerms,
    NotFloatingError,
    VendorInputError,
)
from licensing.floating.launcher import start_server
from licensing.issuing import catalog
from licensing.issuing.cli import main as portal_main
from licensing.issuing.demo import FLOATING_SITE, build_demo
from licensing.issuing.portal.settings import set_admin_password
from licensing.wire import ACTIVATION_RESPONSE, open_certificate, open_signed

from support.floating import FloatingLab
from support.lab import PRODUCT, FakeClock, Lab
from support.portal_server import csrf_token, running_portal, sign_in


@pytest.mark.parametrize(("spec", "fragment"), [
    ({"license_type": "floating"}, "needs a seat count"),
    ({"license_type": "floating", "seats": 0}, "between 1 and"),
    ({"license_type": "floating", "seats": 3, "lease_seconds": 1}, "between 2 seconds and one day"),
    ({"license_type": "floating", "seats": 3, "lease_seconds": 2 * 86_400}, "between 2 seconds and one day"),
    ({"license_type": "floating", "seats": 3, "max_borrow_seconds": 400 * 86_400}, "366 days"),
    ({"license_type": "floating", "seats": 3, "max_borrow_seconds": -1}, "366 days"),
    ({"license_type": "floating", "seats": 3, "max_consumptions": 5}, "cannot count consumption"),
    ({"license_type": "perpetual", "seats": 3}, "floating licenses only"),
    ({"license_type": "perpetual", "max_borrow_seconds": 60}, "floating licenses only"),
])
def test_floating_terms_are_checked_before_anything_is_written(spec: dict[str, object], fragment: str) -> None:
    with pytest.raises(VendorInputError, match=fragment):
        catalog.LicenseSpec(**spec).validate()  # type: ignore[arg-type]


def test_a_floating_license_has_defaults_and_only_it_carries_floating_terms(lab: Lab) -> None:
    floating_key = lab.issue("floating", seats=3)
    perpetual_key = lab.issue("perpetual")
    with lab.vendor.store.session() as session:
        floating = catalog.license_terms(session, catalog.get_license(session, floating_key))
        perpetual = catalog.license_terms(session, catalog.get_license(session, perpetual_key))
    assert floating.floating is not None
    assert (floating.floating.seats, floating.floating.lease_seconds, floating.floating.max_borrow_seconds) == (3, 300, 0)
    assert perpetual.floating is None and "floating" not in perpetual.to_dict()  # same signed bytes as before
    assert LicenseTerms.from_dict(floating.to_dict()) == floating


def test_signed_terms_must_agree_with_their_type() -> None:
    base = {"id": 1, "key": "AAAA-BBBB-CCCC-DDDD", "user": None, "enabled": True, "start": None, "expires": None,
            "max_activations": 1, "total_activations": 0, "max_consumptions": None, "total_consumptions": 0,
            "allow_overages": False, "max_overages": 0, "features": [], "revision": 1, "customer": None}
    floating = {"seats": 2, "lease_seconds": 60, "max_borrow_seconds": 0}
    with pytest.raises(FileMalformedError):
        LicenseTerms.from_dict({**base, "type": "floating"})
    with pytest.raises(FileMalformedError):
        LicenseTerms.from_dict({**base, "type": "perpetual", "floating": floating})
    with pytest.raises(FileMalformedError):
        LicenseTerms.from_dict({**base, "type": "floating", "floating": {**floating, "seats": 0}})


def test_an_application_cannot_activate_a_floating_license_and_nothing_is_recorded(lab: Lab) -> None:
    key = lab.issue("floating", seats=5)
    request = lab.manager("ws-1").create_offline_activation_file(LicenseID.from_key(key))
    with pytest.raises(FloatingOnlyError) as refused:
        lab.respond(request)
    assert refused.value.code == "floating_only"
    with lab.vendor.store.session() as session:
        assert catalog.active_devices(session, catalog.get_license(session, key)) == 0


def test_a_floating_server_cannot_activate_any_other_license(lab: Lab) -> None:
    key = lab.issue("perpetual")
    request = lab.manager("server").create_offline_activation_file(LicenseID.from_key(key), floating_server=True)
    with pytest.raises(NotFloatingError) as refused:
        lab.respond(request)
    assert refused.value.code == "not_floating" and "perpetual" in refused.value.message


def test_the_vendors_response_certifies_the_servers_key_and_its_seats(tmp_path: Path, clock: FakeClock) -> None:
    floating = FloatingLab(tmp_path, clock, seats=7, lease_seconds=120, max_borrow_seconds=86_400)
    try:
        site = floating.open_site()
        license = site.license()
        certificate = site.certificate()
        assert certificate.kid == license.lease_signer().kid  # the key the server signs leases with
        assert certificate.device_id == license.device_id
        assert (certificate.floating.seats, certificate.floating.lease_seconds) == (7, 120)
        activation = (site.folder / "certificate" / "activation.lic").read_bytes()
        _, doc = open_signed(activation, ACTIVATION_RESPONSE, floating.lab.vendor.keys.trusted_public_keys())
        assert doc["license"]["floating"] == {"seats": 7, "lease_seconds": 120, "max_borrow_seconds": 86_400}
        assert open_certificate(certificate.data, site.configuration.trusted_keys, PRODUCT) == certificate
        with pytest.raises(NotFloatingError):
            floating.lab.activate(floating.manager("node-locked"), floating.lab.issue("perpetual")).lease_signer()
    finally:
        floating.lab.vendor.close()


# -- the vendor's command line -------------------------------------------------------------------------


def _portal(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = portal_main(["--data", str(data), "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_the_vendor_cli_issues_and_changes_floating_licenses(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "vendor"
    assert _portal(capsys, data, "init")[0] == 0 and _portal(capsys, data, "product", "add", "chatbot")[0] == 0
    code, issued = _portal(capsys, data, "license", "issue", "--product", "chatbot", "--type", "floating",
                           "--seats", "10", "--lease-length", "2m", "--max-borrow", "3d")
    assert code == 0
    key = str(issued["key"])
    assert issued["license"]["floating"] == {"seats": 10, "lease_seconds": 120,  # type: ignore[index]
                                             "max_borrow_seconds": 259_200}
    code, changed = _portal(capsys, data, "license", "set-floating", key, "--seats", "12", "--max-borrow", "0")
    assert code == 0 and changed["license"]["floating"]["seats"] == 12  # type: ignore[index]
    assert changed["license"]["floating"]["max_borrow_seconds"] == 0 and changed["license"]["revision"] == 2  # type: ignore[index]
    capsys.readouterr()
    assert portal_main(["--data", str(data), "license", "show", key]) == 0
    assert "12 seats, leases of 2 minutes, no borrowing" in capsys.readouterr().out

    code, refused = _portal(capsys, data, "license", "issue", "--product", "chatbot", "--type", "floating")
    assert code == 1 and refused["code"] == "vendor_input"
    code, perpetual = _portal(capsys, data, "license", "issue", "--product", "chatbot", "--type", "perpetual")
    code, refused = _portal(capsys, data, "license", "set-floating", str(perpetual["key"]), "--seats", "2")
    assert code == 1 and refused["code"] == "vendor_input" and "only a floating license" in str(refused["message"])
    code, refused = _portal(capsys, data, "license", "set-floating", key)
    assert code == 1 and "Say what to change" in str(refused["message"])
    assert portal_main(["--data", str(data), "license", "issue", "--product", "chatbot", "--type", "floating",
                        "--seats", "2", "--lease-length", "soon"]) == 2


# -- the admin pages ------------------------------------------------------------------------------------


@pytest.fixture
def admin(lab: Lab) -> Iterator[httpx.Client]:
    set_admin_password(lab.vendor.folder, "floating admin")
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url, \
            httpx.Client(base_url=url, follow_redirects=False, timeout=30) as http:
        sign_in(http, "floating admin")
        yield http


def test_the_admin_pages_issue_show_and_change_a_floating_license(lab: Lab, admin: httpx.Client) -> None:
    token = csrf_token(admin, "/admin/licenses")
    response = admin.post("/admin/licenses", data={"csrf_token": token, "product": PRODUCT, "type": "floating",
                                                   "seats": "4", "lease_length": "90s", "max_borrow": "2d"})
    assert response.status_code == 303
    url = response.headers["location"]
    page = admin.get(url).text
    assert "4 at once, leases of 90 seconds" in page and "borrowing up to 2 days" in page
    token = csrf_token(admin, url)
    assert admin.post(url + "/set-floating", data={"csrf_token": token, "seats": "6"}).status_code == 303
    assert "6 at once" in admin.get(url).text
    token = csrf_token(admin, url)
    refused = admin.post(url + "/set-floating", data={"csrf_token": token, "lease_length": "forever"})
    assert refused.status_code == 400 and "not a length of time" in refused.text
    token = csrf_token(admin, "/admin/licenses")
    refused = admin.post("/admin/licenses", data={"csrf_token": token, "product": PRODUCT, "type": "perpetual",
                                                  "seats": "4"})
    assert refused.status_code == 400 and "floating licenses only" in refused.text


# -- the demo vendor ----------------------------------------------------------------------------------


def test_the_demo_serves_its_floating_license_from_its_own_activated_server(tmp_path: Path) -> None:
    info = build_demo(tmp_path / "demo")
    assert info.floating_site == tmp_path / "demo" / FLOATING_SITE
    assert info.floating_command[:3] == ["licensing-floating", "--data", str(info.floating_site)]
    assert build_demo(tmp_path / "demo").floating_site == info.floating_site  # idempotent: activated once
    manager = LicenseManager(Configuration.from_file(info.config_path, data_dir=tmp_path / "ws" / "data",
                                                     request_dir=tmp_path / "ws", hardware_id="demo-workstation"))
    with start_server(info.floating_site) as server:
        lease = manager.floating(server.url).request_lease()
        assert lease.seats == 4 and lease.key == info.key_of("floating") and lease.has_feature("jokes")
        assert lease.release() is True
    # rebuilt from scratch, the demo's server takes the license's one activation again
    shutil.rmtree(info.floating_site)
    assert build_demo(tmp_path / "demo").floating_site == info.floating_site
