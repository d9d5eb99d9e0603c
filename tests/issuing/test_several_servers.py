"""Two portal servers on one database: whichever answers, admin sessions, CSRF tokens and the
sign-in limit hold (on SQLite and PostgreSQL). Each server is a real uvicorn on 127.0.0.1 with a
workspace of its own (its own connections and in-memory state), sharing the vendor's folder
(keys, ``portal.json``) and database, as two hosts with copies of those files would."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from licensing.issuing.portal.settings import set_admin_password
from licensing.issuing.throttle import Throttle
from licensing.issuing.workspace import VendorWorkspace

from support.lab import Lab
from support.portal_server import csrf_token, hidden_value, running_portal, sign_in

PASSWORD = "portal admin password"


@pytest.fixture
def lab(online_lab: Lab) -> Lab:
    set_admin_password(online_lab.vendor.folder, PASSWORD)
    return online_lab


@pytest.fixture
def servers(lab: Lab) -> Iterator[tuple[str, str]]:
    with running_portal(lab.vendor.folder, database_url=lab.database_url) as first, \
            running_portal(lab.vendor.folder, database_url=lab.database_url) as second:
        yield first, second


def test_a_session_and_its_csrf_token_work_on_the_other_server(servers: tuple[str, str]) -> None:
    first, second = servers
    with httpx.Client(base_url=first, follow_redirects=False) as one:
        sign_in(one, PASSWORD)
        cookies = one.cookies
        token = hidden_value(one.get("/admin/products").text, "csrf_token")
    with httpx.Client(base_url=second, follow_redirects=False, cookies=cookies) as other:
        assert other.get("/admin").status_code == 200
        added = other.post("/admin/products", data={"csrf_token": token, "code": "made-on-two", "name": "Two"})
        assert added.status_code == 303, added.text
        assert other.post("/admin/products", data={"csrf_token": "x" * 43, "code": "nope"}).status_code == 403
    with httpx.Client(base_url=first, follow_redirects=False, cookies=cookies) as one:
        assert "made-on-two" in one.get("/admin/products").text


def test_the_sign_in_limit_counts_the_attempts_made_on_every_server(servers: tuple[str, str]) -> None:
    clients = [httpx.Client(base_url=url, follow_redirects=False) for url in servers]
    try:
        tokens = [csrf_token(client) for client in clients]
        for attempt in range(5):  # 3 on one server, 2 on the other
            index = attempt % 2
            wrong = clients[index].post("/admin/login", data={"csrf_token": tokens[index], "password": "not it"})
            assert wrong.status_code == 403, wrong.text
        for index in (0, 1):
            refused = clients[index].post("/admin/login", data={"csrf_token": tokens[index], "password": PASSWORD})
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    finally:
        for client in clients:
            client.close()


def test_a_burst_of_attempts_cannot_outrun_the_count(lab: Lab) -> None:
    """Twenty attempts at once, from threads of two 'servers' (two stores): five go ahead, no more."""
    other = VendorWorkspace.open(lab.vendor.folder, database_url=lab.database_url)
    try:
        throttles = [Throttle(workspace.store, "admin-login", 5, 60.0, lab.clock) for workspace in (lab.vendor, other)]
        start = threading.Barrier(20)
        waits: list[int] = []

        def attempt(index: int) -> None:
            start.wait()
            waits.append(throttles[index % 2].reserve("203.0.113.9"))

        threads = [threading.Thread(target=attempt, args=(index,)) for index in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert Counter(wait == 0 for wait in waits) == {True: 5, False: 15}
    finally:
        other.close()


def test_the_limit_slides_with_time_and_a_success_clears_it(lab: Lab) -> None:
    throttle = Throttle(lab.vendor.store, "admin-login", 3, 60.0, lab.clock)
    assert [throttle.reserve("a") for _ in range(3)] == [0, 0, 0]
    assert 0 < throttle.reserve("a") <= 60 and throttle.reserve("b") == 0  # per subject
    lab.clock.advance(seconds=61)
    assert throttle.reserve("a") == 0
    throttle.clear("a")
    assert [throttle.reserve("a") for _ in range(3)] == [0, 0, 0]
    other_scope = Throttle(lab.vendor.store, "another-scope", 1, 60.0, lab.clock)
    assert other_scope.reserve("a") == 0  # scopes are separate
    lab.clock.advance(seconds=10)
    assert throttle.reserve("a") == 50
