"""Files on disk: atomic writes, and the tutorial's rule for where a request or response file goes.

A leaf of the package: it imports only the error tree, so every module that writes a file
(the local store, artefacts, the configuration) can use it without an import cycle.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ._errors import StorageError

__all__ = ["atomic_write", "fsync_dir", "output_path"]


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def atomic_write(target: Path, data: bytes, *, mode: int = 0o600, sync_folder: bool = True) -> None:
    """Write ``data`` so that ``target`` holds either its old bytes or the new ones, never a mix.

    ``sync_folder=False`` skips the folder's fsync: after a power cut the file may then hold its
    old bytes (never a mix), which suits a copy whose being a little behind is harmless.
    """
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise StorageError(f"Cannot write in the folder {folder}: {exc.strerror or exc}.") from None
    except ValueError:  # e.g. a NUL character in the path
        raise StorageError(f"{str(target)!r} is not a usable file path.", hint="Pick another file name.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
        if sync_folder:
            fsync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise StorageError(f"Cannot write {target}: {exc.strerror or exc}.") from None


def output_path(path: str | Path | None, default_dir: Path, default_name: str) -> Path:
    """The tutorial's rule: no path means the default folder; a folder means the default name in it."""
    if path is None or str(path) == "":
        return default_dir / default_name
    target = Path(path)
    try:
        target = target.expanduser()
    except RuntimeError:  # "~someone" who does not exist: leave it; reading it reports a missing file
        pass
    try:
        is_folder = target.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL byte: not a folder; reading or writing says why
        is_folder = False
    return target / default_name if is_folder else target
