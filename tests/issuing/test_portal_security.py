"""The portal's admin area under attack, over real HTTP (issue 9, items 8, 9 and 10).

Each test performs an attack the review found — a stolen cookie after sign-out, a burst of
concurrent password guesses, guesses spread over two worker processes, a forged ``Host``
header, a user name with a ``/`` — against a real uvicorn server on 127.0.0.1, and checks it
no longer works. The vendor's files are checked for their modes, and old password hashes for
still verifying after the scrypt cost was raised.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import secrets
import stat
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from licensing.issuing import catalog
from licensing.issuing.portal.settings import PortalSettings, set_admin_password
from licensing.issuing.workspace import VendorWorkspace

from support.lab import FakeClock, Lab
from support.portal_server import csrf_token, hidden_value, running_portal, sign_in

PASSWORD = "portal admin password"


@pytest.fixture
def portal(lab: Lab) -> Iterator[str]:
    set_admin_password(lab.vendor.folder, PASSWORD)
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


def _client(url: str, cookies: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, follow_redirects=False, timeout=60, cookies=cookies)


def _old_scrypt_hash(password: str) -> str:
    """A hash as the first release wrote it (N=2^14)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


# -- item 9: signing out ends the session on the server -----------------------------------------------


def test_the_cookie_of_a_signed_out_session_opens_nothing(lab: Lab, portal: str) -> None:
    with _client(portal) as browser:
        sign_in(browser, PASSWORD)
        stolen = dict(browser.cookies)  # what an attacker copied while the admin was signed in
        dashboard = browser.get("/admin")
        browser.post("/admin/logout", data={"csrf_token": hidden_value(dashboard.text, "csrf_token")})
    with _client(portal, stolen) as attacker:
        assert attacker.get("/admin").status_code == 303
        assert attacker.get("/admin/products/chatbot/config").status_code == 303
        token = csrf_token(attacker, "/admin/login")
        refused = attacker.post("/admin/products", data={"csrf_token": token, "code": "sneaky"})
        assert refused.status_code == 403
    with lab.vendor.store.session() as session:
        assert [p.code for p in catalog.list_products(session)] == ["chatbot"]


def test_an_admin_session_ends_on_the_server_when_its_time_is_up(lab: Lab, portal: str, clock: FakeClock) -> None:
    with _client(portal) as browser:
        sign_in(browser, PASSWORD)
        assert browser.get("/admin").status_code == 200
        clock.advance(hours=8, seconds=1)
        assert browser.get("/admin").status_code == 303


def test_signing_out_in_one_browser_leaves_another_signed_in(portal: str) -> None:
    with _client(portal) as first, _client(portal) as second:
        sign_in(first, PASSWORD)
        sign_in(second, PASSWORD)
        dashboard = first.get("/admin")
        first.post("/admin/logout", data={"csrf_token": hidden_value(dashboard.text, "csrf_token")})
        assert first.get("/admin").status_code == 303
        assert second.get("/admin").status_code == 200


# -- item 8: the login limit cannot be raced -----------------------------------------------------------


def _guess_all_at_once(url: str, count: int, password: str = "not it") -> list[int]:
    """``count`` sign-ins sent together, each on its own connection (so two workers both get some)."""
    with _client(url) as first:
        token = csrf_token(first)
        cookies = dict(first.cookies)

    def guess(_: int) -> int:
        with _client(url, cookies) as http:
            return http.post("/admin/login", data={"csrf_token": token, "password": password}).status_code

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(guess, range(count)))


@pytest.mark.slow
def test_twenty_concurrent_guesses_get_the_allowance_not_twenty_checks(portal: str) -> None:
    statuses = _guess_all_at_once(portal, 20)
    assert sorted(set(statuses)) == [403, 429]
    assert statuses.count(403) == 5  # checked (and wrong); the other 15 were refused before hashing
    assert _guess_all_at_once(portal, 1, PASSWORD) == [429]  # even the right password waits now


@pytest.fixture(params=["sqlite", "postgresql"])
def real_time_lab(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Lab]:
    """A lab on real time (worker processes use the system clock), on SQLite and on PostgreSQL."""
    clock.set(datetime.now(timezone.utc))
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    lab = Lab(tmp_path, clock, database_url=url)
    set_admin_password(lab.vendor.folder, PASSWORD)
    yield lab
    lab.vendor.close()


