"""Two portal servers on one database: whichever answers, admin sessions (and signing out), CSRF
tokens and the sign-in limit hold (on SQLite and PostgreSQL). Each server is a real uvicorn on 127.0.0.1 with a
workspace of its own (its own connections and in-memory state), sharing the vendor's folder
(keys, ``portal.json``) and database, as two hosts with copies of those files would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from licensing.issuing.portal.settings import set_admin_password

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


def test_signing_out_on_one_server_ends_the_session_on_the_other(servers: tuple[str, str]) -> None:
    first, second = servers
    with httpx.Client(base_url=first, follow_redirects=False) as one:
        sign_in(one, PASSWORD)
        cookies = httpx.Cookies(one.cookies)
        token = hidden_value(one.get("/admin").text, "csrf_token")
        assert one.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    with httpx.Client(base_url=second, follow_redirects=False, cookies=cookies) as other:
        assert other.get("/admin").status_code == 303  # the old cookie no longer opens the admin area


@pytest.mark.slow
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
