"""The ``tokenbudget`` command line: prices, costs, reports, reprice and an offline demo.

``tokenbudget --help`` lists the commands; ``main(argv)`` runs one and returns
its exit code (the console script and ``python -m tokenbudget`` call it).
"""

from __future__ import annotations

from ._main import COMMANDS, DEFAULT_LITELLM_URL, command, main

__all__ = ["COMMANDS", "DEFAULT_LITELLM_URL", "command", "main"]
