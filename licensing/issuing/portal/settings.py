"""The portal's settings, and its credentials file ``DATA/portal.json``.

``portal.json`` lives in the vendor's data folder, mode 0600, and holds what every portal
process (every uvicorn worker) must share:

* ``session_secret``: random, made once; it signs the session cookies and the receipt downloads,
  so a cookie set by one worker is valid in the others and across restarts;
* ``admin_password_hash``: the admin's password, scrypt-hashed
  (``licensing-portal admin set-password``); ``null`` until set, and then the admin area only
  says how to set it (the public pages work regardless).

The portal re-reads the file when it changes (by modification time), so setting or changing the
password takes effect without a restart, and changing it ends every existing admin session.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import ConfigurationError, StorageError, UsageError
from ...wire import atomic_write
from ..passwords import hash_password, password_matches

__all__ = [
    "PORTAL_FILE",
    "PortalSettings",
    "PortalCredentials",
    "AdminCredentials",
    "read_portal_file",
    "ensure_portal_file",
    "set_admin_password",
    "MIN_PASSWORD_LENGTH",
]

PORTAL_FILE = "portal.json"
_FORMAT = "offline-licensing-portal"
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class PortalCredentials:
    session_secret: str
    admin_password_hash: str | None


def _parse(data: bytes, path: Path) -> PortalCredentials:
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError("not a portal file")
        secret = doc["session_secret"]
        password_hash = doc.get("admin_password_hash")
        if not isinstance(secret, str) or len(secret) < 32:
            raise ValueError("bad secret")
        if password_hash is not None and not isinstance(password_hash, str):
            raise ValueError("bad hash")
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"The portal settings file {path} is damaged ({exc}).",
                                 hint="Delete it and set the admin password again "
                                      "(licensing-portal admin set-password).") from None
    return PortalCredentials(secret, password_hash)


def read_portal_file(folder: Path) -> PortalCredentials | None:
    """The credentials in ``folder/portal.json``, or None if there is no such file."""
    path = folder / PORTAL_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return _parse(data, path)


def _write(folder: Path, credentials: PortalCredentials) -> None:
    doc: dict[str, Any] = {"format": _FORMAT, "version": 1, "session_secret": credentials.session_secret,
                           "admin_password_hash": credentials.admin_password_hash}
    atomic_write(folder / PORTAL_FILE, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), mode=0o600)
    with contextlib.suppress(OSError):
        os.chmod(folder / PORTAL_FILE, 0o600)


def ensure_portal_file(folder: Path) -> PortalCredentials:
    """Read ``portal.json``, creating it (a new session secret, no password) if it is missing."""
    existing = read_portal_file(folder)
    if existing is not None:
        return existing
    created = PortalCredentials(secrets.token_hex(32), None)
    _write(folder, created)
    return read_portal_file(folder) or created


def set_admin_password(folder: Path, password: str) -> PortalCredentials:
    """Hash and store the admin password, keeping the session secret (created if missing)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"The admin password must have at least {MIN_PASSWORD_LENGTH} characters.",
                         hint="Choose a longer password (a passphrase of a few words is easy to remember).")
    if password != password.strip() or "\n" in password:
        raise UsageError("The admin password cannot start or end with spaces or contain a line break.")
    current = ensure_portal_file(folder)
    updated = PortalCredentials(current.session_secret, hash_password(password))
    _write(folder, updated)
    return updated


class AdminCredentials:
    """The admin password as stored in ``portal.json``, re-read when the file changes."""

    def __init__(self, folder: Path | None, password_hash: str | None = None) -> None:
        self.folder = folder
        self._fixed = password_hash
        self._stamp: tuple[int, int] | None = None
        self._hash: str | None = password_hash

    def _current(self) -> str | None:
        if self.folder is None:
            return self._fixed
        path = self.folder / PORTAL_FILE
        try:
            stat = path.stat()
        except OSError:
            return self._fixed
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            credentials = read_portal_file(self.folder)
            self._hash = credentials.admin_password_hash if credentials else None
            self._stamp = stamp
        return self._hash or self._fixed

    @property
    def configured(self) -> bool:
        return bool(self._current())

    def check(self, password: str) -> bool:
        return password_matches(self._current(), password)

    def fingerprint(self) -> str:
        """Changes whenever the password does: stored in the session, so a new password ends old sessions."""
        current = self._current() or ""
        return hashlib.sha256(current.encode("utf-8")).hexdigest()[:16]


@dataclass
class PortalSettings:
    """How one portal application behaves (see :func:`licensing.issuing.portal.app.create_app`).

    ``session_secret``: signs session cookies and receipt downloads; every worker needs the same
    one (``from_folder`` reads it from ``portal.json``). ``None`` makes a random one (one process).
    ``admin_password_hash``: a fixed hash (tests); normally read from ``portal.json`` in
    ``portal_folder``. ``secure_cookies``: the portal is served behind TLS: always mark the cookie
    ``Secure`` (it is anyway on https requests) and send HSTS. ``login_attempts`` sign-ins per
    ``login_window`` seconds per client address, counted in the database for every worker, before
    the login form answers 429 (a right password gives its attempt back). ``session_max_age``:
    seconds an admin session lasts from sign-in (signing out ends it at once). ``db_concurrency``:
    database calls in flight per process (default 16: the writes that queue up share one commit).
    ``read_concurrency``: PostgreSQL reads (online checks) in flight per process, in threads of
    their own (default 2: more only contend for the GIL).
    """

    session_secret: str | None = None
    portal_folder: Path | None = None
    admin_password_hash: str | None = None
    secure_cookies: bool = False
    session_max_age: int = 8 * 60 * 60
    login_attempts: int = 5
    login_window: float = 60.0
    audit_page_size: int = 50
    db_concurrency: int | None = None
    read_concurrency: int | None = None
    title: str = "Offline Licensing Portal"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_folder(cls, folder: Path, **overrides: Any) -> PortalSettings:
        """Settings for the vendor in ``folder``: its ``portal.json`` (created with a secret if missing)."""
        credentials = ensure_portal_file(folder)
        values: dict[str, Any] = {"session_secret": credentials.session_secret, "portal_folder": folder}
        values.update(overrides)
        return cls(**values)
