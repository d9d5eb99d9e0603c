"""The portal in a real browser: Debian's headless Chromium driven by Playwright.

The pages are used with JavaScript switched off (they must work without it): upload a request,
download the response and activate with it, sign in as admin, open the license's Devices tab and
download a refresh file that the SDK applies. A second, phone-sized browser checks that the pages
fit 390 px without sideways scrolling. A full-page screenshot of each page is kept under
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from licensing import LicenseID
from licensing.issuing.portal.settings import set_admin_password

from support.lab import Lab
from support.portal_server import running_portal

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser admin password"

pytestmark = [
    pytest.mark.slow,  # a real browser: in `bash scripts/test.sh` and CI, not in the quick default loop
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def portal(lab: Lab) -> Iterator[str]:
    set_admin_password(lab.vendor.folder, PASSWORD)
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def heading(page: Any) -> str:
    return page.locator("h1").inner_text().strip()


def test_activation_admin_devices_and_refresh_in_a_real_browser(lab: Lab, portal: str, browser: Any,
                                                                tmp_path: Path) -> None:
    key = lab.issue("perpetual", features=("jokes",), max_activations=3, customer="Browser Test Ltd")
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))

    context = browser.new_context(accept_downloads=True, java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(portal + "/")
        assert heading(page) == "Offline Licensing Portal"
        shot(page, "01-home")

        page.get_by_role("link", name="Offline activation").first.click()
        assert heading(page) == "Offline activation"
        shot(page, "02-activate")
        page.get_by_label("Activation request file (ls_activation.req)").set_input_files(str(request))
        page.get_by_role("button", name="Upload and get ls_activation.lic").click()
        assert heading(page) == "Activation ready"
        assert "1 of 3" in page.inner_text("main")
        shot(page, "03-activation-ready")

        with page.expect_download() as info:
            page.get_by_role("button", name="Download ls_activation.lic").click()
        download = info.value
        assert download.suggested_filename == "ls_activation.lic"
        response_file = request.parent / "ls_activation.lic"
        download.save_as(str(response_file))
        license = manager.activate_license_offline(response_file)
        assert license.local_check().ok and license.has_feature("jokes")

        # the same request again (an answer lost on the way): the same file, said so in plain words
        page.goto(portal + "/activate")
        page.get_by_label("Activation request file (ls_activation.req)").set_input_files(str(request))
        page.get_by_role("button", name="Upload and get ls_activation.lic").click()
        assert "already answered" in page.get_by_role("status").inner_text()
        assert "1 of 3" in page.inner_text("main")

        # the response file instead of the request: refused on the page, in plain words
        page.goto(portal + "/activate")
        page.get_by_label("Activation request file (ls_activation.req)").set_input_files(str(response_file))
        page.get_by_role("button", name="Upload and get ls_activation.lic").click()
        alert = page.get_by_role("alert").inner_text()
        assert "not a request" in alert and "What to do next" in alert
        shot(page, "04-refusal-wrong-file")

        # admin: sign in, find the license, add a feature, open its Devices tab
        page.goto(portal + "/admin")
        assert heading(page) == "Admin sign-in"
        shot(page, "05-admin-sign-in")
        page.get_by_label("Admin password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        assert heading(page) == "Dashboard"
        shot(page, "06-admin-dashboard")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Licenses").click()
        assert heading(page) == "Licenses"
        shot(page, "07-admin-licenses")
        page.get_by_role("link", name=key).click()
        assert heading(page) == f"License {key}"
        page.get_by_label("Feature code").fill("dice")
        page.get_by_role("button", name="Add the feature").click()
        assert "Added the feature dice" in page.get_by_role("status").first.inner_text()
        shot(page, "08-admin-license")

        page.get_by_role("link", name=re.compile(r"^Devices \(1\)$")).click()
        assert heading(page) == f"Devices of {key}"
        assert license.device_id in page.inner_text("main")
        shot(page, "09-admin-devices")
        with page.expect_download() as info:
            page.get_by_role("button", name="Download license_refresh.lic").click()
        refresh = info.value
        assert refresh.suggested_filename == "license_refresh.lic"
        refresh_file = request.parent / "license_refresh.lic"
        refresh.save_as(str(refresh_file))
        refreshed = license.update_offline(refresh_file)
        assert refreshed.has_feature("dice") and refreshed.local_check().ok

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
        assert "device.refresh" in page.inner_text("main")
        shot(page, "10-admin-audit")

        # the device's own refresh request, on the public Refresh page
        refresh_request = refreshed.create_refresh_request()
        page.goto(portal + "/refresh")
        shot(page, "11-refresh")
        page.get_by_label("Refresh request file (license_refresh.req)").set_input_files(str(refresh_request))
        page.get_by_role("button", name="Upload and get license_refresh.lic").click()
        assert heading(page) == "Refresh ready" and "dice" in page.inner_text("main")
        shot(page, "12-refresh-ready")

        # offline deactivation: upload ls_deactivation.req, see and download the receipt
        deactivation = refreshed.deactivate_offline()
        page.goto(portal + "/deactivate")
        shot(page, "13-deactivate")
        page.get_by_label("Deactivation request file (ls_deactivation.req)").set_input_files(str(deactivation))
        page.get_by_role("button", name="Upload and free the activation").click()
        assert heading(page) == "Deactivation receipt" and "0 of 3" in page.inner_text("main")
        shot(page, "14-deactivation-receipt")
        with page.expect_download() as info:
            page.get_by_role("button", name=re.compile("Download the receipt")).click()
        assert info.value.suggested_filename == "ls_deactivation_receipt.json"
    finally:
        context.close()


def test_pages_fit_a_phone_screen(lab: Lab, portal: str, browser: Any) -> None:
    key = lab.issue("perpetual", features=("jokes", "dice"), max_activations=2)
    lab.activate(lab.manager("device-A"), key)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()

        def fits(name: str) -> None:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} is {width}px wide at a 390px screen"
            shot(page, f"phone-{name}")

        page.goto(portal + "/")
        fits("home")
        page.goto(portal + "/activate")
        fits("activate")
        page.goto(portal + "/admin/login")
        page.get_by_label("Admin password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        assert heading(page) == "Dashboard"
        fits("dashboard")
        page.goto(portal + "/admin/licenses")
        fits("licenses")
        page.goto(portal + f"/admin/licenses/{key}")
        fits("license")
        page.goto(portal + f"/admin/licenses/{key}/devices")
        fits("devices")
    finally:
        context.close()
