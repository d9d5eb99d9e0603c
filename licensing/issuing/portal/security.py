"""Admin sign-in, the failed-login limiter, and the per-application portal state."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from .settings import AdminCredentials, PortalSettings
from .web import LoginRequired

__all__ = ["Portal", "LoginLimiter"]


@dataclass
class LoginLimiter:
    """At most ``attempts`` failed sign-ins per ``window`` seconds per client address (in memory).

    Each worker process keeps its own count, so with N workers a client gets at most N times the
    allowance; that still turns a password guess into minutes per thousand tries.
    """

    attempts: int = 5
    window: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) < self.attempts:
                return 0
            return max(1, int(failures[0] + self.window - now + 0.999))

    def failed(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)
            if len(self._failures) > 10_000:  # bounded memory under a flood of addresses
                for key in [k for k, v in self._failures.items() if not v][:5_000]:
                    del self._failures[key]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Portal:
    """What the pages share in one application: settings, the admin password, the login limiter."""

    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        self.secret = settings.session_secret or secrets.token_hex(32)
        self.credentials = AdminCredentials(settings.portal_folder, settings.admin_password_hash)
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window)
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
