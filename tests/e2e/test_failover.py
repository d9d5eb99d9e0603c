"""Two license servers behind HAProxy on one PostgreSQL; one is killed with SIGKILL mid-run.

The set is ``scripts/scaleout.py``'s: real ``licensing-portal serve`` processes, Debian's HAProxy
with its health checks, a throw-away PostgreSQL cluster. Clients send activations (through the
JSON API and the portal's upload page, as pre-signed SDK-shaped requests) and real SDK devices
report consumption, twelve at a time, while server 1 is killed, found dead by HAProxy, restarted
and taken back. A client whose request fails sends the very same bytes again. Then every count
must be exact: one device and one seat per activation request, the same answer to a request sent
twice, every reported use booked once.
"""

from __future__ import annotations

import json
import queue
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from scaleout import ScaleOut, free_port, postgres_binary
from sqlalchemy import func, select

from licensing import LicenseError, LicenseID, LicenseManager
from licensing.issuing import catalog
from licensing.issuing.models import AnsweredRequest, Device
from licensing.issuing.workspace import VendorWorkspace
from licensing.wire import ACTIVATION_REQUEST, ACTIVATION_RESPONSE, Envelope, open_signed

from support.signed_requests import activation_request

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists(),
                       reason="HAProxy is not installed (scripts/test.sh installs it)"),
    pytest.mark.skipif(postgres_binary("initdb") is None, reason="PostgreSQL is not installed"),
]

ACTIVATIONS = 480
CLIENTS = 12
DEVICES = 6  # SDK devices reporting consumption
REPORTS = 12  # reports per device
BOUNDARY = "failover-test-boundary"


@pytest.fixture
def scale() -> Iterator[ScaleOut]:
    folder = Path(tempfile.mkdtemp(prefix="licensing-failover-"))
    folder.chmod(0o755)  # PostgreSQL's own user must reach its folder inside
    created = ScaleOut(folder / "set", servers=2, workers=1, port=free_port(), durable=False, fixed_ports=False)
    try:
        created.start()
        yield created
    finally:
        created.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Sent:
    """One request's fate: attempts made, the answer kept, and which server gave it when."""

    data: bytes
    via: str  # "api" or "page"
    attempts: int = 0
    answer: bytes | None = None
    served_by: list[tuple[float, str]] = field(default_factory=list)


def _post(client: httpx.Client, sent: Sent, api_key: str) -> httpx.Response:
    if sent.via == "api":
        return client.post("/api/v1/activate", content=sent.data,
                           headers={"Content-Type": "application/json", "X-Api-Key": api_key})
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"download\"\r\n\r\n1\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ls_activation.req\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + sent.data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return client.post("/activate", content=body, headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})


def _send_until_answered(client: httpx.Client, sent: Sent, api_key: str) -> None:
    """What a careful client does: on any failure, send the very same request again."""
    for _ in range(20):
        sent.attempts += 1
        try:
            response = _post(client, sent, api_key)
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            sent.answer = response.content
            sent.served_by.append((time.monotonic(), response.headers.get("x-served-by", "?")))
            return
        assert response.status_code >= 500, response.text  # a refusal would be a bug here
        time.sleep(0.2)
    raise AssertionError("a request was never answered")


def _report_consumption(license: object, reports: int, errors: list[str]) -> None:
    """An SDK device using its license and reporting each use; a failed report is simply resent."""
    for _ in range(reports):
        license.add_local_consumption(1)  # type: ignore[attr-defined]
        for _ in range(50):
            try:
                if license.sync_consumption() == 0:  # type: ignore[attr-defined]
                    break
            except LicenseError as error:  # the server went away mid-report: the SDK keeps it pending
                errors.append(error.code)
                time.sleep(0.2)
        else:
            raise AssertionError("a consumption report was never acknowledged")


