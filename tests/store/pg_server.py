"""A PostgreSQL server of the tests' own: ``initdb`` into a temporary folder, ``pg_ctl`` on a
free loopback port, stopped (and its folder removed) at the end.

PostgreSQL refuses to run as root: when the tests run as root, the folder is
given to the ``postgres`` user and every server command runs as that user
through ``runuser``. The server asks for a password (scram-sha-256), so the
tests' URLs carry one, as real ones do.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PASSWORD", "PostgresServer", "find_bin"]

#: The password of the tests' server (what must never reach a log or an error text).
PASSWORD = "s3cret-Pg!pw"


def find_bin() -> Path | None:
    """The folder of ``pg_ctl`` and ``initdb``: on PATH, else Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One server in its own folder, on 127.0.0.1, that a test may stop and start again."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tokenbudget-pg-"))
        self.data = self.root / "data"
        self._as: list[str] = []
        self._uid: int | None = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")  # KeyError: no such user
            self._as = ["runuser", "-u", "postgres", "--"]
            self._uid, gid = entry.pw_uid, entry.pw_gid
            os.chown(self.root, self._uid, gid)
        self._counter = 0
        atexit.register(self.remove)  # also when the run is interrupted

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://postgres:{password}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [*self._as, str(self.bin_dir / command[0]), *command[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def init(self) -> None:
        """``initdb``: a cluster whose ``postgres`` user has :data:`PASSWORD`."""
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._uid is not None:
            os.chown(pwfile, self._uid, -1)
        os.chmod(pwfile, 0o600)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--pwfile", str(pwfile),
            "--auth=scram-sha-256", "--locale=C", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it takes connections.

        ``fsync=off``: a commit reaches the kernel, not the disk, which is fast and
        survives the server's crash (``stop("immediate")``), not the machine's.
        """
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
            " -c fsync=off -c full_page_writes=off"
            " -c max_connections=60"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed); its data stays."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    @property
    def running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def new_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        self._counter += 1
        name = f"t{os.getpid()}_{self._counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop if running, and delete the folder (idempotent)."""
        if self.data.exists() and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
