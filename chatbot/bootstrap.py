"""Build a ready :class:`~chatbot.bot.Bot` from a configuration file — or from the built-in demo vendor.

The configuration is resolved in this order: an explicit path, else ``$CHATBOT_CONFIG``, else
the demo vendor in the chatbot's data folder (``platformdirs`` user data dir
``offline-licensing-chatbot``, or ``$CHATBOT_DATA_DIR``, or the ``data_dir`` argument). The demo
vendor is built on first start and reused afterwards, so a
newcomer can run the whole offline flow on one machine: the bot names the exact
``licensing-portal --data … respond …`` command that plays the portal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import platformdirs

from licensing import Configuration, ConfigurationError, LicenseManager
from licensing.issuing.demo_plan import CONFIG_FILE, DEMO_LICENSES, LICENSES_FILE, read_remembered

from .bot import Bot, DemoContext

__all__ = ["create_bot", "demo_vendor", "default_data_dir", "DEFAULT_CONFIG_ENV", "DATA_DIR_ENV", "APP_NAME", "DEMO_FOLDER"]

DEFAULT_CONFIG_ENV = "CHATBOT_CONFIG"
#: overrides the chatbot's data folder (demo vendor, license storage): handy for tests and smoke runs
DATA_DIR_ENV = "CHATBOT_DATA_DIR"
APP_NAME = "offline-licensing-chatbot"
DEMO_FOLDER = "demo-vendor"


def default_data_dir() -> Path:
    """``$CHATBOT_DATA_DIR``, else the platform's user data folder for the chatbot."""
    return _chosen_data_dir(None) or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _chosen_data_dir(data_dir: Path | None) -> Path | None:
    """The data folder the caller or the environment chose; None leaves the platform defaults."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    return None if chosen is None else Path(chosen).expanduser()


def create_bot(config_path: Path | None = None, *, data_dir: Path | None = None) -> Bot:
    """A bot for the configured product, or for the demo vendor when no configuration is given.

    ``data_dir`` (or ``$CHATBOT_DATA_DIR``) moves everything the chatbot writes besides request
    files: the demo vendor and the local license storage. Without it the license storage stays
    in the licensing SDK's default place.
    """
    chosen_dir = _chosen_data_dir(data_dir)
    overrides = {} if chosen_dir is None else {"data_dir": chosen_dir / "licenses"}
    config = config_path or os.environ.get(DEFAULT_CONFIG_ENV) or None
    demo = None
    if config is None:
        demo = demo_vendor((chosen_dir or default_data_dir()) / DEMO_FOLDER)
        config = demo.vendor_dir / CONFIG_FILE
    return Bot(LicenseManager(Configuration.from_file(config, **overrides)), demo=demo)


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
