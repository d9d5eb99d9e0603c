"""A ready-made demo vendor: the product ``chatbot`` and one license of every kind.

``licensing-portal demo`` (and the README's one-command start) call :func:`build_demo`. It is
idempotent: run it again on the same folder and it reuses the vendor's keys and the licenses it
issued before (their keys are remembered in ``demo-licenses.json``), so a tutorial written
against the first run's output stays true.

Each demo license is there to show one behaviour when a device activates it offline:

=============  =============================================================================
label          what happens
=============  =============================================================================
perpetual      activates (all five skills, up to 3 devices)
time-based     activates; expires 30 days after the demo was built (jokes, time, dice)
consumption    activates; 20 uses in all (wordcount, convert), up to 2 devices
subscription   refused offline (``offline_not_supported``): subscriptions are online only
expired        refused (``license_expired``): it expired the day before the demo was built
disabled       refused (``license_disabled``)
at-max         refused (``max_activations_reached``): its one activation is taken already
user-based     activates with user ``demo@example.com`` and password ``demo-password``
floating       refused on a device (``floating_only``): 4 seats served by the demo's own floating
               server, which the build activates offline in ``floating-server/`` (start it with
               ``licensing-floating --data DEMO/floating-server serve --port 8470``, or
               :func:`licensing.floating.launcher.start_server`); leases of 1 minute, borrowing
               up to 7 days
=============  =============================================================================
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from .. import ConfigurationError, LicenseError, LicenseID, LicenseNotFoundError, ProductNotFoundError
from ..wire import ACTIVATION_RESPONSE_FILE_NAME, Clock, atomic_write, system_clock, utc_now, write_artefact
from . import catalog
from .demo_plan import (
    CONFIG_FILE,
    DEMO_FEATURES,
    DEMO_LICENSES,
    DEMO_PASSWORD,
    DEMO_PRODUCT,
    DEMO_PRODUCT_NAME,
    DEMO_USER,
    FLOATING_PORT,
    FLOATING_SITE,
    LICENSES_FILE,
    LICENSES_FORMAT,
    PLAN_BY_LABEL,
    DemoLicense,
    read_remembered,
)
from .keys import VendorKeys
from .workspace import VendorWorkspace

__all__ = [
    "DemoInfo",
    "DemoLicense",
    "DEMO_LICENSES",
    "DEMO_PRODUCT",
    "DEMO_PRODUCT_NAME",
    "DEMO_FEATURES",
    "DEMO_USER",
    "DEMO_PASSWORD",
    "LICENSES_FILE",
    "CONFIG_FILE",
    "FLOATING_SITE",
    "FLOATING_PORT",
    "build_demo",
]

@dataclass(frozen=True)
class DemoInfo:
    """What :func:`build_demo` made: the vendor folder, the client configuration, the licenses.

    ``licenses`` holds ``(label, key_or_user, description)`` tuples in the order of
    :data:`DEMO_LICENSES`; the key is the user name for the user-based license.
    """

    folder: Path
    config_path: Path
    licenses: list[tuple[str, str, str]]
    #: the demo's floating server, activated with the floating license (serve it to use its seats)
    floating_site: Path | None = None

    @property
    def floating_command(self) -> list[str]:
        """The command that serves the demo's floating seats on 127.0.0.1 (``FLOATING_PORT``)."""
        return ["licensing-floating", "--data", str(self.floating_site), "serve", "--port", str(FLOATING_PORT)]

    def license_type(self, label: str) -> str:
        return PLAN_BY_LABEL[label].license_type

    def key_of(self, label: str) -> str:
        for entry_label, key_or_user, _ in self.licenses:
            if entry_label == label:
                return key_or_user
        raise KeyError(label)


def _spec(label: str, now: Any) -> catalog.LicenseSpec:
    everything = DEMO_FEATURES
    if label == "perpetual":
        return catalog.LicenseSpec("perpetual", features=everything, max_activations=3, customer="Demo: perpetual")
    if label == "time-based":
        return catalog.LicenseSpec("time-based", features=("jokes", "time", "dice"),
                                   expires=now + timedelta(days=30), customer="Demo: time-based")
    if label == "consumption":
        return catalog.LicenseSpec("consumption", features=("wordcount", "convert"), max_consumptions=20,
                                   max_activations=2, customer="Demo: consumption")
    if label == "subscription":
        return catalog.LicenseSpec("subscription", features=everything, customer="Demo: subscription")
    if label == "expired":
        return catalog.LicenseSpec("time-based", features=everything, expires=now - timedelta(days=1),
                                   customer="Demo: expired")
    if label == "disabled":
        return catalog.LicenseSpec("perpetual", features=everything, enabled=False, customer="Demo: disabled")
    if label == "at-max":
        return catalog.LicenseSpec("perpetual", features=everything, max_activations=1, customer="Demo: at-max")
    if label == "user-based":
        return catalog.LicenseSpec("perpetual", features=everything, user=DEMO_USER, password=DEMO_PASSWORD,
                                   customer="Demo: user-based")
    if label == "floating":
        return catalog.LicenseSpec("floating", features=everything, seats=4, lease_seconds=60,
                                   max_borrow_seconds=7 * 86_400, customer="Demo: floating")
    raise KeyError(label)


