"""The one place tests reach behind the SDK's public surface.

Some attacks need what only the machine itself holds: the local store's file names and the key
its files are sealed with (derived from the machine id, which any local user can read). The
tampering and crash tests play that attacker, so they import these private names — here, and
nowhere else, so that the import-graph test can hold every other module to the public surface.
"""

from licensing import LicenseManager
from licensing._hardware import device_identity
from licensing._storage import GUARD_FILE, LICENSE_FILE, LOCK_FILE, TOMBSTONE_FILE, LocalStore, derive_store_key

__all__ = ["device_identity", "derive_store_key", "store_of", "reseal", "GUARD_FILE", "LICENSE_FILE", "LOCK_FILE",
           "TOMBSTONE_FILE"]


def store_of(manager: LicenseManager) -> LocalStore:
    """The manager's local store, to read what it wrote (a test's eyes on the disk, not an API)."""
    return manager._store


def reseal(manager: LicenseManager, name: str, role: str, plaintext: bytes) -> None:
    """Write ``plaintext`` sealed as the store seals it: the attacker who holds the machine id."""
    store = manager._store
    (store.folder / name).write_bytes(store._seal(role, plaintext))
