"""The floating server's folder at the customer's site, and its life as a device of the vendor.

The server is a device of the product like any other: it makes ``ls_activation.req`` for its own
host, the vendor answers it (the portal or ``licensing-portal respond``), and it activates with
the ``ls_activation.lic`` that comes back — through the SDK's own :class:`~licensing.LicenseManager`,
so it gets every check the SDK makes (signature, device, guard file, clock). The request says it
comes from a floating server, and the vendor answers only a floating license to it. The vendor's
response certifies the server's key and its seats; it is kept verbatim (with the newest refresh)
as the *certificate* the server shows every workstation. Refresh and deactivation go by files too.

::

    SITE/
      site.json        what this folder is: the product, and a hardware id if one was pinned
      licensing.json   the product's configuration, as the vendor exported it
      device/          the SDK's storage for the server as a device (sealed license, guard file)
      certificate/     activation.lic (and refresh.lic): the vendor-signed files, verbatim
      leases.db        the leases (see ``store``)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import platformdirs

from .. import (
    Configuration,
    ConfigurationError,
    License,
    LicenseID,
    LicenseManager,
    NoLicenseError,
    NotFloatingError,
    UsageError,
)
from ..wire import (
    ACTIVATION_RESPONSE_FILE_NAME,
    REFRESH_FILE_NAME,
    Clock,
    ServerCertificate,
    atomic_write,
    encode_certificate,
    open_certificate,
    read_artefact,
    utc_now,
)
from .store import LeaseStore, SeatRow, micros

__all__ = ["FloatingSite", "SITE_ENV", "default_site_dir"]

SITE_ENV = "LICENSING_FLOATING_DATA"
_SITE_FORMAT = "offline-licensing-floating-site"
_SITE_FILE = "site.json"
_CONFIG_FILE = "licensing.json"
_ACTIVATION = "activation.lic"
_REFRESH = "refresh.lic"


def default_site_dir() -> Path:
    return Path(os.environ.get(SITE_ENV) or platformdirs.user_data_dir("offline-licensing-floating", appauthor=False))


@dataclass(frozen=True)
class FloatingSite:
    folder: Path
    configuration: Configuration

    # -- the folder ------------------------------------------------------------------------------

    @classmethod
    def create(cls, folder: Path, config_file: Path, *, hardware_id: str | None = None,
               clock: Clock | None = None) -> FloatingSite:
        """Make ``folder`` a floating server for the product ``config_file`` names (the vendor's export).

        ``hardware_id`` pins the server's device id (containers, VMs, a demo): the site keeps it.
        """
        if (folder / _SITE_FILE).exists():
            raise UsageError(f"{folder} is a floating server already; nothing was changed.",
                             hint="Keep using it, or pick another folder with --data.")
        configuration = Configuration.from_file(config_file)  # refuses a damaged or foreign file first
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(config_file).expanduser(), folder / _CONFIG_FILE)
        except OSError as exc:
            raise ConfigurationError(f"Cannot set up the floating server in {folder}: {exc.strerror or exc}.",
                                     hint="Pick a folder you can write to with --data.") from None
        site = {"format": _SITE_FORMAT, "version": 1, "product": configuration.product, "hardware_id": hardware_id}
        atomic_write(folder / _SITE_FILE, (json.dumps(site, indent=2) + "\n").encode("utf-8"), mode=0o644)
        return cls.open(folder, clock=clock)

    @classmethod
    def open(cls, folder: Path, *, clock: Clock | None = None) -> FloatingSite:
        """The floating server in ``folder``; ``clock`` replaces the system clock (tests, a demo's fixed time)."""
        try:
            site = json.loads((folder / _SITE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(f"There is no floating server in {folder}.",
                                     hint="Set one up: licensing-floating --data FOLDER init --config "
                                          "PRODUCT-config.json") from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"The floating server's {_SITE_FILE} in {folder} cannot be read: {exc}.") from None
        if not isinstance(site, dict) or site.get("format") != _SITE_FORMAT or site.get("version") != 1:
            raise ConfigurationError(f"{folder / _SITE_FILE} is not a floating server's file of a version this knows.")
        hardware_id = site.get("hardware_id")
        overrides: dict[str, Any] = {} if clock is None else {"clock": clock}
        configuration = Configuration.from_file(folder / _CONFIG_FILE, data_dir=folder / "device",
                                                request_dir=folder, hardware_id=hardware_id, **overrides)
        return cls(folder, configuration)

    @property
    def leases_path(self) -> Path:
        return self.folder / "leases.db"

    def manager(self) -> LicenseManager:
        return LicenseManager(self.configuration)

    def leases(self) -> LeaseStore:
        return LeaseStore(self.leases_path)

    def now(self) -> datetime:
        return utc_now(self.configuration.clock)

    def seats_in_use(self) -> list[SeatRow]:
        with contextlib.closing(self.leases()) as store:
            return store.seats_in_use(micros(self.now()))

    def _free_every_seat(self) -> None:
        with contextlib.closing(self.leases()) as store:
            store.clear()

    def _input(self, path: str | Path | None, default_name: str) -> Path:
        """The tutorial's rule: no path means the site folder; a folder means the default name in it."""
        source = Path(path).expanduser() if path else self.folder / default_name
        return source / default_name if source.is_dir() else source

    # -- the server as a device of the vendor --------------------------------------------------------

    def create_request(self, license_id: LicenseID, path: str | Path | None = None) -> Path:
        """Step 1: ``ls_activation.req`` for this server (default: in the site folder)."""
        with self.manager() as manager:
            return manager.create_offline_activation_file(license_id, path, floating_server=True)

    def activate(self, path: str | Path | None = None) -> License:
        """Step 3: activate with the vendor's ``ls_activation.lic``; keep it as the server's certificate."""
        source = self._input(path, ACTIVATION_RESPONSE_FILE_NAME)
        data = read_artefact(source)
        with self.manager() as manager:
            license = manager.activate_license_offline(source)
        if license.terms.floating is None:  # the vendor never answers so; a hand-made setup might
            license.deactivate_offline(self.folder / "ls_deactivation.req")
            raise NotFloatingError(f"The license {license.key or license.user} is a {license.license_type} license; "
                                   "it was deactivated again (give ls_deactivation.req to the vendor).")
        folder = self.folder / "certificate"
        atomic_write(folder / _ACTIVATION, data, mode=0o644)
        (folder / _REFRESH).unlink(missing_ok=True)
        self._free_every_seat()  # a new activation starts with every seat free
        return license

    def license(self) -> License:
        """The server's own license (verified again from disk); NoLicenseError before activation."""
        with self.manager() as manager:
            license = manager.reload_license()
        if license is None:
            raise NoLicenseError("This floating server has no license yet.",
                                 hint="Activate it: licensing-floating request KEY, have the vendor answer "
                                      "ls_activation.req, then licensing-floating activate.")
        if license.terms.floating is None:
            raise NotFloatingError()
        return license

    def apply_refresh(self, path: str | Path | None = None) -> License:
        """Newer terms from the vendor (more seats, a later expiry): ``license_refresh.lic``."""
        source = self._input(path, REFRESH_FILE_NAME)
        license = self.license().update_offline(source)
        atomic_write(self.folder / "certificate" / _REFRESH, read_artefact(source), mode=0o644)
        return license

    def create_refresh_request(self, path: str | Path | None = None) -> Path:
        return self.license().create_refresh_request(path)

    def deactivate(self, path: str | Path | None = None, *, force: bool = False) -> Path:
        """Write ``ls_deactivation.req`` and remove the license; every seat goes with it.

        Refused while seats are borrowed (unless ``force``): they keep working until their end,
        and the vendor would count them twice if another server were activated meanwhile.
        """
        borrowed = sum(1 for row in self.seats_in_use() if row.kind == "borrow")
        if borrowed and not force:
            raise UsageError(f"{borrowed} borrowed seat{'s are' if borrowed != 1 else ' is'} still out; they keep "
                             "working until they end, whatever happens to this server.",
                             hint="Wait until they are given back or end (licensing-floating status), or "
                                  "deactivate anyway with --force.")
        target = self.license().deactivate_offline(path)
        shutil.rmtree(self.folder / "certificate", ignore_errors=True)
        self._free_every_seat()
        return target

    def certificate(self) -> ServerCertificate:
        """What the server shows workstations: its activation response and newest refresh, verified."""
        folder = self.folder / "certificate"
        if not (folder / _ACTIVATION).exists():
            raise NoLicenseError("This floating server has no license yet.",
                                 hint="Activate it first (licensing-floating request KEY, then activate).")
        activation = read_artefact(folder / _ACTIVATION)
        refresh = read_artefact(folder / _REFRESH) if (folder / _REFRESH).exists() else None
        return open_certificate(encode_certificate(activation, refresh), self.configuration.trusted_keys,
                                self.configuration.product)
