"""What every command handler gets: the parsed arguments, the clock, and the vendor workspace.

The workspace (keys and database) is opened on first use and only here, so that ``--help`` and
a mistyped command never load SQLAlchemy or touch the data folder.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ... import StorageError
from ...wire import Clock, utc_now

if TYPE_CHECKING:
    from ..workspace import VendorWorkspace

__all__ = ["PROG", "CommandContext", "quote", "output_path", "check_writable"]

PROG = "licensing-portal"


class CommandContext:
    def __init__(self, args: argparse.Namespace, clock: Clock) -> None:
        self.args = args
        self.clock = clock
        self._workspace: VendorWorkspace | None = None

    @property
    def data_dir(self) -> Path:
        from ..workspace import default_vendor_dir

        return (Path(self.args.data).expanduser() if self.args.data else default_vendor_dir()).absolute()

    @property
    def command_prefix(self) -> str:
        """How to call us again with the same data folder (for "next step" lines)."""
        prefix = PROG
        if self.args.data:
            prefix += f" --data {quote(str(self.data_dir))}"
        if self.args.database:
            prefix += " --database URL"
        return prefix

    @property
    def workspace(self) -> VendorWorkspace:
        if self._workspace is None:
            from ..workspace import VendorWorkspace

            self._workspace = VendorWorkspace.open(self.data_dir, database_url=self.args.database, clock=self.clock)
        return self._workspace

    def now(self) -> datetime:
        return utc_now(self.clock)

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def quote(text: str) -> str:
    return f"'{text}'" if any(c.isspace() for c in text) or not text else text


def output_path(given: str | None, default_dir: Path, default_name: str) -> Path:
    """No path: the default folder; a folder: the default name inside it; else the path itself."""
    if not given:
        return (default_dir / default_name).absolute()
    target = Path(given).expanduser().absolute()
    names_a_folder = given.endswith(("/", os.sep)) or target.is_dir()
    return target / default_name if names_a_folder else target


def check_writable(target: Path) -> None:
    """Refuse early, before the vendor answers (an answered request cannot be answered twice)."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise StorageError(f"Cannot write {target}: {ancestor} is not a writable folder.",
                           hint="Pick another output path with -o.")
