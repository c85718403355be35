"""A usage store tokenbudget creates is readable by its owner only; a user's file keeps its mode."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tokenbudget import TokenTracker

from ..support import file_mode

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits"),
    pytest.mark.usefixtures("usual_umask"),
]


def test_a_new_store_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with TokenTracker(store=path) as tracker:
        tracker.track("gpt-4o", 10, 5)
        assert tracker.flush()
        files = sorted(p.name for p in tmp_path.iterdir())
        assert files == ["usage.db", "usage.db-shm", "usage.db-wal"]
        assert {name: file_mode(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)


def test_a_store_in_a_new_folder_gets_a_private_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "tokenbudget" / "usage.db"
    with TokenTracker(store=path):
        pass
    assert file_mode(tmp_path / "data") == 0o700 and file_mode(path.parent) == 0o700
    assert file_mode(path) == 0o600


def test_a_file_the_user_made_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "usage.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    with TokenTracker(store=path) as tracker:
        tracker.track("gpt-4o", 10, 5)
        assert tracker.flush()
    assert file_mode(path) == 0o640
    assert file_mode(tmp_path) == 0o755  # the folder was the user's: left alone
