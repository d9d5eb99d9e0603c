"""Build a ready :class:`~chatbot.bot.Bot` from a configuration file — or from the built-in demo vendor.

The configuration is resolved in this order: an explicit path, else ``$CHATBOT_CONFIG``, else
the demo vendor in the chatbot's data folder (``platformdirs`` user data dir
``offline-licensing-chatbot``, or ``$CHATBOT_DATA_DIR``, or the ``data_dir`` argument). The demo
vendor is built on first start and reused afterwards, so a
newcomer can run the whole offline flow on one machine: the bot names the exact
``licensing-portal --data … respond …`` command that plays the portal.

Floating seats come from the floating server named by ``floating_url`` (``chatbot
--floating-server URL``), else ``$CHATBOT_FLOATING_SERVER``; on the demo vendor with neither,
from the demo's own floating server on 127.0.0.1, which the bot starts when asked.

Pinning the trust anchor (the configuration file): the demo vendor is made on this machine, so
no fingerprint can ship in the code; the chatbot records the demo configuration's fingerprint in
its *state* folder when it builds the demo (or, for a demo built by an earlier version, the first
time it uses it) and refuses the file if it changes afterwards. For ``--config FILE`` the pin is
the vendor's to give: ``$CHATBOT_CONFIG_FINGERPRINT`` (``sha256:…``, what
``Configuration.fingerprint`` shows for the file the vendor exported).

The device identity is the platform's, unless ``$CHATBOT_HARDWARE_ID`` is set: the chatbot opts
in to a pinned id there (containers, test rigs and screenshot runs need one), knowing that
whoever sets it can move its license to another machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import platformdirs

from licensing import Configuration, ConfigurationError, ConfigurationTamperedError, LicenseManager
from licensing.issuing.demo_plan import (
    CONFIG_FILE,
    DEMO_LICENSES,
    FLOATING_PORT,
    FLOATING_SITE,
    LICENSES_FILE,
    read_remembered,
)

from .bot import Bot, DemoContext
from .handlers import detect_program
from .seats import FLOATING_SERVER_ENV, DemoFloatingServer, FloatingSetup
from .tui.common import state_dir

__all__ = ["create_bot", "demo_vendor", "default_data_dir", "DEFAULT_CONFIG_ENV", "DATA_DIR_ENV", "APP_NAME",
           "DEMO_FOLDER", "FINGERPRINT_ENV", "HARDWARE_ID_ENV", "DEMO_PINS_FILE"]

DEFAULT_CONFIG_ENV = "CHATBOT_CONFIG"
#: overrides the chatbot's data folder (demo vendor, license storage): handy for tests and smoke runs
DATA_DIR_ENV = "CHATBOT_DATA_DIR"
#: the fingerprint a ``--config`` file must have (given by the vendor), ``sha256:…``
FINGERPRINT_ENV = "CHATBOT_CONFIG_FINGERPRINT"
#: a fixed device id the chatbot pins (containers, tests); unset: the platform's own identity
HARDWARE_ID_ENV = "CHATBOT_HARDWARE_ID"
#: in the chatbot's state folder: each demo vendor folder's configuration fingerprint
DEMO_PINS_FILE = "demo-pins.json"
APP_NAME = "offline-licensing-chatbot"
DEMO_FOLDER = "demo-vendor"


def default_data_dir() -> Path:
    """``$CHATBOT_DATA_DIR``, else the platform's user data folder for the chatbot."""
    return _chosen_data_dir(None) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _chosen_data_dir(data_dir: Path | None) -> Path | None:
    """The data folder the caller or the environment chose; None leaves the platform defaults."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    return None if chosen is None else Path(chosen).expanduser()


def create_bot(config_path: Path | None = None, *, data_dir: Path | None = None,
               floating_url: str | None = None) -> Bot:
    """A bot for the configured product, or for the demo vendor when no configuration is given.

    ``data_dir`` (or ``$CHATBOT_DATA_DIR``) moves everything the chatbot writes besides request
    files: the demo vendor and the local license storage. Without it the license storage stays
    in the licensing SDK's default place. ``floating_url`` (or ``$CHATBOT_FLOATING_SERVER``) is
    the floating server's address.
    """
    chosen_dir = _chosen_data_dir(data_dir)
    overrides: dict[str, Any] = {} if chosen_dir is None else {"data_dir": chosen_dir / "licenses"}
    if os.environ.get(HARDWARE_ID_ENV):
        overrides["hardware_id"] = os.environ[HARDWARE_ID_ENV]
    config = config_path or os.environ.get(DEFAULT_CONFIG_ENV) or None
    floating = FloatingSetup(url=floating_url or os.environ.get(FLOATING_SERVER_ENV) or None)
    fingerprint = os.environ.get(FINGERPRINT_ENV) or None
    demo = None
    if config is None:
        folder = (chosen_dir or default_data_dir()) / DEMO_FOLDER
        built_now = not (folder / CONFIG_FILE).is_file()
        demo = demo_vendor(folder)
        config = demo.vendor_dir / CONFIG_FILE
        fingerprint = _demo_pin(demo.vendor_dir, renew=built_now)
        site = demo.vendor_dir / FLOATING_SITE
        if floating.url is None and site.is_dir():
            floating = FloatingSetup(server=DemoFloatingServer(
                site, FLOATING_PORT, detect_program("licensing-floating", "licensing.floating")))
    try:
        loaded = Configuration.from_file(config, expected_fingerprint=fingerprint, **overrides)
    except ConfigurationTamperedError as error:
        if demo is None:
            raise
        raise ConfigurationTamperedError(
            f"The demo vendor's configuration file {config} was changed after the demo was built.",
            hint=f"Delete the demo vendor folder {demo.vendor_dir} to build a new demo vendor.") from error
    return Bot(LicenseManager(loaded), demo=demo, floating=floating)


def _demo_pin(vendor_dir: Path, *, renew: bool) -> str:
    """The fingerprint recorded for this demo vendor, recorded now if the demo was just built (or never pinned)."""
    pins_file = state_dir() / DEMO_PINS_FILE
    try:
        pins = json.loads(pins_file.read_text(encoding="utf-8"))
        if not isinstance(pins, dict):
            pins = {}
    except (OSError, ValueError):
        pins = {}
    key = str(vendor_dir.resolve())
    if renew or not isinstance(pins.get(key), str):
        pins[key] = Configuration.from_file(vendor_dir / CONFIG_FILE).fingerprint
        pins_file.parent.mkdir(parents=True, exist_ok=True)
        scratch = pins_file.with_name(f".{DEMO_PINS_FILE}.tmp")
        scratch.write_text(json.dumps(pins, indent=2) + "\n", encoding="utf-8")
        os.replace(scratch, pins_file)
    return str(pins[key])


def demo_vendor(folder: Path) -> DemoContext:
    """The demo vendor in ``folder``, built on first use by ``licensing-portal demo``.

    The build runs in a child process, so the vendor's database layer never loads into the chat
    app (it would cost a third of the app's memory); later starts only read two small files.
    """
    remembered = read_remembered(folder / LICENSES_FILE)
    if not (folder / CONFIG_FILE).is_file() or any(plan.label not in remembered for plan in DEMO_LICENSES):
        build = subprocess.run([sys.executable, "-m", "licensing.issuing.cli", "--data", str(folder), "--json", "demo"],
                               capture_output=True, text=True, check=False)
        if build.returncode != 0:
            try:
                problem = json.loads(build.stdout)
                message, hint = problem["message"], problem["hint"]
            except (ValueError, KeyError, TypeError):
                message, hint = build.stderr.strip() or "The demo vendor could not be built.", None
            raise ConfigurationError(f"The built-in demo vendor could not be set up: {message}", hint=hint)
        remembered = read_remembered(folder / LICENSES_FILE)
    return DemoContext(folder, tuple((plan.label, remembered[plan.label], plan.description)
                                     for plan in DEMO_LICENSES if plan.label in remembered))