def test_a_server_killed_mid_run_loses_nothing_and_counts_nothing_twice(scale: ScaleOut) -> None:
    workspace = VendorWorkspace.open(scale.vendor_folder, database_url=scale.database_url)
    try:
        now = datetime.now(timezone.utc)
        with workspace.store.session() as session:
            product = catalog.add_product(session, now, "failover", "Failover test")
            key = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                "perpetual", max_activations=10**6)).key
            metered = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                "consumption", max_consumptions=10**6, max_activations=DEVICES)).key
        assert key is not None and metered is not None
        config = workspace.client_configuration("failover")
        requests = [Sent(activation_request(config, key), "api" if index % 2 else "page") for index in range(ACTIVATIONS)]

        devices = []
        for index in range(DEVICES):
            folder = scale.folder / f"device-{index}"
            manager = LicenseManager(config.with_options(server_url=scale.url, data_dir=folder / "data",
                                                         request_dir=folder, hardware_id=f"failover-device-{index}"))
            devices.append(manager.activate_license(LicenseID.from_key(metered)))

        work: queue.Queue[Sent] = queue.Queue()
        for sent in requests:
            work.put(sent)
        answered = [0]
        progress = threading.Condition()
        rejoined = threading.Event()
        pause_at = [ACTIVATIONS // 2]  # the clients wait here until told to go on
        problems: list[BaseException] = []

        def wait_until_answered(count: int) -> None:
            with progress:
                assert progress.wait_for(lambda: answered[0] >= count or bool(problems), timeout=120)
            assert not problems, problems

        def client() -> None:
            with httpx.Client(base_url=scale.url, timeout=30) as http:
                while True:
                    try:
                        sent = work.get_nowait()
                    except queue.Empty:
                        return
                    with progress:
                        progress.wait_for(lambda: answered[0] < pause_at[0] or rejoined.is_set(), timeout=120)
                    try:
                        _send_until_answered(http, sent, config.api_key)
                    except BaseException as error:  # noqa: BLE001 - reported below
                        problems.append(error)
                        return
                    with progress:
                        answered[0] += 1
                        progress.notify_all()

        report_errors: list[str] = []
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        threads += [threading.Thread(target=_report_consumption, args=(device, REPORTS, report_errors))
                    for device in devices]
        for thread in threads:
            thread.start()

        wait_until_answered(ACTIVATIONS // 3)  # a third answered: server 1 dies, requests in flight on it
        killed_at = time.monotonic()
        scale.kill_server(1)
        scale.wait_for_state("portal1", "DOWN")
        down_at = time.monotonic()
        with progress:  # the survivor carries on alone for a sixth of the requests
            pause_at[0] = max(answered[0], pause_at[0]) + ACTIVATIONS // 6
            progress.notify_all()
        wait_until_answered(pause_at[0])
        restarted_at = time.monotonic()
        scale.start_server(1)
        scale.wait_for_state("portal1", "UP")
        up_at = time.monotonic()
        with progress:  # the rest once server 1 is back
            rejoined.set()
            progress.notify_all()
        for thread in threads:
            thread.join(timeout=300)
        assert not problems, problems
        assert all(sent.answer is not None for sent in requests)

        # Clients saw at most the requests in flight on the killed server fail, and those were
        # answered when sent again (HAProxy resends a request cut off by a dying server itself).
        retried = [sent for sent in requests if sent.attempts > 1]
        assert len(retried) <= CLIENTS, [sent.attempts for sent in retried]
        resent = scale.backend_stats("answers")
        assert int(resent["wretr"]) + int(resent["wredis"]) > 0, resent  # …and HAProxy did resend some

        # Every answer is a genuine activation response for its own request, on its own device.
        trusted = workspace.keys.trusted_public_keys()
        device_ids = set()
        for sent in requests:
            assert sent.answer is not None
            _envelope, doc = open_signed(sent.answer, ACTIVATION_RESPONSE, trusted)
            assert doc["request_id"] == json.loads(Envelope.parse(sent.data).payload)["request_id"]
            device_ids.add(doc["device_id"])
        assert len(device_ids) == ACTIVATIONS

        # The same request again gets the same answer, whichever server takes it.
        with httpx.Client(base_url=scale.url, timeout=30) as http:
            for sent in random.Random(5).sample(requests, 40):
                again = _post(http, sent, config.api_key)
                assert again.status_code == 200 and again.content == sent.answer

        # No activation lost, none counted twice: devices, seats and answered requests agree.
        with workspace.store.session() as session:
            license = catalog.get_license(session, key)
            active = session.scalar(select(func.count()).select_from(Device).where(
                Device.license_id == license.id, Device.active.is_(True)))
            every = session.scalar(select(func.count()).select_from(Device).where(Device.license_id == license.id))
            requests_answered = session.scalar(select(func.count()).select_from(AnsweredRequest).join(
                Device, Device.id == AnsweredRequest.device_id).where(
                Device.license_id == license.id, AnsweredRequest.kind == ACTIVATION_REQUEST))
            assert (license.active_devices, active, every, requests_answered) == (ACTIVATIONS,) * 4
            assert set(session.scalars(select(Device.id).where(Device.license_id == license.id))) == device_ids
            # Every reported use booked exactly once.
            consumption = catalog.get_license(session, metered)
            assert consumption.total_consumptions == DEVICES * REPORTS
            assert sorted(device.booked_consumptions for device in consumption.devices) == [REPORTS] * DEVICES

        # The survivor answered alone while server 1 was down; server 1 answers again once back.
        served = [(at, server) for sent in requests for at, server in sent.served_by]
        assert {server for at, server in served if down_at < at < restarted_at} == {"portal2"}
        assert any(server == "portal1" for at, server in served if at < killed_at)
        with httpx.Client(base_url=scale.url, timeout=30) as http:
            after = {http.get("/api/v1/health").headers["x-served-by"] for _ in range(10)}
        assert after == {"portal1", "portal2"}
        assert up_at > restarted_at
    finally:
        workspace.close()
