"""What an application tells the SDK about itself: product, trusted vendor keys, folders, clock.

The vendor writes the product part with ``licensing-portal product export-config PRODUCT -o
FILE``; the application ships that file and loads it with :meth:`Configuration.from_file`,
overriding what is local to one installation (folders, a fixed hardware id, a test clock).
The trusted vendor keys come from here and only from here: a file being verified never gets to
say which key verifies it.

That makes the file the trust anchor, and a file can be edited. An application pins it in code:
``from_file(path, pinned_keys=...)`` (the vendor's keys) or ``expected_fingerprint=...`` (the
whole product part, :attr:`Configuration.fingerprint`); an edited file is then refused with
:class:`~licensing.ConfigurationTamperedError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from . import _crypto as crypto
from ._clock import Clock, system_clock
from ._errors import ConfigurationError, ConfigurationTamperedError, FileMissingError
from ._fs import atomic_write
from ._hardware import HARDWARE_ID_ENV

__all__ = ["Configuration", "CONFIG_FORMAT", "default_data_dir", "default_request_dir", "default_trace_dir"]

CONFIG_FORMAT = "offline-licensing-config"
APP_NAME = "offline-licensing"
PRODUCT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FINGERPRINT_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_trace_dir() -> Path:
    """Where the second trace of what must never go backwards lives: another tree than the data folder.

    Linux: the user state folder (``~/.local/state``; the data is in ``~/.local/share``); macOS:
    ``~/Library/Preferences`` (the data is in ``Application Support``); Windows: the roaming
    ``%APPDATA%`` (the data is in ``%LOCALAPPDATA%``).
    """
    if sys.platform == "win32":
        return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=True))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / APP_NAME
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_request_dir() -> Path:
    """The desktop, as in the tutorial; the home folder on machines that have no desktop."""
    desktop = Path(platformdirs.user_desktop_dir())
    return desktop if desktop.is_dir() else Path.home()


@dataclass(frozen=True)
class Configuration:
    """Immutable settings of one licensed product on one installation.

    ``grace_period`` applies only to licenses that were activated or checked online: they must
    reach the license server again within that time (``None``: never required). Licenses
    activated offline never need the network.

    ``guard_file=False`` gives up the check that a response answers the *latest* request made on
    this device (and that the request was made here at all): any genuine response for this
    device and product is then accepted once. Keep it on unless your users must activate from
    responses whose request was made before a reinstall.

    The device identity is the platform's (its machine id plus the other components it lets any
    user read) unless the application pins one: ``hardware_id`` (a fixed id: containers and VMs),
    ``hardware_id_provider`` (its own function), or ``hardware_id_from_env=True`` (take
    ``$LICENSING_HARDWARE_ID`` when it is set). A pinned id is the whole identity, so whoever can
    set it can move the license: the environment is honoured only when the application opts in.
    ``hardware_components_provider`` gives the application's own components instead of the
    platform's.

    ``trace_dir`` holds a second trace of the clock's high-water mark, the consumption counters,
    the tombstones and the newest license terms, outside the data folder (default: by platform,
    :func:`default_trace_dir`): restoring the data folder alone brings none of them back.
    """

    product: str
    trusted_keys: Mapping[str, crypto.Ed25519PublicKey]
    api_key: str
    shared_key: str
    encryption_key: crypto.X25519PublicKey | None = None
    data_dir: Path | None = None
    request_dir: Path | None = None
    hardware_id: str | None = None
    hardware_id_provider: Callable[[], str] | None = None
    hardware_id_from_env: bool = False
    hardware_components_provider: Callable[[], Mapping[str, str]] | None = None
    trace_dir: Path | None = None
    guard_file: bool = True
    clock_tolerance: timedelta = timedelta(minutes=10)
    clock: Clock = system_clock
    server_url: str | None = None
    timeout: float = 1.0
    #: how long a license confirmed online keeps working without hearing from the server again
    grace_period: timedelta | None = timedelta(days=7)
    lock_timeout: float = 10.0
    #: the high-water mark is written to disk when it has moved this far (not on every check)
    high_water_persist_interval: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        if not isinstance(self.product, str) or not PRODUCT_CODE_PATTERN.match(self.product):
            raise ConfigurationError(f"The product code {self.product!r} is not valid.",
                                     hint="Use letters, digits, '.', '_' or '-' (at most 64).")
        if not self.trusted_keys:
            raise ConfigurationError("No trusted vendor key is configured, so no license could ever be verified.")
        if not self.api_key or not self.shared_key:
            raise ConfigurationError("The API key and the shared key must both be set.")
        if self.clock_tolerance < timedelta(0):
            raise ConfigurationError("The clock tolerance cannot be negative.")
        object.__setattr__(self, "trusted_keys", MappingProxyType(dict(self.trusted_keys)))
        for name in ("data_dir", "request_dir", "trace_dir"):
            value = getattr(self, name)
            if value is not None:
                try:
                    object.__setattr__(self, name, Path(value).expanduser())
                except RuntimeError:  # "~someone" naming no user on this machine
                    raise ConfigurationError(f"The folder {value!s} names a user this machine does not have.",
                                             hint="Give the folder's full path.") from None

    @property
    def product_dir(self) -> Path:
        """This product's own storage folder: products never share files."""
        return (self.data_dir or default_data_dir()) / self.product

    @property
    def product_trace_dir(self) -> Path:
        """This product's folder of the second trace (outside the data folder)."""
        return (self.trace_dir or default_trace_dir()) / self.product

    @property
    def requests_dir(self) -> Path:
        return self.request_dir or default_request_dir()

    def raw_hardware_id(self) -> str | None:
        """The id the application pinned for this machine; None: the platform's own identity."""
        if self.hardware_id_provider is not None:
            return self.hardware_id_provider()
        if self.hardware_id is not None:
            return self.hardware_id
        if self.hardware_id_from_env:
            return os.environ.get(HARDWARE_ID_ENV) or None
        return None

    def hardware_components(self) -> Mapping[str, str] | None:
        """The application's own identity components; None: the platform's (or none, for a pinned id)."""
        if self.hardware_components_provider is None:
            return None
        found = self.hardware_components_provider()
        if not isinstance(found, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in found.items()):
            raise ConfigurationError("The hardware components provider must return a mapping of names to strings.")
        return found

    def with_options(self, **overrides: Any) -> Configuration:
        return replace(self, **overrides)

    # -- the exported file -------------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the product part (what the exported file holds, in canonical form).

        Layout does not count (indentation, key order); every value does, so an application that
        pins it (``from_file(path, expected_fingerprint=...)``) refuses any edit of the file.
        """
        canonical = json.dumps(self.to_file_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")
        return "sha256:" + hashlib.sha256(canonical).hexdigest()

    def to_file_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": CONFIG_FORMAT,
            "version": 1,
            "product": self.product,
            "api_key": self.api_key,
            "shared_key": self.shared_key,
            "trusted_keys": {kid: crypto.b64encode(crypto.public_bytes(k)) for kid, k in self.trusted_keys.items()},
            "encryption_key": (None if self.encryption_key is None
                               else crypto.b64encode(crypto.public_bytes(self.encryption_key))),
            "server_url": self.server_url,
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, pinned_keys: Mapping[str, Any] | None = None,
                  expected_fingerprint: str | None = None, **overrides: Any) -> Configuration:
        """Build from an exported file's contents; ``overrides`` win. See :meth:`from_file` for the pins."""
        if not isinstance(data, Mapping) or data.get("format") != CONFIG_FORMAT or data.get("version") != 1:
            raise ConfigurationError("This is not a licensing configuration file of a version this SDK knows.")
        try:
            keys = {str(kid): crypto.ed25519_public_from_b64(b64) for kid, b64 in data["trusted_keys"].items()}
            encryption = data.get("encryption_key")
            values: dict[str, Any] = {
                "product": data["product"],
                "trusted_keys": keys,
                "api_key": data["api_key"],
                "shared_key": data["shared_key"],
                "encryption_key": None if encryption is None else crypto.x25519_public_from_b64(encryption),
                "server_url": data.get("server_url"),
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigurationError("The licensing configuration file is incomplete or damaged.") from exc
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigurationError(f"Unknown configuration option(s): {', '.join(sorted(unknown))}.")
        shipped = cls(**values)
        _check_pins(shipped, pinned_keys, expected_fingerprint)
        return shipped.with_options(**overrides) if overrides else shipped

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, pinned_keys: Mapping[str, Any] | None = None,
                  expected_fingerprint: str | None = None, **overrides: Any) -> Configuration:
        """Load what ``licensing-portal product export-config`` wrote; ``overrides`` win.

        The pins are the application's, given in its code: ``pinned_keys`` (key id -> the
        vendor's Ed25519 public key, as base64 or a key object) refuses a file that trusts any
        other key; ``expected_fingerprint`` (:attr:`fingerprint`) refuses a file whose product
        part differs in any value. Either refusal is :class:`ConfigurationTamperedError`.
        """
        target = Path(path).expanduser()
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileMissingError(f"There is no configuration file at {target}.",
                                   hint="Export one with: licensing-portal product export-config PRODUCT -o FILE") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"The configuration file {target} cannot be read: {exc}.") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigurationError(f"The configuration file {target} is not valid JSON.") from None
        return cls.from_dict(data, pinned_keys=pinned_keys, expected_fingerprint=expected_fingerprint, **overrides)

    def write_file(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        atomic_write(target, (json.dumps(self.to_file_dict(), indent=2) + "\n").encode("utf-8"), mode=0o644)
        return target


def _check_pins(shipped: Configuration, pinned_keys: Mapping[str, Any] | None,
                expected_fingerprint: str | None) -> None:
    """Refuse a configuration that differs from what the application pinned in its code."""
    if expected_fingerprint is not None:
        if not isinstance(expected_fingerprint, str) or not FINGERPRINT_PATTERN.match(expected_fingerprint):
            raise ConfigurationError("The expected configuration fingerprint is not one: it must read sha256:<64 hex>.",
                                     hint="Copy the fingerprint that Configuration.fingerprint (or export-config) shows.")
        if shipped.fingerprint != expected_fingerprint:
            raise ConfigurationTamperedError()
    if pinned_keys is not None:
        pinned = {str(kid): _public_bytes(key) for kid, key in pinned_keys.items()}
        for kid, key in shipped.trusted_keys.items():
            if pinned.get(kid) != crypto.public_bytes(key):
                raise ConfigurationTamperedError(
                    "The licensing configuration file was changed: it trusts a vendor key this application "
                    "does not know.")


def _public_bytes(key: Any) -> bytes:
    try:
        return crypto.public_bytes(key if isinstance(key, crypto.Ed25519PublicKey)
                                   else crypto.ed25519_public_from_b64(key))
    except (TypeError, ValueError, AttributeError):
        raise ConfigurationError("A pinned vendor key is not an Ed25519 public key.",
                                 hint="Pin the keys as the exported file writes them (base64).") from None
