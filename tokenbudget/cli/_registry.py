"""The command registry, the parser built from it, and ``main``.

Each command is a function taking the parsed arguments and returning an exit
code, registered with :func:`command` together with a function that adds its
sub-parser, so adding a command is one decorated pair in one place::

    @command(add_prices_arguments)
    def prices(args: argparse.Namespace) -> int: ...

Errors the user can fix (an unknown model, a bad price file, a bad option)
print one line on stderr and exit non-zero; ``--help`` works on every command.
When the reader of the output goes away (``tokenbudget prices | head``) the
command stops quietly with status 141, as ``git`` or ``seq`` killed by SIGPIPE.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from .._version import __version__
from ..pricing import PriceDataError, UnknownModelError
from ..reports import ReportError
from ..store import StoreError

__all__ = [
    "CLOSED_PIPE",
    "COMMANDS",
    "CliError",
    "CliParser",
    "Command",
    "build_parser",
    "command",
    "main",
]

#: The exit status when the output's reader went away: 128 + SIGPIPE, what a shell
#: reports for ``git log | head`` or ``seq 1 1000000 | head``.
CLOSED_PIPE = 141

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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CliParser)
    for registered in COMMANDS:
        child = registered.add_parser(sub)
        child.set_defaults(handler=registered.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        try:
            return _run(argv)
        finally:
            # Written output is flushed here, where a closed pipe can still be handled,
            # not at interpreter exit, where it would print "Exception ignored".
            sys.stdout.flush()
    except BrokenPipeError:
        # Python ignores SIGPIPE and raises instead; end as quietly as a killed process
        # would. Point stdout at devnull so the final flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return CLOSED_PIPE


def _run(argv: Sequence[str] | None) -> int:
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
