"""The ``tokenbudget`` command line: prices, costs, reports, reprice and an offline demo.

``tokenbudget --help`` lists the commands; ``main(argv)`` runs one and returns
its exit code (the console script and ``python -m tokenbudget`` call it).
``tokenbudget --version`` prints the package version; a closed output pipe
(``tokenbudget prices | head``) ends the command quietly with :data:`CLOSED_PIPE` (141).
"""

from __future__ import annotations

# Importing a command module registers its commands; --help lists them in this order.
from . import _prices, _reports  # noqa: F401
from ._prices import DEFAULT_LITELLM_URL
from ._registry import CLOSED_PIPE, COMMANDS, command, main

__all__ = ["CLOSED_PIPE", "COMMANDS", "DEFAULT_LITELLM_URL", "command", "main"]
