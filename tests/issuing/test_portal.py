"""The portal end to end over real HTTP: a uvicorn server on 127.0.0.1, httpx as the browser.

The server runs the lab's own vendor workspace (same folder, same fake clock), so the devices the
lab simulates and the portal agree on the time. Every request file is a real one made by the SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

import licensing as E
from licensing import LicenseID, LicenseManager
from licensing.issuing import catalog
from licensing.issuing.models import AuditEvent, Device
from licensing.issuing.portal.errors import status_for
from licensing.issuing.portal.settings import set_admin_password
from licensing.wire import ACTIVATION_RESPONSE, LICENSE_REFRESH, open_signed

from support.lab import PRODUCT, Lab
from support.portal_server import csrf_token, hidden_value, running_portal, sign_in

PASSWORD = "portal admin password"


@pytest.fixture
def portal(lab: Lab) -> Iterator[str]:
    set_admin_password(lab.vendor.folder, PASSWORD)
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


@pytest.fixture
def client(portal: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal, follow_redirects=False, timeout=30) as http:
        yield http


@pytest.fixture
def admin(portal: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal, follow_redirects=False, timeout=30) as http:
        sign_in(http, PASSWORD)
        yield http


# -- helpers -----------------------------------------------------------------------------------------


def make_request(lab: Lab, device: str, key: str, password: str | None = None, **overrides: object) -> Path:
    manager = lab.manager(device, **overrides)
    license_id = LicenseID.from_user(key, password) if password is not None else LicenseID.from_key(key)
    return manager.create_offline_activation_file(license_id)


def upload(client: httpx.Client, page: str, path: Path, **fields: str) -> httpx.Response:
    return client.post(page, files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
                       data=fields)


def download_from(client: httpx.Client, page: httpx.Response, field: str = "file") -> httpx.Response:
    response = client.post("/download", data={field: hidden_value(page.text, field)})
    assert response.status_code == 200, response.text
    return response


def active_devices(lab: Lab, key: str) -> int:
    with lab.vendor.store.session() as session:
        return catalog.active_devices(session, catalog.get_license(session, key))


def assert_refusal(response: httpx.Response, status: int, code: str, fragment: str) -> None:
    """A refusal for people: the right status, the plain sentence, what to do next, no internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert f"<code>{code}</code>" in text
    assert fragment in text, text
    assert "What to do next:" in text
    assert 'role="alert"' in text
    assert "Traceback" not in text and '{"' not in text and "Exception" not in text


# -- the whole offline flow through the pages ----------------------------------------------------


def test_full_offline_flow_through_the_pages(lab: Lab, client: httpx.Client, admin: httpx.Client) -> None:
    key = lab.issue("perpetual", features=("jokes",), max_activations=3)
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))

    # 2. upload: a result page with the count and a download button (a form, no script)
    page = upload(client, "/activate", request)
    assert page.status_code == 200, page.text
    assert "Activation ready" in page.text and "1 of 3" in page.text and key in page.text
    assert 'action="/download"' in page.text and "Download ls_activation.lic" in page.text
    assert page.headers["cache-control"] == "no-store"

    response = download_from(client, page)
    assert response.headers["content-disposition"] == 'attachment; filename="ls_activation.lic"'
    assert response.headers["content-type"] == "application/octet-stream"
    lic = request.parent / "ls_activation.lic"
    lic.write_bytes(response.content)

    # 3. the SDK activates with the downloaded file
    license = manager.activate_license_offline(lic)
    assert license.local_check().ok
    assert license.has_feature("jokes")
    assert active_devices(lab, key) == 1

    # deactivate: the device writes ls_deactivation.req and drops its license; upload it for a receipt
    deactivation = license.deactivate_offline()
    receipt_page = upload(client, "/deactivate", deactivation)
    assert receipt_page.status_code == 200, receipt_page.text
    assert "Deactivation receipt" in receipt_page.text and "0 of 3" in receipt_page.text
    assert license.device_id in receipt_page.text
    assert active_devices(lab, key) == 0

    receipt = download_from(client, receipt_page, "receipt")
    assert receipt.headers["content-disposition"] == 'attachment; filename="ls_deactivation_receipt.json"'
    document = json.loads(receipt.content)
    assert document["device_id"] == license.device_id and document["total_activations"] == 0
    assert document["license"] == key

    # the audit log shows the issue, the activation and the deactivation
    audit = admin.get("/admin/audit")
    assert audit.status_code == 200
    for action in ("license.issue", "device.activate", "device.deactivate"):
        assert action in audit.text
    assert license.device_id in audit.text


