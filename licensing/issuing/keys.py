"""The vendor's key material: Ed25519 signing keys (with ids, for rotation) and an X25519 key.

Keys live as PKCS#8 PEM files, readable by the owner only, in ``DATA/keys``. ``keys.json``
names the active signing key; older signing keys stay so that exported configurations can keep
trusting files signed before a rotation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from .. import ConfigurationError
from ..wire import atomic_write, crypto

__all__ = ["VendorKeys"]


def _pem(key: crypto.Ed25519PrivateKey | crypto.X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class VendorKeys:
    signing: dict[str, crypto.Ed25519PrivateKey]
    active_kid: str
    encryption: crypto.X25519PrivateKey

    @property
    def active_signing_key(self) -> crypto.Ed25519PrivateKey:
        return self.signing[self.active_kid]

    def trusted_public_keys(self) -> dict[str, crypto.Ed25519PublicKey]:
        return {kid: key.public_key() for kid, key in self.signing.items()}

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / "keys.json").is_file()

    @classmethod
    def generate(cls, folder: Path) -> VendorKeys:
        signing = crypto.Ed25519PrivateKey.generate()
        kid = crypto.key_id(signing.public_key())
        keys = cls(signing={kid: signing}, active_kid=kid, encryption=crypto.X25519PrivateKey.generate())
        keys.save(folder)
        return keys

    def rotated(self, folder: Path) -> VendorKeys:
        """A new active signing key; the old ones stay trusted."""
        new = crypto.Ed25519PrivateKey.generate()
        kid = crypto.key_id(new.public_key())
        keys = VendorKeys(signing={**self.signing, kid: new}, active_kid=kid, encryption=self.encryption)
        keys.save(folder)
        return keys

    def save(self, folder: Path) -> None:
        for kid, key in self.signing.items():
            atomic_write(folder / f"signing-{kid}.pem", _pem(key))
        atomic_write(folder / "encryption.pem", _pem(self.encryption))
        index = {"active": self.active_kid, "signing": sorted(self.signing)}
        atomic_write(folder / "keys.json", json.dumps(index, indent=2).encode())

    @classmethod
    def load(cls, folder: Path) -> VendorKeys:
        try:
            index = json.loads((folder / "keys.json").read_text())
            signing = {}
            for kid in index["signing"]:
                key = serialization.load_pem_private_key((folder / f"signing-{kid}.pem").read_bytes(), None)
                if not isinstance(key, crypto.Ed25519PrivateKey) or crypto.key_id(key.public_key()) != kid:
                    raise ValueError(f"signing key {kid} is not the Ed25519 key it names")
                signing[kid] = key
            encryption = serialization.load_pem_private_key((folder / "encryption.pem").read_bytes(), None)
            if not isinstance(encryption, crypto.X25519PrivateKey):
                raise ValueError("encryption key is not X25519")
            return cls(signing=signing, active_kid=index["active"], encryption=encryption)
        except FileNotFoundError:
            raise ConfigurationError(f"No vendor keys in {folder}.",
                                     hint="Run 'licensing-portal init' first (or pass the right --data folder).") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"The vendor keys in {folder} are damaged: {exc}.") from None
