"""Device identity: which machine is this, as seen by one application.

The raw machine id (Linux ``/etc/machine-id``, macOS ``IOPlatformUUID``, Windows
``MachineGuid``) is a stable secret of the machine. We never ship it: the *hardware id* in
request files is an HMAC of it keyed by the product code, so two vendors (or two products) see
unrelated ids and the raw id cannot be recovered from a request. The raw id also seeds the local
store key. Both are computed once per process: reading the OS is the slow part of a check.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import subprocess
import sys
from dataclasses import dataclass

from ._errors import ConfigurationError

__all__ = ["DeviceIdentity", "device_identity", "read_machine_id", "HARDWARE_ID_ENV"]

HARDWARE_ID_ENV = "LICENSING_HARDWARE_ID"
_LINUX_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


@dataclass(frozen=True)
class DeviceIdentity:
    hardware_id: str  # what request and license files carry
    secret: bytes  # what the local store key is derived from; never leaves the process

    def __repr__(self) -> str:  # never log the secret
        return f"DeviceIdentity(hardware_id={self.hardware_id[:8]}…)"


def _linux_machine_id() -> str | None:
    for name in _LINUX_ID_FILES:
        try:
            with open(name, encoding="ascii") as handle:
                value = handle.read().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return value
    return None


def _macos_machine_id() -> str | None:
    try:
        out = subprocess.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True,
                             text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if "IOPlatformUUID" in line:
            return line.split("=")[-1].strip().strip('"') or None
    return None


def _windows_machine_id() -> str | None:
    if sys.platform != "win32":  # also tells type checkers on other systems to skip winreg
        return None
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Cryptography",
                            0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            value, _ = winreg.QueryValueEx(key, "MachineGuid")
            return str(value) or None
    except OSError:
        return None


def read_machine_id() -> str:
    """The operating system's stable machine id; ConfigurationError when there is none."""
    if sys.platform == "darwin":
        found = _macos_machine_id()
    elif sys.platform == "win32":
        found = _windows_machine_id()
    else:
        found = _linux_machine_id()
    if not found:
        raise ConfigurationError(
            "This machine has no stable machine id to bind a license to.",
            hint=f"Set {HARDWARE_ID_ENV} to a fixed id for this machine (containers often need this).",
        )
    return found


def device_identity(product: str, override: str | None = None) -> DeviceIdentity:
    """The identity of this device for ``product``: from ``override``, the environment, or the OS."""
    return _identity(product, override or os.environ.get(HARDWARE_ID_ENV) or None)


@functools.lru_cache(maxsize=32)
def _identity(product: str, raw: str | None) -> DeviceIdentity:
    raw = raw or read_machine_id()
    hardware_id = hmac.new(b"offline-licensing/hardware-id/v1/" + product.encode("utf-8"),
                           raw.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    return DeviceIdentity(hardware_id=hardware_id,
                          secret=hashlib.sha256(b"offline-licensing/device-secret\x00" + raw.encode("utf-8")).digest())