@pytest.mark.slow
def test_two_workers_share_the_login_limit(real_time_lab: Lab) -> None:
    lab = real_time_lab
    with running_portal(lab.vendor.folder, database_url=lab.database_url, workers=2) as url:
        statuses = _guess_all_at_once(url, 20)
        assert statuses.count(403) == 5, statuses  # one allowance for the whole portal, not one per worker
        assert _guess_all_at_once(url, 4, PASSWORD) == [429] * 4


@pytest.mark.slow
def test_two_workers_share_the_sign_out(real_time_lab: Lab) -> None:
    lab = real_time_lab
    with running_portal(lab.vendor.folder, database_url=lab.database_url, workers=2) as url:
        with _client(url) as browser:
            sign_in(browser, PASSWORD)
            cookies = dict(browser.cookies)
            dashboard = browser.get("/admin")
            browser.post("/admin/logout", data={"csrf_token": hidden_value(dashboard.text, "csrf_token")})
        for _ in range(6):  # fresh connections: whichever worker answers, the session is over
            with _client(url, cookies) as again:
                assert again.get("/admin").status_code == 303


# -- item 10: HSTS and Secure cookies behind TLS -------------------------------------------------------


def test_hsts_is_sent_on_https_and_not_on_plain_http(portal: str) -> None:
    plain = httpx.get(portal + "/")
    assert "strict-transport-security" not in plain.headers
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (a local reverse proxy terminating TLS)
    proxied = httpx.get(portal + "/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
    api = httpx.get(portal + "/api/v1/ping", headers={"X-Forwarded-Proto": "https"})
    assert api.headers["strict-transport-security"] == "max-age=31536000"
    assert "strict-transport-security" not in httpx.get(portal + "/api/v1/ping").headers


def test_secure_cookies_setting_marks_cookies_and_sends_hsts_even_without_the_proxy_header(lab: Lab) -> None:
    settings = PortalSettings.from_folder(lab.vendor.folder, secure_cookies=True)
    with running_portal(lab.vendor.folder, workspace=lab.vendor, settings=settings) as url:
        response = httpx.get(url + "/admin/login")
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_serve_secure_cookies_option(lab: Lab) -> None:
    lab.clock.set(datetime.now(timezone.utc))
    with running_portal(lab.vendor.folder, serve_options=("--secure-cookies",)) as url:
        response = httpx.get(url + "/admin/login")
        api = httpx.get(url + "/api/v1/ping")
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"] == "max-age=31536000"
    assert api.headers["strict-transport-security"] == "max-age=31536000"


# -- item 10: redirects never come from the Host header -------------------------------------------------


def test_trailing_slash_redirect_is_a_path_not_the_host_the_client_named(portal: str) -> None:
    with _client(portal) as http:
        response = http.get("/admin/", headers={"Host": "evil.example"})
        assert response.status_code == 308
        assert response.headers["location"] == "/admin"
        moved = http.get("/activate/?x=1", headers={"Host": "evil.example"})
        assert moved.headers["location"] == "/activate?x=1"
        for sneaky in ("//evil.example/", "//admin/", "/nowhere/", "/\\evil.example/", "/%5Cadmin/"):
            assert httpx.get(portal + sneaky).status_code == 404, sneaky  # the path as is, no base-URL joining
        assert http.post("/admin/").status_code in (404, 405)


# -- item 10: any user name has a reachable admin page --------------------------------------------------


@pytest.mark.parametrize("user", ["team/alice", "50%/off", "a%2Fb"])
def test_a_user_name_with_a_slash_has_a_working_admin_page(lab: Lab, portal: str, user: str) -> None:
    lab.issue("perpetual", user=user, password="her own password", max_activations=2)
    lab.issue("perpetual", user="a", password="another password")  # a prefix of one of them
    with _client(portal) as admin:
        sign_in(admin, PASSWORD)
        listing = admin.get("/admin/licenses")
        links = [line.split('href="', 1)[1].split('"', 1)[0] for line in listing.text.splitlines()
                 if "/admin/licenses/" in line and "<code>" in line]
        (url,) = [link for link in links if link != "/admin/licenses/a"]
        page = admin.get(url)
        assert page.status_code == 200, page.text
        assert f"<code>{user}</code>" in page.text
        assert admin.get(url + "/devices").status_code == 200
        token = hidden_value(page.text, "csrf_token")
        assert admin.post(url + "/disable", data={"csrf_token": token}).headers["location"] == url
    with lab.vendor.store.session() as session:
        assert catalog.get_license(session, user).enabled is False
        assert catalog.get_license(session, "a").enabled is True


def test_sign_in_brings_back_to_the_page_of_such_a_user(lab: Lab, portal: str) -> None:
    lab.issue("perpetual", user="team/bob", password="his own password")
    with _client(portal) as browser:
        sign_in(browser, PASSWORD)
        url = next(line.split('href="', 1)[1].split('"', 1)[0] for line in browser.get("/admin/licenses").text
                   .splitlines() if "team/bob" in line and "href" in line)
    with _client(portal) as browser:
        to_login = browser.get(url)
        assert to_login.status_code == 303
        page = browser.get(to_login.headers["location"])
        token = hidden_value(page.text, "csrf_token")
        back = browser.post("/admin/login", data={"csrf_token": token, "password": PASSWORD,
                                                   "next": hidden_value(page.text, "next")})
        assert back.headers["location"] == url
        assert "<code>team/bob</code>" in browser.get(url).text


# -- item 10: scrypt cost, old hashes ---------------------------------------------------------------------


def test_new_password_hashes_use_the_raised_scrypt_cost(lab: Lab) -> None:
    lab.issue("perpetual", user="carol", password="her own password")
    set_admin_password(lab.vendor.folder, "the admin password")
    with lab.vendor.store.session() as session:
        license_hash = catalog.get_license(session, "carol").password_hash or ""
    admin_hash = json.loads((lab.vendor.folder / "portal.json").read_text())["admin_password_hash"]
    for stored in (license_hash, admin_hash):
        scheme, n, r, p, _salt, _digest = stored.split("$")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)  # the hash records its parameters


