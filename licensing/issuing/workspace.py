"""A vendor's working folder: keys, database, and the objects built on them.

``DATA/keys/`` holds the key files and ``DATA/vendor.db`` the SQLite database (unless a
database URL is given, e.g. PostgreSQL for several portal processes).

Everything in it is the vendor's secret (signing keys, password hashes, the portal's session
secret), so the folders are made 0700 and the files 0600, and opening a workspace tightens
looser modes left by an older version (SQLite gives its ``-wal``/``-shm`` files the database
file's mode).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

from .. import Configuration, ConfigurationError, StorageError
from ..wire import Clock, system_clock
from . import catalog
from .issuer import Issuer
from .keys import VendorKeys
from .policy import IssuerPolicy
from .store import VendorStore, sqlite_url

__all__ = ["VendorWorkspace", "default_vendor_dir", "DATA_ENV"]

DATA_ENV = "LICENSING_VENDOR_DATA"


def _private(path: Path, mode: int) -> None:
    """Take group and other access away from ``path`` (ours; a path we do not own is left as it is)."""
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            os.chmod(path, mode)


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _private(folder, 0o700)


def _private_database(path: Path) -> None:
    """Create the SQLite file 0600 before SQLite does (it would follow the umask), and tighten an old one."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for name in (path.name, path.name + "-wal", path.name + "-shm", path.name + "-journal"):
        _private(path.with_name(name), 0o600)


def default_vendor_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or platformdirs.user_data_dir("offline-licensing-vendor", appauthor=False))


class VendorWorkspace:
    def __init__(self, folder: Path, keys: VendorKeys, store: VendorStore, clock: Clock = system_clock,
                 policy: IssuerPolicy | None = None) -> None:
        self.folder = folder
        self.keys = keys
        self.store = store
        self.clock = clock
        self.issuer = Issuer(store, keys, clock, policy or IssuerPolicy.from_folder(folder))

    @staticmethod
    def _database_url(folder: Path, database_url: str | None) -> str:
        if database_url:
            return database_url
        _private_database(folder / "vendor.db")
        return sqlite_url(folder / "vendor.db")

    @classmethod
    def create(cls, folder: Path, *, database_url: str | None = None, clock: Clock = system_clock) -> VendorWorkspace:
        """Make keys and the schema; refuses to overwrite existing keys (they sign every license)."""
        keys_dir = folder / "keys"
        if VendorKeys.exists(keys_dir):
            raise ConfigurationError(f"A vendor already lives in {folder}; its keys were not touched.",
                                     hint="Use another --data folder, or keep working with this one.")
        try:
            _private_folder(folder)
            _private_folder(keys_dir)
        except OSError as exc:
            raise StorageError(f"Cannot create the vendor folder {folder}: {exc.strerror or exc}.",
                               hint="Pick a --data folder that does not exist yet or is an empty folder.") from None
        keys = VendorKeys.generate(keys_dir)
        store = VendorStore(cls._database_url(folder, database_url))
        store.create_schema()
        return cls(folder, keys, store, clock)

    @classmethod
    def open(cls, folder: Path, *, database_url: str | None = None, clock: Clock = system_clock) -> VendorWorkspace:
        keys = VendorKeys.load(folder / "keys")
        _private(folder, 0o700)
        _private(folder / "keys", 0o700)
        store = VendorStore(cls._database_url(folder, database_url))
        store.create_schema()
        return cls(folder, keys, store, clock)

    def client_configuration(self, product_code: str, **overrides: object) -> Configuration:
        """What an application embeds for ``product_code`` (``product export-config``)."""
        with self.store.session() as session:
            product = catalog.get_product(session, product_code)
            code, api_key, shared_key = product.code, product.api_key, product.shared_key
        return Configuration(product=code, trusted_keys=self.keys.trusted_public_keys(), api_key=api_key,
                             shared_key=shared_key, encryption_key=self.keys.encryption.public_key(),
                             **overrides)  # type: ignore[arg-type]

    def close(self) -> None:
        self.store.dispose()
