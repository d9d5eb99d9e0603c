"""The SDK's connection to the vendor's license server (the JSON API under ``/api/v1``).

Everything that crosses the network is one of the signed envelopes of :mod:`licensing._formats`:
the server's answers are verified with the application's pinned keys exactly like files carried
by hand, so the online path trusts the network no more than the offline path trusts a USB stick.
Network trouble becomes :class:`~licensing._errors.ServerUnreachableError`; a refusal by the
server comes back as the same typed error (same ``code``) the vendor would give offline.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ._config import Configuration
from ._errors import ConfigurationError, LicenseError, ServerResponseError, ServerUnreachableError, refusal_class
from ._version import __version__

__all__ = ["LicenseServer", "ONLINE_CACHE_SECONDS"]

#: how long an answer of is_online() is reused: a UI may ask on every keystroke
ONLINE_CACHE_SECONDS = 5.0
_MAX_ANSWER = 256 * 1024


class LicenseServer:
    """A small, blocking client: every call is bounded by the configured timeout."""

    def __init__(self, config: Configuration) -> None:
        self._config = config
        self._base = (config.server_url or "").rstrip("/")
        self._client: httpx.Client | None = None
        self._online: tuple[float, bool] | None = None

    @property
    def configured(self) -> bool:
        return bool(self._base)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self._base + "/api/v1", timeout=httpx.Timeout(self._config.timeout),
                headers={"X-Api-Key": self._config.api_key, "User-Agent": f"offline-licensing/{__version__}"},
                trust_env=False,
            )
        return self._client

    def is_online(self) -> bool:
        """True when the server answers its health check within the timeout. Never raises."""
        if not self.configured:
            return False
        now = time.monotonic()
        if self._online is not None and now - self._online[0] < ONLINE_CACHE_SECONDS:
            return self._online[1]
        try:
            answer = self._http().get("/ping")
            online = answer.status_code == 200 and answer.json().get("ok") is True
        except (httpx.HTTPError, ValueError, AttributeError):
            online = False
        self._online = (time.monotonic(), online)
        return online

    def forget_online_state(self) -> None:
        """Drop the cached is_online() answer (e.g. when the user says the network is back)."""
        self._online = None

    def post(self, endpoint: str, envelope: bytes) -> bytes:
        """Send a signed request; return the raw answer body, or raise the server's typed refusal."""
        if not self.configured:
            raise ConfigurationError("No license server is configured for this application.",
                                     hint="Use the offline path, or set server_url in the configuration.")
        try:
            answer = self._http().post(endpoint, content=envelope,
                                       headers={"Content-Type": "application/json"})
        except httpx.TimeoutException:
            self._online = (time.monotonic(), False)
            raise ServerUnreachableError(f"The license server did not answer within {self._config.timeout:g} s.") from None
        except httpx.HTTPError as exc:
            self._online = (time.monotonic(), False)
            raise ServerUnreachableError(f"The license server cannot be reached ({type(exc).__name__}).") from None
        self._online = (time.monotonic(), True)
        body = answer.content
        if len(body) > _MAX_ANSWER:
            raise ServerResponseError("The license server sent an answer far too large to be a license.")
        if answer.status_code == 200:
            return body
        raise _refusal(answer.status_code, body)

    def post_json(self, endpoint: str, envelope: bytes) -> dict[str, Any]:
        body = self.post(endpoint, envelope)
        try:
            data = json.loads(body)
        except ValueError:
            raise ServerResponseError() from None
        if not isinstance(data, dict):
            raise ServerResponseError()
        return data

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _refusal(status: int, body: bytes) -> LicenseError:
    """Turn the server's ``{"code", "message", "hint"}`` into the matching typed error."""
    try:
        data = json.loads(body)
        code, message, hint = data["code"], data["message"], data["hint"]
        if not all(isinstance(v, str) for v in (code, message, hint)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        if status >= 500:
            return ServerResponseError(f"The license server failed (HTTP {status}).")
        return ServerResponseError(f"The license server refused the request (HTTP {status}) without saying why.")
    error_type = refusal_class(code) or ServerResponseError  # the vendor's own class where a code has two
    error = error_type(message, hint=hint)
    if error_type is ServerResponseError:
        error.details["server_code"] = code
    return error