def test_scripts_can_ask_for_the_file_directly(lab: Lab, client: httpx.Client) -> None:
    key = lab.issue("perpetual", max_activations=3)
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    response = upload(client, "/activate", request, download="1")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="ls_activation.lic"'
    assert manager.activate_license_offline(_save(request.parent, response.content)).local_check().ok

    other = lab.manager("device-B")
    request = other.create_offline_activation_file(LicenseID.from_key(key))
    response = client.post("/activate", files={"file": ("ls_activation.req", request.read_bytes())},
                           headers={"Accept": "application/octet-stream"})
    assert response.headers["content-disposition"] == 'attachment; filename="ls_activation.lic"'
    assert other.activate_license_offline(_save(request.parent, response.content)).local_check().ok


def _save(folder: Path, data: bytes, name: str = "ls_activation.lic") -> Path:
    target = folder / name
    target.write_bytes(data)
    return target


def test_download_echoes_only_files_this_vendor_signed(lab: Lab, client: httpx.Client, tmp_path: Path) -> None:
    from licensing.issuing.workspace import VendorWorkspace

    other_vendor = VendorWorkspace.create(tmp_path / "other-vendor", clock=lab.clock)
    try:
        with other_vendor.store.session() as session:
            product = catalog.add_product(session, lab.clock(), PRODUCT)
            key = catalog.issue_license(session, lab.clock(), product, catalog.LicenseSpec("perpetual")).key
        config = other_vendor.client_configuration(PRODUCT, data_dir=tmp_path / "x", request_dir=tmp_path / "x",
                                                   hardware_id="x", clock=lab.clock)
        request = LicenseManager(config).create_offline_activation_file(LicenseID.from_key(key))
        foreign = other_vendor.issuer.answer_activation(request.read_bytes()).data
    finally:
        other_vendor.close()
    response = client.post("/download", data={"file": foreign.decode().strip()})
    assert_refusal(response, 400, "unknown_signing_key", "not one this portal signed")
    response = client.post("/download", data={"file": "<script>alert(1)</script>"})
    assert response.status_code == 400 and "<script>alert" not in response.text
    response = client.post("/download", data={"receipt": "forged.token"})
    assert_refusal(response, 400, "file_malformed", "receipt could not be verified")


# -- every refusal, on the page, in plain words ------------------------------------------------------


