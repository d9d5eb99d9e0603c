"""What the demo vendor holds, without the vendor machinery: light enough for the chatbot to import.

The chatbot only needs the labels, keys and descriptions of the demo licenses; building the demo
(``licensing.issuing.demo``) needs the database layer, which the chatbot keeps out of its process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DemoLicense",
    "DEMO_LICENSES",
    "PLAN_BY_LABEL",
    "DEMO_PRODUCT",
    "DEMO_PRODUCT_NAME",
    "DEMO_FEATURES",
    "DEMO_USER",
    "DEMO_PASSWORD",
    "LICENSES_FILE",
    "LICENSES_FORMAT",
    "CONFIG_FILE",
    "FLOATING_SITE",
    "FLOATING_PORT",
    "read_remembered",
]

DEMO_PRODUCT = "chatbot"
DEMO_PRODUCT_NAME = "Chatbot"
#: the chatbot's skills, one feature each
DEMO_FEATURES = ("jokes", "wordcount", "convert", "dice", "time")
DEMO_USER = "demo@example.com"
DEMO_PASSWORD = "demo-password"
LICENSES_FILE = "demo-licenses.json"
CONFIG_FILE = "chatbot-config.json"
#: the demo's floating server: its folder inside the demo vendor's, and the port it serves on
#: (``licensing-floating --data DEMO/floating-server serve --port 8470``)
FLOATING_SITE = "floating-server"
FLOATING_PORT = 8470
LICENSES_FORMAT = "offline-licensing-demo-licenses"


@dataclass(frozen=True)
class DemoLicense:
    """One demo license as planned: its label, type, and the sentence that says what it shows."""

    label: str
    license_type: str
    description: str


DEMO_LICENSES: tuple[DemoLicense, ...] = (
    DemoLicense("perpetual", "perpetual", "all skills, up to 3 devices: activates"),
    DemoLicense("time-based", "time-based", "jokes, time, dice; expires 30 days after the demo was built: activates"),
    DemoLicense("consumption", "consumption", "wordcount, convert; 20 uses in all, up to 2 devices: activates"),
    DemoLicense("subscription", "subscription", "all skills; online only: refused offline (offline_not_supported)"),
    DemoLicense("expired", "time-based", "all skills; expired yesterday: refused (license_expired)"),
    DemoLicense("disabled", "perpetual", "all skills; disabled by the vendor: refused (license_disabled)"),
    DemoLicense("at-max", "perpetual", "all skills; its 1 activation is taken: refused (max_activations_reached)"),
    DemoLicense("user-based", "perpetual",
                f"all skills; user {DEMO_USER}, password {DEMO_PASSWORD}: activates with those credentials"),
    DemoLicense("floating", "floating",
                "all skills; 4 seats from the demo's floating server (licensing-floating), leases of 1 minute, "
                "borrow up to 7 days"),
)
PLAN_BY_LABEL = {entry.label: entry for entry in DEMO_LICENSES}


def read_remembered(path: Path) -> dict[str, str]:
    """The labels → keys of an earlier run; an unreadable file just means "issue them again"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != LICENSES_FORMAT or not isinstance(data.get("licenses"), dict):
        return {}
    return {str(k): v for k, v in data["licenses"].items() if isinstance(v, str)}