def test_hashes_of_the_first_release_still_verify(lab: Lab) -> None:
    from licensing.issuing.passwords import password_matches

    old = _old_scrypt_hash("the old admin password")
    assert password_matches(old, "the old admin password") and not password_matches(old, "guess")
    set_admin_password(lab.vendor.folder, "placeholder password")
    document = json.loads((lab.vendor.folder / "portal.json").read_text())
    document["admin_password_hash"] = old
    (lab.vendor.folder / "portal.json").write_text(json.dumps(document))
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url, _client(url) as browser:
        sign_in(browser, "the old admin password")
        assert browser.get("/admin").status_code == 200


@pytest.mark.parametrize("stored", ["", "scrypt$x$8$1$00$00", "bcrypt$16384$8$1$00$00", "scrypt$3$8$1$00$00",
                                    f"scrypt${2**30}$8$1$00$00", "scrypt$16384$8$1$00$", "no dollars"])
def test_a_damaged_hash_matches_nothing(stored: str) -> None:
    from licensing.issuing.passwords import password_matches

    assert password_matches(stored, "anything") is False


# -- item 10: the vendor's files are private -------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_the_vendor_folder_private(tmp_path: Path) -> None:
    from licensing.issuing.cli import main

    folder = tmp_path / "vendor"
    assert main(["--data", str(folder), "init"]) == 0
    assert main(["--data", str(folder), "product", "add", "chatbot"]) == 0
    assert _mode(folder) == 0o700 and _mode(folder / "keys") == 0o700
    assert _mode(folder / "vendor.db") == 0o600
    for path in [*folder.glob("vendor.db*"), *(folder / "keys").iterdir()]:
        assert _mode(path) == 0o600, path


def test_opening_an_old_vendor_folder_tightens_its_modes(lab: Lab) -> None:
    folder = lab.vendor.folder
    lab.vendor.close()
    folder.chmod(0o755)
    (folder / "keys").chmod(0o755)
    (folder / "vendor.db").chmod(0o644)
    VendorWorkspace.open(folder).close()
    assert _mode(folder) == 0o700 and _mode(folder / "keys") == 0o700 and _mode(folder / "vendor.db") == 0o600
