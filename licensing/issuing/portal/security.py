"""Admin sign-in: the shared failed-login limit, server-side sessions, and the per-application portal state.

Both live in the vendor database, so every worker process agrees on them:

* **Failed sign-ins** are counted per client address by :class:`~licensing.issuing.throttle.AttemptThrottle`
  (``settings.login_attempts`` per ``settings.login_window`` seconds). An attempt is reserved before
  the password is hashed, so a burst of concurrent guesses cannot all be checked before any counts.
* **Sessions** are rows of ``admin_sessions``. The signed cookie carries a random session id; the
  table holds its SHA-256 and an expiry. Signing out deletes the row, so the old cookie stops
  opening the admin area in every process at once. Changing the admin password also ends every
  session (the cookie records a fingerprint of the password hash, checked on each request).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, insert, select

from ...wire import Clock, utc_now
from ..models import AdminSession
from ..store import VendorStore
from ..throttle import AttemptThrottle, Limit, Reservation, bucket
from .settings import AdminCredentials, PortalSettings
from .web import LoginRequired

__all__ = ["Portal", "AdminSessions"]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class AdminSessions:
    """Signed-in admin sessions, one row each, shared by every process on the database."""

    def __init__(self, store: VendorStore, clock: Clock, max_age: int) -> None:
        self.store = store
        self.clock = clock
        self.max_age = timedelta(seconds=max_age)

    def start(self) -> str:
        """A new session id (for the cookie); expired sessions are forgotten on the way."""
        session_id = secrets.token_urlsafe(32)
        now = utc_now(self.clock)
        with self.store.transaction() as db:
            db.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
            db.execute(insert(AdminSession).values(id=_digest(session_id), created_at=now,
                                                   expires_at=now + self.max_age))
        return session_id

    def is_live(self, session_id: str) -> bool:
        with self.store.transaction(readonly=True) as db:
            expires = db.scalar(select(AdminSession.expires_at).where(AdminSession.id == _digest(session_id)))
        return expires is not None and utc_now(self.clock) < expires

    def end(self, session_id: str) -> None:
        with self.store.transaction() as db:
            db.execute(delete(AdminSession).where(AdminSession.id == _digest(session_id)))


class Portal:
    """What the pages share in one application: settings, the admin password, sessions and the login limit."""

    def __init__(self, settings: PortalSettings, store: VendorStore, clock: Clock) -> None:
        self.settings = settings
        self.secret = settings.session_secret or secrets.token_hex(32)
        self.credentials = AdminCredentials(settings.portal_folder, settings.admin_password_hash)
        self.sessions = AdminSessions(store, clock, settings.session_max_age)
        self.throttle = AttemptThrottle(store, clock)
        self.login_limit = Limit(settings.login_attempts, timedelta(seconds=settings.login_window))
        self._receipts = URLSafeSerializer(self.secret, salt="offline-licensing-portal/receipt")

    # -- failed sign-ins -----------------------------------------------------------------------

    def reserve_login(self, client: str) -> Reservation:
        """Count a sign-in attempt from ``client`` before its password is checked (raises when over the limit)."""
        return self.throttle.reserve([bucket("admin-login", client)], self.login_limit)

    # -- admin session -------------------------------------------------------------------------

    def is_admin(self, request: Request) -> bool:
        """Signed in: the cookie names a live session, made under the current admin password."""
        if "session" not in request.scope:
            return False
        cached = getattr(request.state, "is_admin", None)
        if cached is not None:
            return bool(cached)
        session = request.session
        session_id = session.get("sid")
        answer = (session.get("admin") is True and isinstance(session_id, str) and self.credentials.configured
                  and secrets.compare_digest(str(session.get("pw", "")), self.credentials.fingerprint())
                  and self.sessions.is_live(session_id))
        request.state.is_admin = answer
        return answer

    def require_admin(self, request: Request) -> None:
        if not self.is_admin(request):
            raise LoginRequired()

    def sign_in(self, request: Request, session_id: str) -> None:
        """Put the new session (from :meth:`AdminSessions.start`) into the cookie."""
        request.session.clear()
        request.session.update({"admin": True, "sid": session_id, "pw": self.credentials.fingerprint(),
                                "csrf": secrets.token_urlsafe(32), "at": int(time.time())})
        request.state.is_admin = True

    def signed_in_session(self, request: Request) -> str | None:
        """The session id in the cookie, if any (to end it on sign-out)."""
        session_id = request.session.get("sid") if "session" in request.scope else None
        return session_id if isinstance(session_id, str) else None

    # -- signed receipts -----------------------------------------------------------------------

    def sign_receipt(self, receipt: dict[str, object]) -> str:
        return self._receipts.dumps(receipt)

    def open_receipt(self, token: str) -> dict[str, object] | None:
        try:
            value = self._receipts.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None
