"""The ``tokenbudget`` command as a shell runs it: ``--version``, and a reader that stops early."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tokenbudget
from tokenbudget.cli import CLOSED_PIPE, main

ROOT = Path(__file__).resolve().parents[1]
#: What a shell shows for a process killed by SIGPIPE (128 + 13), as for ``git log | head``.
SIGPIPE_STATUS = 141


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"tokenbudget {tokenbudget.__version__}\n"


def test_version_from_the_console(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tokenbudget", "--version"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"tokenbudget {tokenbudget.__version__}\n",
        "",
    )


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["prices"], SIGPIPE_STATUS),
        (["prices", "--provider", "openai"], SIGPIPE_STATUS),
        (["price", "gpt-4o"], SIGPIPE_STATUS),
        (["demo"], SIGPIPE_STATUS),
        # argparse drops a help text it cannot write and exits 0 itself
        (["--help"], 0),
    ],
    ids=["prices", "prices-openai", "price", "demo", "help"],
)
def test_a_closed_pipe_ends_quietly(argv: list[str], status: int, tmp_path: Path) -> None:
    """The reader is gone before the first write: no traceback, the shell's SIGPIPE status."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tokenbudget", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == status


def test_head_reads_one_line_and_nothing_is_printed_on_stderr(tmp_path: Path) -> None:
    """``tokenbudget prices | head -n 1`` through a real shell pipeline."""
    done = subprocess.run(
        ["bash", "-c", f"'{sys.executable}' -m tokenbudget prices | head -n 1"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("PROVIDER") and done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_the_exported_status_is_sigpipes() -> None:
    assert CLOSED_PIPE == SIGPIPE_STATUS