def _open_or_create(folder: Path, database_url: str | None, clock: Clock) -> VendorWorkspace:
    if VendorKeys.exists(folder / "keys"):
        return VendorWorkspace.open(folder, database_url=database_url, clock=clock)
    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"{folder} is a file, not a folder.", hint="Pick a folder for the demo vendor.")
    return VendorWorkspace.create(folder, database_url=database_url, clock=clock)


def build_demo(folder: Path, config_out: Path | None = None, clock: Clock = system_clock, *,
               database_url: str | None = None) -> DemoInfo:
    """Create (or reuse) the demo vendor in ``folder`` and write the chatbot's configuration.

    The configuration goes to ``config_out`` (a folder means ``chatbot-config.json`` inside
    it), by default ``folder / "chatbot-config.json"``.
    """
    folder = Path(folder).expanduser()
    workspace = _open_or_create(folder, database_url, clock)
    try:
        now = utc_now(clock)
        remembered_path = folder / LICENSES_FILE
        remembered = read_remembered(remembered_path)
        keys: dict[str, str] = {}
        with workspace.store.session() as session:
            try:
                product = catalog.get_product(session, DEMO_PRODUCT)
            except ProductNotFoundError:
                product = catalog.add_product(session, now, DEMO_PRODUCT, DEMO_PRODUCT_NAME)
            for entry in DEMO_LICENSES:
                license = None
                known = remembered.get(entry.label) or (DEMO_USER if entry.label == "user-based" else None)
                if known is not None:
                    try:
                        license = catalog.get_license(session, known)
                    except LicenseNotFoundError:
                        license = None
                    if license is not None and license.product_id != product.id:
                        license = None
                if license is None:
                    license = catalog.issue_license(session, now, product, _spec(entry.label, now))
                if entry.label == "at-max" and catalog.active_devices(session, license) < license.max_activations:
                    # Another (made-up) device holds the only activation, so a new one is refused.
                    catalog.add_device(session, now, license, hardware_id="demo-other-device-" + secrets.token_hex(8),
                                       device_key="demo-device-key-not-a-real-key", request_id=secrets.token_hex(16))
                keys[entry.label] = license.key or license.user or ""
        if keys != remembered:
            atomic_write(remembered_path, (json.dumps({"format": LICENSES_FORMAT, "version": 1, "licenses": keys},
                                                      indent=2) + "\n").encode("utf-8"), mode=0o644)
        target = Path(config_out).expanduser() if config_out is not None else folder / CONFIG_FILE
        if target.is_dir():
            target = target / CONFIG_FILE
        workspace.client_configuration(DEMO_PRODUCT).write_file(target)
        site = _floating_site(workspace, folder / FLOATING_SITE, keys["floating"], clock)
    finally:
        workspace.close()
    licenses = [(entry.label, keys[entry.label], entry.description) for entry in DEMO_LICENSES]
    return DemoInfo(folder=folder, config_path=target, licenses=licenses, floating_site=site)


def _floating_site(workspace: VendorWorkspace, folder: Path, key: str, clock: Clock) -> Path:
    """The demo's floating server, set up and activated offline with the floating license (once).

    Its request is answered in-process by the demo vendor, exactly as ``licensing-portal respond``
    would. Its device id is pinned, so the demo works the same on any machine and in containers.
    Rebuilt from scratch (its folder deleted), it first frees the license's one activation.
    """
    from ..floating.site import FloatingSite  # the customer's side, needed only here

    if (folder / "site.json").exists():
        site = FloatingSite.open(folder, clock=clock)
        with contextlib.suppress(LicenseError):
            if site.license().key == key:
                return folder
    else:
        config = workspace.client_configuration(DEMO_PRODUCT).write_file(folder.with_name("floating-config.json"))
        # Every demo's server has this pinned id, so its trace stays in the demo folder: a demo is
        # thrown away whole, and one demo's time (a replay's fixed clock) must not reach another's.
        site = FloatingSite.create(folder, config, hardware_id="demo-floating-server", trace_dir=folder / "trace",
                                   clock=clock)
    with workspace.store.session() as session:
        license = catalog.get_license(session, key)
        for device in license.devices:
            if device.active:
                catalog.reset_device(session, utc_now(clock), device)
    request = site.create_request(LicenseID.from_key(key))
    write_artefact(folder / ACTIVATION_RESPONSE_FILE_NAME, workspace.issuer.answer_activation(request.read_bytes()).data)
    site.activate()
    return folder