def _scenario(lab: Lab, client: httpx.Client, name: str) -> Path:
    clock = lab.clock
    if name == "max_activations":
        key = lab.issue("perpetual", max_activations=1)
        assert upload(client, "/activate", make_request(lab, "device-A", key)).status_code == 200
        return make_request(lab, "device-B", key)
    if name == "expired":
        return make_request(lab, "device-A", lab.issue("time-based", expires=clock() - timedelta(days=1)))
    if name == "disabled":
        return make_request(lab, "device-A", lab.issue("perpetual", enabled=False))
    if name == "wrong_key":
        lab.issue("perpetual")
        return make_request(lab, "device-A", "AAAA-BBBB-CCCC-DDDD")
    if name == "wrong_password":
        user = lab.issue("perpetual", user="ann@example.com", password="right-password")
        return make_request(lab, "device-A", user, password="wrong-password")
    if name == "wrong_configuration":
        key = lab.issue("perpetual")
        config = lab.config("device-A").with_options(shared_key="not-the-product-shared-key")
        return LicenseManager(config).create_offline_activation_file(LicenseID.from_key(key))
    if name == "free_tier":
        with lab.vendor.store.session() as session:
            product = catalog.add_product(session, clock(), "trial-app", free_tier=True)
            key = catalog.issue_license(session, clock(), product, catalog.LicenseSpec("perpetual")).key
        folder = lab.root / "free-device"
        config = lab.vendor.client_configuration("trial-app", data_dir=folder / "data", request_dir=folder,
                                                 hardware_id="free-device", clock=clock)
        folder.mkdir(parents=True, exist_ok=True)
        return LicenseManager(config).create_offline_activation_file(LicenseID.from_key(key))
    if name == "subscription":
        return make_request(lab, "device-A", lab.issue("subscription"))
    if name == "replay":  # answered, and that activation has ended since (the vendor reset the device)
        request = make_request(lab, "device-A", lab.issue("perpetual", max_activations=5))
        answered = upload(client, "/activate", request, download="1")
        device_id = json.loads(open_signed(answered.content, ACTIVATION_RESPONSE,
                                           lab.vendor.keys.trusted_public_keys())[0].payload)["device_id"]
        with lab.vendor.store.session() as session:
            catalog.reset_device(session, clock(), catalog.get_device(session, device_id))
        return request
    if name == "device_disabled":
        key = lab.issue("perpetual", max_activations=5)
        license = lab.activate(lab.manager("device-A"), key)
        with lab.vendor.store.session() as session:
            catalog.set_device_enabled(session, clock(), catalog.get_device(session, license.device_id), False)
        manager = lab.manager("device-A")
        manager.clear_local_storage()
        return manager.create_offline_activation_file(LicenseID.from_key(key))
    raise AssertionError(name)


REFUSALS = [
    ("max_activations", 409, "max_activations_reached", "allowed device"),
    ("expired", 403, "license_expired", "expired on"),
    ("disabled", 403, "license_disabled", "The license is disabled"),
    ("wrong_key", 403, "invalid_credentials", "is not right"),
    ("wrong_password", 403, "invalid_credentials", "is not right"),
    ("wrong_configuration", 403, "product_configuration", "wrong shared key"),
    ("free_tier", 403, "free_tier", "free tier"),
    ("subscription", 403, "offline_not_supported", "Subscription licenses cannot be activated offline"),
    ("replay", 409, "request_replayed", "has ended since"),
    ("device_disabled", 403, "device_disabled", "disabled by the vendor"),
]


