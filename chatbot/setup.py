"""Build a ready :class:`~chatbot.bot.Bot` from a configuration file — or from the built-in demo vendor.

The configuration is resolved in this order: an explicit path, else ``$CHATBOT_CONFIG``, else
the demo vendor in the chatbot's data folder (``platformdirs`` user data dir
``offline-licensing-chatbot``, or ``$CHATBOT_DATA_DIR``, or the ``data_dir`` argument). The demo
vendor is built on first start and reused afterwards (``build_demo`` is idempotent), so a
newcomer can run the whole offline flow on one machine: the bot names the exact
``licensing-portal --data … respond …`` command that plays the portal.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from licensing import Configuration, LicenseManager

from .bot import Bot, DemoContext

__all__ = ["create_bot", "default_data_dir", "DEFAULT_CONFIG_ENV", "DATA_DIR_ENV", "APP_NAME", "DEMO_FOLDER"]

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
        from licensing.vendor.demo import build_demo  # the vendor side (SQLAlchemy) only for the demo

        info = build_demo((chosen_dir or default_data_dir()) / DEMO_FOLDER)
        demo = DemoContext(info.folder, tuple(info.licenses))
        config = info.config_path
    return Bot(LicenseManager(Configuration.from_file(config, **overrides)), demo=demo)
