"""``python -m licensing.floating``: the same as the ``licensing-floating`` command."""

import sys

from .cli import main

sys.exit(main())
