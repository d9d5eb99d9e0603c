"""What an application tells the SDK about itself: product, trusted vendor keys, folders, clock.

The vendor writes the product part with ``licensing-portal product export-config PRODUCT -o
FILE``; the application ships that file and loads it with :meth:`Configuration.from_file`,
overriding what is local to one installation (folders, a fixed hardware id, a test clock).
The trusted vendor keys come from here and only from here: a file being verified never gets to
say which key verifies it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import platformdirs

from . import _crypto as crypto
from ._clock import Clock, system_clock
from ._errors import ConfigurationError, FileMissingError
from ._fs import atomic_write

__all__ = ["Configuration", "CONFIG_FORMAT", "default_data_dir", "default_request_dir"]

CONFIG_FORMAT = "offline-licensing-config"
APP_NAME = "offline-licensing"
PRODUCT_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


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
        for name in ("data_dir", "request_dir"):
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
    def requests_dir(self) -> Path:
        return self.request_dir or default_request_dir()

    def raw_hardware_id(self) -> str | None:
        if self.hardware_id_provider is not None:
            return self.hardware_id_provider()
        return self.hardware_id

    def with_options(self, **overrides: Any) -> Configuration:
        return replace(self, **overrides)

    # -- the exported file -------------------------------------------------------------------

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
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> Configuration:
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
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> Configuration:
        """Load what ``licensing-portal product export-config`` wrote; ``overrides`` win."""
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
        return cls.from_dict(data, **overrides)

    def write_file(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        atomic_write(target, (json.dumps(self.to_file_dict(), indent=2) + "\n").encode("utf-8"), mode=0o644)
        return target
