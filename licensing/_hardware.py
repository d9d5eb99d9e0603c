"""Device identity: which machine is this, as seen by one application.

The identity has two layers:

* the **machine id** (Linux ``/etc/machine-id``, macOS ``IOPlatformUUID``, Windows
  ``MachineGuid``), a stable secret of the machine. We never ship it: the *hardware id* in request
  files is an HMAC of it keyed by the product code, so two vendors (or two products) see unrelated
  ids and the raw id cannot be recovered from a request. It also seeds the local store key.
* the **components**: what else the platform offers that survives a reboot and that any user can read
  — the root file system's id, the machine's model, its firmware UUID and board serial where the
  system lets everyone read them, the Mac's serial number, the Windows system volume's serial and
  product id. They travel as HMACs too, are signed into the activation response by the vendor,
  and are compared on every load: copying the machine id file to another computer is then not
  enough to move a license (:func:`components_match` states the rule).

An application may pin the whole identity instead (containers and VMs, whose platform identity
changes when they move): a fixed id, its own provider, or — only when it opts in —
``$LICENSING_HARDWARE_ID``. Everything is computed once per process: reading the OS is the slow
part of a first check.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._errors import ConfigurationError

__all__ = ["DeviceIdentity", "device_identity", "read_machine_id", "platform_components", "components_match",
           "HARDWARE_ID_ENV"]

HARDWARE_ID_ENV = "LICENSING_HARDWARE_ID"
_LINUX_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
_DMI = "/sys/class/dmi/id/"


@dataclass(frozen=True)
class DeviceIdentity:
    hardware_id: str  # what request and license files carry
    secret: bytes  # what the local store key is derived from; never leaves the process
    #: component name -> HMAC of its value; what requests carry and the vendor signs into the response
    components: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __repr__(self) -> str:  # never log the secret
        return f"DeviceIdentity(hardware_id={self.hardware_id[:8]}…, components={sorted(self.components)})"


def components_match(recorded: Mapping[str, str], current: Mapping[str, str]) -> bool:
    """The matching rule for the components recorded at activation (the machine id is compared apart).

    With one or two recorded, every one must read the same: tolerating a change there would leave
    the machine id (and at most one component) as the whole identity. With three or more, all but
    one must: a new disk or a repaired board keeps the license. A component that cannot be read
    any more counts as changed. A license activated with none is bound by the machine id alone.
    """
    if not recorded:
        return True
    same = sum(1 for name, value in recorded.items() if current.get(name) == value)
    allowed_changes = 1 if len(recorded) >= 3 else 0
    return same >= len(recorded) - allowed_changes


# -- the machine id ----------------------------------------------------------------------------


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="strict") as handle:
            value = handle.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return value or None


def _linux_machine_id() -> str | None:
    return next((value for value in map(_read_text, _LINUX_ID_FILES) if value), None)


@functools.lru_cache(maxsize=1)
def _ioreg() -> str:
    try:
        return subprocess.run(["ioreg", "-rd1", "-c", "IOPlatformExpertDevice"], capture_output=True,
                              text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _ioreg_value(name: str) -> str | None:
    for line in _ioreg().splitlines():
        if f'"{name}"' in line:
            return line.split("=")[-1].strip().strip('"') or None
    return None


def _windows_registry(path: str, name: str) -> str | None:
    if sys.platform != "win32":  # also tells type checkers on other systems to skip winreg
        return None
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            value, _ = winreg.QueryValueEx(key, name)
            return str(value) or None
    except OSError:
        return None


def read_machine_id() -> str:
    """The operating system's stable machine id; ConfigurationError when there is none."""
    if sys.platform == "darwin":
        found = _ioreg_value("IOPlatformUUID")
    elif sys.platform == "win32":
        found = _windows_registry(r"SOFTWARE\Microsoft\Cryptography", "MachineGuid")
    else:
        found = _linux_machine_id()
    if not found:
        raise ConfigurationError(
            "This machine has no stable machine id to bind a license to.",
            hint="The application can pin a fixed id for this machine in its Configuration "
                 "(hardware_id=...); containers and VMs often need this.",
        )
    return found


# -- the other components ------------------------------------------------------------------------


def _root_file_system_id(path: str) -> str | None:
    """The file system's id: on ext4, btrfs and APFS it comes from the volume's UUID (readable by anyone)."""
    try:
        fsid = os.statvfs(path).f_fsid
    except (OSError, AttributeError):
        return None
    return f"{fsid:x}" if fsid else None


def _world_readable(path: str) -> str | None:
    """A DMI value, only when every user can read it: the identity must not depend on who runs the app."""
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return None
    except OSError:
        return None
    value = _read_text(path)
    return None if value is None or value.lower() in ("", "none", "default string", "to be filled by o.e.m.") \
        else value


def _linux_components() -> dict[str, str | None]:
    model = [_world_readable(_DMI + name) for name in ("sys_vendor", "product_name", "board_name")]
    return {
        "root_fs": _root_file_system_id("/"),
        "model": "/".join(part for part in model if part) or None,
        "firmware_uuid": _world_readable(_DMI + "product_uuid"),
        "board_serial": _world_readable(_DMI + "board_serial"),
    }


def _macos_components() -> dict[str, str | None]:
    return {"root_fs": _root_file_system_id("/"), "serial": _ioreg_value("IOPlatformSerialNumber")}


def _windows_components() -> dict[str, str | None]:
    drive = os.environ.get("SystemDrive", "C:") + "\\"
    try:
        volume = f"{os.stat(drive).st_dev:x}"  # the volume serial number on Windows
    except OSError:
        volume = None
    return {"system_volume": volume,
            "product_id": _windows_registry(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion", "ProductId")}


@functools.lru_cache(maxsize=1)
def platform_components() -> Mapping[str, str]:
    """The components this platform lets any user read, raw (they never leave the process unhashed)."""
    if sys.platform == "darwin":
        found = _macos_components()
    elif sys.platform == "win32":
        found = _windows_components()
    else:
        found = _linux_components()
    return MappingProxyType({name: value for name, value in found.items() if value})


# -- the identity ------------------------------------------------------------------------------


def device_identity(product: str, pinned: str | None = None,
                    components: Mapping[str, str] | None = None) -> DeviceIdentity:
    """The identity of this device for ``product``.

    ``pinned`` is the application's own id for the machine (it replaces the platform's machine id
    *and* components); ``components``, the application's own. With neither, the platform's.
    """
    if components is None and pinned is None:
        components = platform_components()
    return _identity(product, pinned, tuple(sorted((components or {}).items())))


@functools.lru_cache(maxsize=32)
def _identity(product: str, raw: str | None, components: tuple[tuple[str, str], ...] = ()) -> DeviceIdentity:
    raw = raw or read_machine_id()
    salt = product.encode("utf-8")
    hardware_id = hmac.new(b"offline-licensing/hardware-id/v1/" + salt, raw.encode("utf-8"),
                           hashlib.sha256).hexdigest()[:32]
    hashed = {name: hmac.new(b"offline-licensing/hardware-component/v1/" + salt,
                             f"{name}\x00{value}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
              for name, value in components}
    return DeviceIdentity(hardware_id=hardware_id,
                          secret=hashlib.sha256(b"offline-licensing/device-secret\x00" + raw.encode("utf-8")).digest(),
                          components=MappingProxyType(hashed))
