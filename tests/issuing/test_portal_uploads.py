"""Bad uploads against the real portal: each gets a 4xx with a clear message, changes nothing, and
the server keeps serving. Then a bounded burst of genuine uploads, all answered correctly.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from licensing import LicenseID, LicenseManager
from licensing.issuing import catalog
from licensing.issuing.models import AnsweredRequest, AuditEvent, Device, License
from licensing.issuing.workspace import VendorWorkspace
from licensing.wire import ACTIVATION_RESPONSE, MAX_FILE_SIZE, Envelope, open_signed

from support.lab import PRODUCT, Lab
from support.portal_server import running_portal


@pytest.fixture
def portal(lab: Lab) -> Iterator[str]:
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


@pytest.fixture
def client(portal: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal, timeout=60) as http:
        yield http


@pytest.fixture
def key(lab: Lab) -> str:
    return lab.issue("perpetual", max_activations=1000)


def snapshot(lab: Lab) -> tuple[int, ...]:
    """Everything an upload could change: devices (and their state), answered requests, audit, licenses."""
    with lab.vendor.store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Device)) or 0,
            session.scalar(select(func.count()).select_from(Device).where(Device.active.is_(True))) or 0,
            session.scalar(select(func.count()).select_from(AnsweredRequest)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            sum(session.scalars(select(License.revision))),
        )


def post_file(client: httpx.Client, data: bytes, name: str = "ls_activation.req", page: str = "/activate",
              content_type: str = "application/octet-stream") -> httpx.Response:
    return client.post(page, files={"file": (name, data, content_type)})


def request_bytes(lab: Lab, key: str, device: str = "device-A") -> bytes:
    return lab.manager(device).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()


def assert_clear_4xx(response: httpx.Response, status: int, code: str, fragment: str) -> None:
    assert response.status_code == status, response.text
    text = response.text
    assert f"<code>{code}</code>" in text, text
    assert fragment in text, text
    assert "What to do next:" in text
    assert "Traceback" not in text and '{"' not in text


def _tamper(data: bytes) -> bytes:
    """Edit the signed payload (another hardware id), keeping a well-formed envelope: the signature breaks."""
    envelope = Envelope.parse(data)
    doc = json.loads(envelope.payload)
    doc["hardware_id"] = "0" * len(doc["hardware_id"])
    payload = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")
    return dataclasses.replace(envelope, payload=payload).encode()


def _foreign_request(lab: Lab, tmp_path: Path) -> bytes:
    """A genuine request for a product with the same code at another vendor."""
    other = VendorWorkspace.create(tmp_path / "other-vendor", clock=lab.clock)
    try:
        with other.store.session() as session:
            product = catalog.add_product(session, lab.clock(), PRODUCT)
            foreign_key = catalog.issue_license(session, lab.clock(), product, catalog.LicenseSpec("perpetual")).key
        config = other.client_configuration(PRODUCT, data_dir=tmp_path / "f" / "data", request_dir=tmp_path / "f",
                                            hardware_id="foreign-device", clock=lab.clock)
    finally:
        other.close()
    (tmp_path / "f").mkdir(parents=True, exist_ok=True)
    return LicenseManager(config).create_offline_activation_file(LicenseID.from_key(foreign_key)).read_bytes()


def _cases(lab: Lab, key: str, tmp_path: Path) -> list[tuple[str, bytes, str, int, str, str]]:
    genuine = request_bytes(lab, key)
    lab.respond(lab.manager("device-R").create_offline_activation_file(LicenseID.from_key(key)))
    response_file = (lab.root / "device-R" / "desktop" / "ls_activation.lic").read_bytes()
    return [
        # (label, bytes, file name, status, code, a words of the message)
        ("empty", b"", "ls_activation.req", 400, "file_malformed", "The uploaded file is empty."),
        ("binary", os.urandom(2048), "ls_activation.req", 400, "file_malformed", "damaged or is not a licensing"),
        ("binary-other-name", os.urandom(2048), "photo.jpg", 415, "wrong_file_type", "not a licensing request file"),
        ("nul-bytes", b"\x00" * 1000, "ls_activation.req", 400, "file_malformed", "could not be read"),
        ("truncated", genuine[: len(genuine) // 2], "ls_activation.req", 400, "file_malformed", "cut short"),
        ("truncated-end", genuine[:-2], "ls_activation.req", 400, "file_malformed", "could not be read"),
        ("tampered", _tamper(genuine), "ls_activation.req", 400, "signature_invalid", "altered"),
        ("foreign-product", _foreign_request(lab, tmp_path), "ls_activation.req", 403, "product_configuration",
         "wrong API key"),
        ("response-not-request", response_file, "ls_activation.lic", 415, "wrong_file_type",
         "a file the portal gives out"),
        ("passwd-path-name", b"root:x:0:0:root:/root:/bin/bash\n", "../../etc/passwd", 415, "wrong_file_type",
         "not a licensing request file"),
        ("just-over-the-limit", b"x" * (MAX_FILE_SIZE + 1), "ls_activation.req", 413, "file_too_large",
         "larger than 64 KiB"),
        ("json-not-envelope", b'{"format":"offline-licensing"}', "ls_activation.req", 400, "file_malformed",
         "could not be read"),
    ]


def test_bad_uploads_get_a_clear_4xx_and_change_nothing(lab: Lab, client: httpx.Client, key: str,
                                                        tmp_path: Path) -> None:
    cases = _cases(lab, key, tmp_path)
    before = snapshot(lab)
    for label, data, name, status, code, fragment in cases:
        response = post_file(client, data, name)
        assert_clear_4xx(response, status, code, fragment)
        assert snapshot(lab) == before, label
        assert client.get("/api/v1/ping").status_code == 200, label
    # the same bad files on the deactivation page
    for label, data, name, status, _code, _fragment in cases:
        if label in ("foreign-product", "response-not-request", "tampered"):
            continue  # those are about activation requests in particular
        response = post_file(client, data, name, page="/deactivate")
        assert response.status_code == status, (label, response.text)
        assert snapshot(lab) == before, label


def test_ten_megabytes_are_refused_early_and_the_server_keeps_serving(lab: Lab, client: httpx.Client,
                                                                     key: str) -> None:
    before = snapshot(lab)
    response = post_file(client, os.urandom(10 * 1024 * 1024))
    assert_clear_4xx(response, 413, "file_too_large", "is larger than")
    assert '<input type="file"' in response.text  # the form again, to pick the right file
    assert client.get("/").status_code == 200
    # and a genuine upload right after it is answered
    assert post_file(client, request_bytes(lab, key)).status_code == 200
    assert snapshot(lab)[0] == before[0] + 1


def test_a_streamed_body_over_the_limit_is_cut_off(lab: Lab, portal: str) -> None:
    def chunks() -> Iterator[bytes]:
        boundary_start = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.req\"\r\n\r\n"
        yield boundary_start
        for _ in range(20):
            yield b"x" * 16 * 1024
        yield b"\r\n--b--\r\n"

    before = snapshot(lab)
    with httpx.Client(base_url=portal, timeout=30) as http:
        response = http.post("/activate", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413
        assert "file_too_large" in response.text
    assert httpx.get(portal + "/api/v1/ping").status_code == 200
    assert snapshot(lab) == before


def test_malformed_forms(lab: Lab, client: httpx.Client, key: str) -> None:
    before = snapshot(lab)
    no_file = client.post("/activate", data={"something": "else"})
    assert_clear_4xx(no_file, 400, "file_not_found", "No file was uploaded.")
    nothing_chosen = client.post("/activate", files={"file": ("", b"", "application/octet-stream")})
    assert_clear_4xx(nothing_chosen, 400, "file_not_found", "No file was chosen.")
    json_body = client.post("/activate", json={"file": "x"})
    assert json_body.status_code == 415 and "only accepts a form" in json_body.text
    genuine = request_bytes(lab, key)
    two_files = client.post("/activate", files=[("file", ("a.req", genuine)), ("file", ("b.req", genuine))])
    assert_clear_4xx(two_files, 400, "file_malformed", "form could not be read")
    broken = client.post("/activate", content=b"--x\r\nnot a form", headers={"Content-Type": "multipart/form-data"})
    assert broken.status_code == 400 and "Traceback" not in broken.text
    assert snapshot(lab) == before


def test_the_file_name_is_never_used_as_a_path(lab: Lab, client: httpx.Client, key: str, tmp_path: Path) -> None:
    target = tmp_path / "escape" / "evil.req"
    name = "../../../../../../.." + str(target)
    response = post_file(client, request_bytes(lab, key), name)
    assert response.status_code == 200  # a genuine request is answered whatever it is called…
    assert not target.exists() and not target.parent.exists()  # …and nothing is written anywhere
    for folder in (lab.vendor.folder, Path.cwd()):
        assert not list(folder.rglob("evil.req")) and not list(folder.rglob("passwd"))


def test_an_upload_sent_again_gets_the_same_answer_and_changes_nothing(lab: Lab, client: httpx.Client,
                                                                       key: str) -> None:
    data = request_bytes(lab, key)
    first = client.post("/activate", files={"file": ("ls_activation.req", data)}, data={"download": "1"})
    assert first.status_code == 200
    before = snapshot(lab)
    for _ in range(3):
        again = client.post("/activate", files={"file": ("ls_activation.req", data)}, data={"download": "1"})
        assert again.status_code == 200 and again.content == first.content
    assert snapshot(lab) == before


@pytest.mark.slow
def test_a_burst_of_uploads_is_answered_correctly(lab: Lab, portal: str, key: str) -> None:
    count = 200
    requests = [request_bytes(lab, key, f"burst-{i:03d}") for i in range(count)]
    trusted = lab.vendor.keys.trusted_public_keys()
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)

    with httpx.Client(base_url=portal, timeout=60, limits=limits) as http:
        def send(index: int) -> tuple[int, int, bytes]:
            response = http.post("/activate", files={"file": ("ls_activation.req", requests[index])},
                                 data={"download": "1"})
            return index, response.status_code, response.content

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(send, range(count)))

    device_ids = set()
    for index, status, body in results:
        assert status == 200, (index, body[:300])
        _envelope, doc = open_signed(body, ACTIVATION_RESPONSE, trusted)
        assert doc["hardware_id"] == lab.manager(f"burst-{index:03d}").hardware_id
        device_ids.add(doc["device_id"])
    assert len(device_ids) == count
    with lab.vendor.store.session() as session:
        assert catalog.active_devices(session, catalog.get_license(session, key)) == count
    assert httpx.get(portal + "/api/v1/ping").status_code == 200


def test_other_addresses_have_their_own_body_limits(client: httpx.Client) -> None:
    form = client.post("/admin/login", data={"password": "x" * 20_000})
    assert_clear_4xx(form, 413, "file_too_large", "larger than the 16 KiB")
    api = client.post("/api/v1/activate", content=b"x" * 300_000, headers={"Content-Type": "application/json"})
    assert api.status_code == 413
    assert api.json()["ok"] is False and api.json()["code"] == "file_too_large"
    assert client.get("/api/v1/ping").status_code == 200
