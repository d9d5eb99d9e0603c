"""``licensing-portal``: the vendor's command line (products, licenses, devices, request files).

A thin shell: it parses arguments, calls :mod:`~licensing.issuing.catalog` and the
:class:`~licensing.issuing.issuer.Issuer`, and formats what they return. The rules live there.

Every command prints short aligned lines for people, or — with ``--json`` — exactly one JSON
object on stdout (``{"ok": true, ...}``, or ``{"ok": false, "code", "message", "hint"}``).
Exit status: 0 done, 1 refused or failed (a :class:`~licensing.LicenseError`, whose stable
``code`` is printed), 2 the command line itself was wrong.

The package, by job:

* :mod:`.parser` — the argument parser, and the one table that names each command's handler
  as ``module:function``. Nothing there imports the database or web stack.
* :mod:`.runner` — :func:`main`: parse, import the one handler module the command needs, run
  it, print its :class:`~.output.Output` or its typed error.
* :mod:`.context` — what every handler gets: the parsed arguments and the vendor workspace,
  opened on first use.
* :mod:`.output` — the ``Output`` record and the formatting of products, licenses and devices.
* one module per command group: :mod:`.products`, :mod:`.licenses`, :mod:`.devices`,
  :mod:`.files` (``respond``, ``refresh``), :mod:`.workspaces` (``init``, ``demo``) and
  :mod:`.portal` (``serve``, ``admin set-password``).

Run ``licensing-portal --help`` (or ``python -m licensing.issuing.cli --help``) for the commands.
"""

from .parser import build_parser
from .runner import main

__all__ = ["main", "build_parser"]
