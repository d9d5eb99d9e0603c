"""The test lab: a real vendor (keys + database) and real devices, in temporary folders.

Nothing is mocked: the lab runs the actual issuer and SDK, with an injectable clock and fixed
hardware ids so that several simulated devices can live on one test machine.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from licensing import Configuration, License, LicenseID, LicenseManager
from licensing.issuing import catalog
from licensing.issuing.workspace import VendorWorkspace

__all__ = ["PRODUCT", "START", "FakeClock", "Lab", "isolated_home"]

PRODUCT = "chatbot"
START = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def isolated_home(root: Path, hardware_id: str) -> dict[str, str]:
    """Environment for a child process whose HOME, XDG folders and chatbot state live under ``root``.

    Starts from the current environment without the chatbot's configuration variables, so a
    test never reads or writes the real user's folders.
    """
    home = root / "home"
    for sub in (".config", ".local/share", ".local/state", ".cache", "Desktop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("CHATBOT_CONFIG", "CHATBOT_DATA_DIR")}
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DESKTOP_DIR": str(home / "Desktop"),
        "CHATBOT_STATE_DIR": str(root / "state"),
        "CHATBOT_HARDWARE_ID": hardware_id,  # the chatbot's own opt-in: the SDK ignores $LICENSING_HARDWARE_ID
    })
    return env


class FakeClock:
    """A settable UTC clock; call it like ``datetime.now``."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


class Lab:
    """One vendor with the product ``chatbot`` and any number of devices, all on disk."""

    def __init__(self, root: Path, clock: FakeClock, *, database_url: str | None = None) -> None:
        self.root = root
        self.clock = clock
        self.database_url = database_url  # None: the SQLite file in the vendor folder
        self.vendor = VendorWorkspace.create(root / "vendor", clock=clock, database_url=database_url)
        with self.vendor.store.session() as session:
            catalog.add_product(session, clock(), PRODUCT, "Chatbot")

    def issue(self, license_type: str = "perpetual", **spec: object) -> str:
        """Issue a license and return its key (or user name for user-based licenses)."""
        if license_type == "time-based":
            spec.setdefault("expires", self.clock() + timedelta(days=30))
        if license_type == "consumption":
            spec.setdefault("max_consumptions", 10)
        with self.vendor.store.session() as session:
            product = catalog.get_product(session, PRODUCT)
            issued = catalog.issue_license(session, self.clock(), product,
                                           catalog.LicenseSpec(license_type, **spec))  # type: ignore[arg-type]
            return issued.key or issued.user  # type: ignore[return-value]

    def config(self, device: str = "device-A", **overrides: object) -> Configuration:
        folder = self.root / device
        values: dict[str, object] = {"data_dir": folder / "data", "request_dir": folder / "desktop",
                                     "hardware_id": device, "clock": self.clock}
        values.update(overrides)
        (folder / "desktop").mkdir(parents=True, exist_ok=True)
        return self.vendor.client_configuration(PRODUCT, **values)

    def manager(self, device: str = "device-A", **overrides: object) -> LicenseManager:
        return LicenseManager(self.config(device, **overrides))

    def respond(self, request: Path, out: Path | None = None) -> Path:
        """Upload a request to the vendor; write the response next to it (as ls_activation.lic)."""
        answer = self.vendor.issuer.answer_activation(request.read_bytes())
        target = out or request.parent / "ls_activation.lic"
        target.write_bytes(answer.data)
        return target

    def activate(self, manager: LicenseManager, key: str, password: str | None = None) -> License:
        license_id = LicenseID.from_user(key, password) if password is not None else LicenseID.from_key(key)
        request = manager.create_offline_activation_file(license_id)
        return manager.activate_license_offline(self.respond(request))

    def refresh_file(self, key: str, device_id: str, manager: LicenseManager, **options: bool) -> Path:
        target = manager.config.requests_dir / "license_refresh.lic"
        target.write_bytes(self.vendor.issuer.refresh(key, device_id, **options))
        return target
