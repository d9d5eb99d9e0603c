"""Password hashes (scrypt) for user-based licenses and the portal's admin password.

A hash records its own parameters — ``scrypt$N$r$p$salt$digest`` (hex) — so a hash made with
older, cheaper parameters keeps verifying after :data:`SCRYPT_N` is raised; new hashes use the
current ones. N=2^17, r=8 costs 128 MiB of memory and a few hundred milliseconds per check, which
is the point (a stolen database is expensive to guess through); so at most
:data:`MAX_CONCURRENT_HASHES` hashes run at once per process, whatever the number of threads
asking, and the memory a flood can take stays bounded.

:func:`check_unknown_user` burns the same work as a real check, so a name that does not exist
answers in the same time as one that does (the time would otherwise tell which names exist).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

__all__ = ["SCRYPT_N", "SCRYPT_R", "SCRYPT_P", "hash_password", "password_matches", "check_unknown_user",
           "needs_rehash", "MAX_CONCURRENT_HASHES"]

SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MAX_CONCURRENT_HASHES = 2
_SALT_BYTES = 16
_DIGEST_BYTES = 64
# Bounds on parameters read back from a stored hash: a damaged file must not ask for gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16

_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)

#: a well-formed hash of the current parameters that no password matches (its digest is not scrypt's)
_UNKNOWN_USER_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * _SALT_BYTES}${'00' * _DIGEST_BYTES}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # scrypt needs 128 * r * (n + p + 2) bytes; hashlib's default ceiling (32 MiB) is below N=2^17.
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    with _hashing:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _DIGEST_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(stored: str | None, password: str) -> bool:
    """Does ``password`` match the ``stored`` hash (made with whatever parameters it records)?"""
    if not stored:
        return False
    try:
        scheme, n_text, r_text, p_text, salt_hex, digest_hex = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
        if scheme != "scrypt" or not (1 < n <= _MAX_N and 0 < r <= _MAX_R and 0 < p <= _MAX_P) or not digest:
            return False
        candidate = _scrypt(password, salt, n, r, p, len(digest))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, digest)


def needs_rehash(stored: str | None) -> bool:
    """Was ``stored`` made with other parameters than today's (so a known user would answer faster)?"""
    return bool(stored) and not (stored or "").startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


def check_unknown_user(password: str) -> bool:
    """The work of a real check, for a user name that does not exist; always False."""
    password_matches(_UNKNOWN_USER_HASH, password)
    return False