@pytest.mark.parametrize(("name", "status", "code", "fragment"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refusal_is_a_plain_sentence_with_its_status(lab: Lab, client: httpx.Client, name: str, status: int,
                                                          code: str, fragment: str) -> None:
    request = _scenario(lab, client, name)
    with lab.vendor.store.session() as session:
        devices_before = session.scalar(select(func.count()).select_from(Device))
    response = upload(client, "/activate", request)
    assert_refusal(response, status, code, fragment)
    # the upload form is shown again under the message, ready for the next try
    assert '<input type="file" id="file" name="file" accept=".req"' in response.text
    assert response.text.count("<h1>") == 1
    with lab.vendor.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == devices_before
    assert client.get("/api/v1/ping").status_code == 200


def test_status_mapping_matches_the_table() -> None:
    assert status_for(E.FileTooLargeError()) == 413
    assert status_for(E.WrongFileTypeError()) == 415
    assert status_for(E.FileMalformedError()) == 400
    assert status_for(E.SignatureInvalidError()) == 400
    assert status_for(E.MaxActivationsReachedError()) == 409
    assert status_for(E.RequestReplayedError()) == 409
    assert status_for(E.VendorLicenseDisabledError()) == 403
    assert status_for(E.DeviceDisabledError()) == 403
    assert status_for(E.LicenseNotFoundError()) == 404
    assert status_for(E.VendorInputError()) == 400
    assert status_for(E.StorageLockedError()) == 503
    assert status_for(E.LicenseError()) == 400


# -- deactivation and refresh pages -----------------------------------------------------------------


def test_the_same_activation_request_again_gets_the_same_file(lab: Lab, client: httpx.Client) -> None:
    """A retry after a lost answer: the same signed file, a note saying so, and no second seat."""
    key = lab.issue("perpetual", max_activations=5)
    request = make_request(lab, "device-A", key)
    first = upload(client, "/activate", request)
    assert first.status_code == 200 and "already answered" not in first.text
    again = upload(client, "/activate", request)
    assert again.status_code == 200
    assert "This request was already answered on" in again.text and "No further activation was used" in again.text
    assert hidden_value(again.text, "file") == hidden_value(first.text, "file")
    assert upload(client, "/activate", request, download="1").content == download_from(client, first).content
    assert active_devices(lab, key) == 1
    # …and the file still activates the device that asked (once).
    response = request.parent / "ls_activation.lic"
    response.write_bytes(download_from(client, again).content)
    assert lab.manager("device-A").activate_license_offline(response).total_activations == 1


def test_deactivation_page_refusals(lab: Lab, client: httpx.Client) -> None:
    key = lab.issue("perpetual", max_activations=2)
    request = lab.activate(lab.manager("device-A"), key).deactivate_offline()
    first = upload(client, "/deactivate", request)
    assert first.status_code == 200 and "already answered" not in first.text
    # The same request again (a retry): the same receipt, and nothing booked twice.
    again = upload(client, "/deactivate", request)
    assert again.status_code == 200 and "This request was already answered on" in again.text
    assert hidden_value(again.text, "receipt") == hidden_value(first.text, "receipt")
    assert active_devices(lab, key) == 0
    # Another request to deactivate a device that is no longer active (the vendor reset it) is refused.
    license = lab.activate(lab.manager("device-B"), key)
    with lab.vendor.store.session() as session:
        catalog.reset_device(session, lab.clock(), catalog.get_device(session, license.device_id))
    assert_refusal(upload(client, "/deactivate", license.deactivate_offline()), 409, "request_replayed",
                   "already deactivated")
    # an activation request on the deactivation page says where it belongs
    activation = make_request(lab, "device-B", key)
    assert_refusal(upload(client, "/deactivate", activation), 415, "wrong_file_type", "Offline activation page")
    assert_refusal(upload(client, "/activate", request), 415, "wrong_file_type", "Offline deactivation page")


def test_self_service_refresh_page(lab: Lab, client: httpx.Client) -> None:
    key = lab.issue("perpetual", features=("jokes",), max_activations=2)
    manager = lab.manager("device-A")
    license = lab.activate(manager, key)
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, lab.clock(), catalog.get_license(session, key, for_update=True), "dice")
    request = license.create_refresh_request()
    page = upload(client, "/refresh", request)
    assert page.status_code == 200, page.text
    assert "Refresh ready" in page.text and "dice" in page.text
    response = download_from(client, page)
    assert response.headers["content-disposition"] == 'attachment; filename="license_refresh.lic"'
    refreshed = license.update_offline(_save(request.parent, response.content, "license_refresh.lic"))
    assert refreshed.has_feature("dice")
    # an activation request is not a refresh request
    assert_refusal(upload(client, "/refresh", make_request(lab, "device-B", key)), 415, "wrong_file_type",
                   "Offline activation page")


# -- admin: sign-in ----------------------------------------------------------------------------------


def test_admin_pages_refuse_anyone_not_signed_in(client: httpx.Client, lab: Lab) -> None:
    key = lab.issue("perpetual")
    for page in ("/admin", "/admin/products", "/admin/licenses", f"/admin/licenses/{key}",
                 f"/admin/licenses/{key}/devices", "/admin/audit"):
        response = client.get(page)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/admin/login?next=/admin")
    token = csrf_token(client)  # a session with a token, but not signed in
    for page in ("/admin/products", "/admin/licenses", f"/admin/licenses/{key}/disable",
                 f"/admin/licenses/{key}/devices/dev_x/refresh"):
        response = client.post(page, data={"csrf_token": token, "code": "x"})
        assert response.status_code == 403, page
        assert "not signed in" in response.text
    with lab.vendor.store.session() as session:
        assert catalog.get_license(session, key).enabled
        assert len(catalog.list_products(session)) == 1


def test_sign_in_and_out(client: httpx.Client) -> None:
    page = client.get("/admin/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    response = sign_in(client, PASSWORD)
    assert response.headers["location"] == "/admin"
    dashboard = client.get("/admin")
    assert dashboard.status_code == 200 and "<h1>Dashboard</h1>" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"
    token = hidden_value(dashboard.text, "csrf_token")
    response = client.post("/admin/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert client.get("/admin").status_code == 303


def test_session_cookie_is_secure_over_https(portal: str) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a local reverse proxy terminating TLS)
    response = httpx.get(portal + "/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.slow
def test_wrong_password_and_rate_limit(client: httpx.Client) -> None:
    token = csrf_token(client)
    for _ in range(5):
        response = client.post("/admin/login", data={"csrf_token": token, "password": "not it"})
        assert response.status_code == 403
        assert "That password is not right." in response.text
        assert 'id="password"' in response.text  # the form is there to try again
    response = client.post("/admin/login", data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.text and int(response.headers["retry-after"]) > 0
    assert client.get("/admin").status_code == 303


def test_login_needs_its_csrf_token(client: httpx.Client) -> None:
    client.get("/admin/login")
    response = client.post("/admin/login", data={"password": PASSWORD})
    assert response.status_code == 403 and "security token" in response.text
    response = client.post("/admin/login", data={"password": PASSWORD, "csrf_token": "x" * 43})
    assert response.status_code == 403
    assert client.get("/admin").status_code == 303


def test_admin_area_without_a_password_says_how_to_set_one(lab: Lab) -> None:
    (lab.vendor.folder / "portal.json").unlink(missing_ok=True)
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url, httpx.Client(base_url=url) as http:
        page = http.get("/admin/login")
        assert page.status_code == 200
        assert "admin set-password" in page.text and str(lab.vendor.folder) in page.text
        assert http.get("/activate").status_code == 200  # public pages work regardless
        assert 'id="password"' not in page.text  # no form to sign in with
        response = http.post("/admin/login", data={"password": "anything at all"})
        assert response.status_code == 403
        # setting the password takes effect without a restart
        set_admin_password(lab.vendor.folder, PASSWORD)
        sign_in(http, PASSWORD)
        assert http.get("/admin").status_code == 200


def test_changing_the_password_ends_sessions(lab: Lab, admin: httpx.Client) -> None:
    assert admin.get("/admin").status_code == 200
    set_admin_password(lab.vendor.folder, "a brand new password")
    assert admin.get("/admin").status_code == 303


# -- admin: every action through its form ------------------------------------------------------------


def _post(admin: httpx.Client, page: str, action: str, **fields: str) -> httpx.Response:
    token = csrf_token(admin, page)
    return admin.post(action, data={"csrf_token": token, **fields})


def _license(lab: Lab, key: str) -> dict[str, object]:
    with lab.vendor.store.session() as session:
        lic = catalog.get_license(session, key)
        return {"enabled": lic.enabled, "expires": lic.expires, "max": lic.max_activations,
                "features": [f.code for f in lic.features], "consumptions": lic.total_consumptions,
                "revision": lic.revision, "product": lic.product.code}


def test_products_and_licenses_through_the_forms(lab: Lab, admin: httpx.Client) -> None:
    response = _post(admin, "/admin/products", "/admin/products", code="editor", name="Text Editor")
    assert response.status_code == 303
    page = admin.get("/admin/products")
    assert "Text Editor" in page.text and "Added the product editor." in page.text
    config = admin.get("/admin/products/editor/config")
    assert config.headers["content-disposition"] == 'attachment; filename="editor-config.json"'
    assert json.loads(config.content)["product"] == "editor"

    refused = _post(admin, "/admin/products", "/admin/products", code="editor")
    assert_refusal(refused, 400, "vendor_input", "already exists")

    response = _post(admin, "/admin/licenses", "/admin/licenses", product="editor", type="perpetual",
                     features="spell, export", max_activations="2", customer="ACME")
    assert response.status_code == 303
    key = response.headers["location"].rsplit("/", 1)[1]
    assert _license(lab, key) == {"enabled": True, "expires": None, "max": 2, "features": ["export", "spell"],
                                  "consumptions": 0, "revision": 1, "product": "editor"}
    listing = admin.get("/admin/licenses", params={"product": "editor"})
    assert key in listing.text and "ACME" in listing.text
    assert key not in admin.get("/admin/licenses", params={"product": PRODUCT}).text

    refused = _post(admin, "/admin/licenses", "/admin/licenses", product="editor", type="time-based")
    assert_refusal(refused, 400, "vendor_input", "needs an expiry date")
    refused = _post(admin, "/admin/licenses", "/admin/licenses", product="editor", type="perpetual",
                    max_activations="lots")
    assert_refusal(refused, 400, "vendor_input", "whole number")

    url = f"/admin/licenses/{key}"
    assert _post(admin, url, url + "/disable").status_code == 303
    assert _license(lab, key)["enabled"] is False
    assert "disabled" in admin.get(url).text
    assert _post(admin, url, url + "/enable").status_code == 303
    assert _license(lab, key)["enabled"] is True
    assert _post(admin, url, url + "/extend", expires="2027-06-30").status_code == 303
    assert _license(lab, key)["expires"].strftime("%Y-%m-%d") == "2027-07-01"  # valid through the 30th
    assert _post(admin, url, url + "/add-feature", code="print", name="Printing").status_code == 303
    assert "print" in _license(lab, key)["features"]
    assert _post(admin, url, url + "/max-activations", count="7").status_code == 303
    assert _license(lab, key)["max"] == 7
    assert_refusal(_post(admin, url, url + "/max-activations", count="0"), 400, "vendor_input", "at least one")
    with lab.vendor.store.session() as session:
        catalog.get_license(session, key, for_update=True).total_consumptions = 5
    assert _post(admin, url, url + "/reset-consumption").status_code == 303
    state = _license(lab, key)
    assert state["consumptions"] == 0 and state["revision"] == 7
    assert "Reset the consumption of the license" in admin.get(url).text

    assert_refusal(admin.get("/admin/licenses/ZZZZ-ZZZZ-ZZZZ-ZZZZ"), 404, "license_not_found", "no license")


def test_forms_without_the_csrf_token_fail(lab: Lab, admin: httpx.Client) -> None:
    key = lab.issue("perpetual")
    for fields in ({}, {"csrf_token": "wrong" * 9}, {"csrf_token": ""}):
        response = admin.post(f"/admin/licenses/{key}/disable", data=fields)
        assert response.status_code == 403
        assert "security token is missing or out of date" in response.text
        response = admin.post("/admin/products", data={"code": "sneaky", **fields})
        assert response.status_code == 403
    with lab.vendor.store.session() as session:
        assert catalog.get_license(session, key).enabled
        assert [p.code for p in catalog.list_products(session)] == [PRODUCT]


def test_devices_tab_and_refresh_download(lab: Lab, client: httpx.Client, admin: httpx.Client) -> None:
    key = lab.issue("consumption", features=("jokes",), max_activations=3, max_consumptions=10)
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    license = manager.activate_license_offline(_save(request.parent, upload(client, "/activate", request,
                                                                              download="1").content))
    license.add_local_consumption(4)
    other = lab.activate(lab.manager("device-B"), key)

    devices = f"/admin/licenses/{key}/devices"
    page = admin.get(devices)
    assert page.status_code == 200
    assert license.device_id in page.text and other.device_id in page.text
    assert "2 of 3 activations in use" in page.text
    assert page.text.count("Download license_refresh.lic") == 2

    # the vendor adds a feature; the device gets it from the refresh file of the Devices tab
    url = f"/admin/licenses/{key}"
    assert _post(admin, url, url + "/add-feature", code="dice").status_code == 303
    response = _post(admin, devices, f"{devices}/{license.device_id}/refresh", reset_consumption="1")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="license_refresh.lic"'
    _envelope, doc = open_signed(response.content, LICENSE_REFRESH, lab.vendor.keys.trusted_public_keys())
    assert doc["device_id"] == license.device_id and doc["reset_consumption"] is True
    refreshed = license.update_offline(_save(request.parent, response.content, "license_refresh.lic"))
    assert refreshed.has_feature("dice") and refreshed.local_consumptions == 0

    # disable, enable, reset one device
    assert _post(admin, devices, f"{devices}/{other.device_id}/disable").status_code == 303
    with lab.vendor.store.session() as session:
        assert catalog.get_device(session, other.device_id).enabled is False
    refused = _post(admin, devices, f"{devices}/{other.device_id}/refresh")
    assert_refusal(refused, 403, "device_disabled", "disabled")
    assert _post(admin, devices, f"{devices}/{other.device_id}/enable").status_code == 303
    assert _post(admin, devices, f"{devices}/{other.device_id}/reset").status_code == 303
    with lab.vendor.store.session() as session:
        device = catalog.get_device(session, other.device_id)
        assert device.enabled and not device.active
    assert active_devices(lab, key) == 1
    assert "1 of 3 activations in use" in admin.get(devices).text
    refused = _post(admin, devices, f"{devices}/dev_0000000000000000/disable")
    assert_refusal(refused, 404, "device_not_found", "no device")

    with lab.vendor.store.session() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"device.disable", "device.enable", "device.reset", "device.refresh"} <= actions
    audit = admin.get("/admin/audit", params={"license": key})
    assert "device.refresh" in audit.text and "device.reset" in audit.text


def test_audit_log_pages(lab: Lab, admin: httpx.Client) -> None:
    for _ in range(60):
        lab.issue("perpetual")
    first = admin.get("/admin/audit")
    assert first.status_code == 200 and 'rel="next"' in first.text and 'rel="prev"' not in first.text
    second = admin.get("/admin/audit?page=2")
    assert 'rel="prev"' in second.text and "license.issue" in second.text
    assert admin.get("/admin/audit?page=oops").status_code == 200


# -- pages for people: structure, labels, no script --------------------------------------------------


class _PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.labels: set[str] = set()
        self.fields: list[tuple[str, str | None]] = []
        self.tags: set[str] = set()
        self.lang: str | None = None
        self.skip_link = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"] or "")
        if tag == "a" and values.get("href") == "#main":
            self.skip_link = True
        if tag in ("input", "select", "textarea") and values.get("type") not in ("hidden", "submit"):
            self.fields.append((tag, values.get("id")))


def _check_page(text: str, where: str) -> None:
    audit = _PageAudit()
    audit.feed(text)
    assert audit.lang == "en", where
    assert audit.h1 == 1, where
    assert {"main", "nav"} <= audit.tags, where
    assert "script" not in audit.tags, where
    assert audit.skip_link, where
    for tag, ident in audit.fields:
        assert ident and ident in audit.labels, f"{where}: a {tag} without a <label for=…>"
    assert len({ident for _, ident in audit.fields}) == len(audit.fields), f"{where}: duplicate ids"


def test_pages_have_one_heading_and_a_label_for_every_input(lab: Lab, client: httpx.Client,
                                                            admin: httpx.Client) -> None:
    key = lab.issue("perpetual", max_activations=2)
    lab.activate(lab.manager("device-A"), key)
    for page in ("/", "/activate", "/deactivate", "/refresh", "/admin/login", "/no-such-page"):
        _check_page(client.get(page).text, page)
    for page in ("/admin", "/admin/products", "/admin/licenses", f"/admin/licenses/{key}",
                 f"/admin/licenses/{key}/devices", "/admin/audit"):
        response = admin.get(page)
        assert response.status_code == 200, page
        _check_page(response.text, page)
    result = upload(client, "/activate", make_request(lab, "device-B", key))
    _check_page(result.text, "activation result")
    _check_page(upload(client, "/activate", make_request(lab, "device-C", key)).text, "refusal")
    css = client.get("/static/portal.css")
    assert css.status_code == 200 and "max-width" in css.text


def test_security_headers_and_unknown_pages(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and "There is no page at this address." in missing.text
    wrong = client.delete("/activate")
    assert wrong.status_code == 405 and "does not take that kind of request" in wrong.text
    api_missing = client.get("/api/v1/nowhere")
    assert api_missing.status_code == 404 and api_missing.headers["content-type"] == "application/json"
    assert re.search(r"<h1>Not found</h1>", missing.text)


# -- several worker processes -------------------------------------------------------------------------


@pytest.mark.slow
def test_several_workers_share_sessions_and_downloads(lab: Lab) -> None:
    """``serve --workers 2``: a session or a download made by one worker is good in the other."""
    lab.clock.set(datetime.now(timezone.utc))  # the subprocess signs with the system clock
    set_admin_password(lab.vendor.folder, PASSWORD)
    key = lab.issue("perpetual", max_activations=20)
    with running_portal(lab.vendor.folder, workers=2) as url:
        with httpx.Client(base_url=url, timeout=30) as browser:
            sign_in(browser, PASSWORD)
            cookies = dict(browser.cookies)
        for index in range(8):
            manager = lab.manager(f"worker-device-{index}")
            request = manager.create_offline_activation_file(LicenseID.from_key(key))
            # every step on a fresh connection, so the kernel spreads them over the workers
            with httpx.Client(base_url=url, timeout=30) as first:
                page = upload(first, "/activate", request)
            assert page.status_code == 200, page.text
            with httpx.Client(base_url=url, timeout=30) as second:
                response = download_from(second, page)
            assert manager.activate_license_offline(_save(request.parent, response.content)).local_check().ok
            with httpx.Client(base_url=url, timeout=30, cookies=cookies) as admin_again:
                dashboard = admin_again.get("/admin")
                assert dashboard.status_code == 200 and "<h1>Dashboard</h1>" in dashboard.text
        assert active_devices(lab, key) == 8


# -- the commands ---------------------------------------------------------------------------------------


def test_admin_set_password_command(lab: Lab, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import io
    import socket
    import stat
    import sys

    from licensing.issuing.cli import main

    folder = str(lab.vendor.folder)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["--data", folder, "admin", "set-password", "--password-stdin"]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a good long password\n"))
    assert main(["--data", folder, "admin", "set-password", "--password-stdin"]) == 0
    assert "Set the admin password" in capsys.readouterr().out
    portal_file = lab.vendor.folder / "portal.json"
    assert stat.S_IMODE(portal_file.stat().st_mode) == 0o600
    stored = json.loads(portal_file.read_text())
    assert stored["admin_password_hash"].startswith("scrypt$") and "a good long password" not in portal_file.read_text()
    secret = stored["session_secret"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert main(["--data", folder, "--json", "admin", "set-password", "--password-stdin"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert json.loads(portal_file.read_text())["session_secret"] == secret  # sessions of other workers stay valid

    assert main(["--data", str(tmp_path / "nobody"), "serve"]) == 1
    assert "There is no vendor" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["--data", folder, "serve", "--port", str(taken.getsockname()[1])]) == 1
    assert "Cannot listen on 127.0.0.1" in capsys.readouterr().err
    assert main(["--data", folder, "serve", "--workers", "0"]) == 2
