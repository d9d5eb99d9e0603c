"""``python -m licensing.issuing.cli``: the same as the ``licensing-portal`` command."""

from . import main

raise SystemExit(main())
