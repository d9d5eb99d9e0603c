"""Regenerate the README's screenshots: ``docs/images/chat.png`` and ``docs/images/portal.png``.

Run: ``.venv/bin/python scripts/screenshots.py`` (needs Debian's ``chromium``). The chat app is
driven by Textual's pilot through the tutorial's first steps on a fresh demo vendor and exported
as SVG; the portal is served on 127.0.0.1 and shown after a real upload; headless Chromium turns
both into PNG. Nothing here is hand-edited, so the pictures always show the current product.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]


async def _send(pilot: Any, text: str) -> None:
    """Type a line into the chat and wait for the bot's answer."""
    app = pilot.app
    app.chat_input.insert_text_at_cursor(text)
    await pilot.press("enter")
    await pilot.pause(0.05)
    for _ in range(500):
        if not app.busy:
            break
        await pilot.pause(0.02)
    await app.workers.wait_for_complete()
    await pilot.pause(0.1)


async def chat_svg(work: Path) -> tuple[str, Path]:
    """The chat app after the offline activation's two steps; returns the SVG and the demo vendor."""
    from chatbot.bootstrap import create_bot
    from chatbot.tui.app import ChatApp
    from licensing.issuing.workspace import VendorWorkspace

    bot = create_bot(data_dir=work / "chatbot")
    demo = bot.demo
    key = dict((label, key) for label, key, _ in demo.licenses)["perpetual"]
    app = ChatApp(bot, history_path=work / "history", cursor_blink=False, start_dir=work)
    async with app.run_test(size=(100, 34)) as pilot:
        for _ in range(500):  # the greeting comes from a worker
            if app.bot is not None and not app.busy:
                break
            await pilot.pause(0.02)
        await _send(pilot, "activate offline")
        await _send(pilot, key)
        request = bot.manager.config.requests_dir / "ls_activation.req"
        workspace = VendorWorkspace.open(demo.vendor_dir)
        try:  # play the portal, exactly as the bot's printed command would
            answer = workspace.issuer.answer_activation(request.read_bytes())
        finally:
            workspace.close()
        (request.parent / "ls_activation.lic").write_bytes(answer.data)
        await _send(pilot, "activate offline")
        await _send(pilot, "tell me a joke")
        return app.export_screenshot(title="chatbot"), demo.vendor_dir


def portal_page(browser: Any, vendor_dir: Path, request: Path, target: Path) -> None:
    """The portal's activation page after uploading a real request."""
    sys.path.insert(0, str(ROOT / "tests"))
    from portal_server import running_portal

    with running_portal(vendor_dir) as url:
        page = browser.new_page(viewport={"width": 1000, "height": 760})
        page.goto(f"{url}/activate")
        page.set_input_files("input[type=file]", str(request))
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state()
        page.screenshot(path=str(target), full_page=True)
        page.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        work = Path(scratch)
        os.environ["HOME"] = str(work)  # the request lands on this run's own "desktop"
        os.environ["CHATBOT_HARDWARE_ID"] = "screenshot-device"
        os.environ["XDG_STATE_HOME"] = str(work / "state")  # the SDK's second trace and the chatbot's pins
        svg, vendor_dir = asyncio.run(chat_svg(work))
        svg_path = work / "chat.svg"
        svg_path.write_text(svg, encoding="utf-8")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1240, "height": 900}, device_scale_factor=1)
            page.goto(svg_path.as_uri())
            page.locator("svg").screenshot(path=str(OUT / "chat.png"))
            page.close()
            # A second device's request, answered on the portal's page.
            from licensing import Configuration, LicenseID, LicenseManager

            other = LicenseManager(Configuration.from_file(
                vendor_dir / "chatbot-config.json", data_dir=work / "other", request_dir=work / "other-desk",
                hardware_id="second-device"))
            key = next(key for label, key, _ in _demo_licenses(vendor_dir) if label == "time-based")
            request = other.create_offline_activation_file(LicenseID.from_key(key))
            portal_page(browser, vendor_dir, request, OUT / "portal.png")
            browser.close()
    for name in ("chat.png", "portal.png"):
        print(f"wrote {OUT / name}")
    return 0


def _demo_licenses(vendor_dir: Path) -> list[tuple[str, str, str]]:
    from chatbot.bootstrap import demo_vendor

    return list(demo_vendor(vendor_dir).licenses)


if __name__ == "__main__":
    sys.exit(main())
