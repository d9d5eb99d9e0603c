"""A thin layer over ``cryptography``: the few primitives the toolkit uses, with one way to call each.

* Ed25519 signatures with a domain-separation prefix per artefact type, so a signature made for
  one kind of file can never be replayed as another kind.
* Sealed boxes (X25519 + HKDF-SHA256 + AES-256-GCM) for secrets a user types into a request.
* HKDF-SHA256 for keys derived from the device and product (cheap by design: the local store is
  opened on every start, and its key comes from a secret, not from a low-entropy password).
* AES-256-GCM for the local store and the guard file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "InvalidTag",
    "b64encode",
    "b64decode_strict",
    "domain_prefix",
    "sign",
    "verify",
    "mac",
    "mac_matches",
    "key_id",
    "hkdf",
    "aead_encrypt",
    "aead_decrypt",
    "seal",
    "open_sealed",
    "ed25519_public_from_b64",
    "x25519_public_from_b64",
    "public_bytes",
    "private_bytes",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "X25519PrivateKey",
    "X25519PublicKey",
]

NONCE_SIZE = 12
_SEAL_INFO = b"offline-licensing/seal/v1"


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str) -> bytes:
    """Decode standard base64, refusing anything that does not re-encode to the same text.

    Plain ``b64decode`` ignores the unused low bits of the last character, so two different
    texts can decode to the same bytes; a tamper-evident format must not allow that.
    """
    raw = base64.b64decode(text.encode("ascii"), validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def domain_prefix(artefact_type: str) -> bytes:
    return b"offline-licensing\x00" + artefact_type.encode("ascii") + b"\x00v1\x00"


def sign(private_key: Ed25519PrivateKey, artefact_type: str, payload: bytes) -> bytes:
    return private_key.sign(domain_prefix(artefact_type) + payload)


def verify(public_key: Ed25519PublicKey, artefact_type: str, payload: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, domain_prefix(artefact_type) + payload)
    except InvalidSignature:
        return False
    return True


def mac(key: bytes, artefact_type: str, payload: bytes) -> bytes:
    return hmac.new(key, domain_prefix(artefact_type) + payload, hashlib.sha256).digest()


def mac_matches(key: bytes, artefact_type: str, payload: bytes, tag: bytes) -> bool:
    return hmac.compare_digest(mac(key, artefact_type, payload), tag)


def public_bytes(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def key_id(public_key: Ed25519PublicKey | X25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_bytes(public_key)).hexdigest()[:16]


def ed25519_public_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64decode_strict(text))


def x25519_public_from_b64(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(b64decode_strict(text))


def hkdf(secret: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Return nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`aead_encrypt`; raises :class:`InvalidTag` on any change."""
    if len(blob) < NONCE_SIZE + 16:
        raise InvalidTag()
    return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)


def seal(recipient: X25519PublicKey, plaintext: bytes, aad: bytes) -> dict[str, str]:
    """Encrypt to a recipient's X25519 key (ephemeral-static ECDH, HKDF, AES-GCM)."""
    ephemeral = X25519PrivateKey.generate()
    epk = public_bytes(ephemeral.public_key())
    shared = ephemeral.exchange(recipient)
    key = hkdf(shared, salt=epk + public_bytes(recipient), info=_SEAL_INFO)
    return {"epk": b64encode(epk), "ct": b64encode(aead_encrypt(key, plaintext, aad))}


def open_sealed(private_key: X25519PrivateKey, sealed: dict[str, str], aad: bytes) -> bytes:
    """Inverse of :func:`seal`; raises ``ValueError``/``InvalidTag`` on a bad box."""
    epk = b64decode_strict(sealed["epk"])
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(epk))
    key = hkdf(shared, salt=epk + public_bytes(private_key.public_key()), info=_SEAL_INFO)
    return aead_decrypt(key, b64decode_strict(sealed["ct"]), aad)
