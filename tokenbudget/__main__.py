"""``python -m tokenbudget``: the command line."""

from ._cli import main

raise SystemExit(main())
