"""``python -m tokenbudget``: the command line."""

from .cli import main

raise SystemExit(main())
