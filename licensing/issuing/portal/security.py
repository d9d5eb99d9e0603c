"""Admin sign-in, its attempt limit, and the per-application portal state."""

from __future__ import annotations

import secrets
import time

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from ...wire import Clock, system_clock
from ..store import VendorStore
from ..throttle import Throttle
from .settings import AdminCredentials, PortalSettings
from .web import LoginRequired

__all__ = ["Portal"]


class Portal:
    """What the pages share in one application: settings, the admin password, the sign-in limit.

    The sign-in limit (``login_attempts`` per ``login_window`` seconds per client address) is kept
    in the database, so every worker and every server behind a load balancer counts the same
    attempts; an attempt is counted before the password is checked.
    """

    def __init__(self, settings: PortalSettings, store: VendorStore, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.secret = settings.session_secret or secrets.token_hex(32)
        self.credentials = AdminCredentials(settings.portal_folder, settings.admin_password_hash)
        self.sign_ins = Throttle(store, "admin-login", settings.login_attempts, settings.login_window, clock)
        self._receipts = URLSafeSerializer(self.secret, salt="offline-licensing-portal/receipt")

    # -- admin session -------------------------------------------------------------------------

    def is_admin(self, request: Request) -> bool:
        if "session" not in request.scope:
            return False
        session = request.session
        if session.get("admin") is not True or not self.credentials.configured:
            return False
        return secrets.compare_digest(str(session.get("pw", "")), self.credentials.fingerprint())

    def require_admin(self, request: Request) -> None:
        if not self.is_admin(request):
            raise LoginRequired()

    def sign_in(self, request: Request) -> None:
        request.session.clear()
        request.session.update({"admin": True, "pw": self.credentials.fingerprint(),
                                "csrf": secrets.token_urlsafe(32), "at": int(time.time())})

    # -- signed receipts -----------------------------------------------------------------------

    def sign_receipt(self, receipt: dict[str, object]) -> str:
        return self._receipts.dumps(receipt)

    def open_receipt(self, token: str) -> dict[str, object] | None:
        try:
            value = self._receipts.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None
