"""The command registry, the parser built from it, and ``main``.

Each command is a function taking the parsed arguments and returning an exit
code, registered with :func:`command` together with a function that adds its
sub-parser, so adding a command is one decorated pair in one place::

    @command(add_prices_arguments)
    def prices(args: argparse.Namespace) -> int: ...

Errors the user can fix (an unknown model, a bad price file, a bad option)
print one line on stderr and exit non-zero; ``--help`` works on every command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from ..pricing import PriceDataError, UnknownModelError
from ..reports import ReportError
from ..store import StoreError

__all__ = ["COMMANDS", "CliError", "CliParser", "Command", "build_parser", "command", "main"]

Handler = Callable[[argparse.Namespace], int]
AddParser = Callable[["argparse._SubParsersAction[CliParser]"], "CliParser"]


@dataclass(frozen=True)
class Command:
    """A registered command: its handler and the function adding its sub-parser."""

    name: str
    handler: Handler
    add_parser: AddParser


#: Registered commands, in the order ``--help`` lists them.
COMMANDS: list[Command] = []


def command(add_parser: AddParser) -> Callable[[Handler], Handler]:
    """Register ``handler`` as a command whose sub-parser ``add_parser`` builds."""

    def register(handler: Handler) -> Handler:
        COMMANDS.append(Command(handler.__name__, handler, add_parser))
        return handler

    return register


class CliError(Exception):
    """A problem the user can fix: printed as one line, exit code 1."""


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> CliParser:
    """The top-level parser with every registered command."""
    parser = CliParser(
        prog="tokenbudget",
        description="Token and cost tracking for LLM API calls.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    for registered in COMMANDS:
        child = registered.add_parser(sub)
        child.set_defaults(handler=registered.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except (CliError, UnknownModelError, PriceDataError, ReportError, StoreError) as exc:
        sys.stderr.write(f"tokenbudget: error: {exc}\n")
        return 1
