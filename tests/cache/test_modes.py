"""Folders and files the disk cache creates are private to the user: 0700 and 0600.

A cached answer is as private as the call that fetched it. The process umask
here is the usual 022, under which a plain ``mkdir`` gives 0755 and SQLite 0644.
"""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from tokenbudget import TokenTracker
from tokenbudget.testing import FakeLLM

from ..support import file_mode

pytestmark = pytest.mark.usefixtures("usual_umask")


def fill(directory: Path) -> None:
    """Two calls through the openai SDK: a short answer and one stored as a value file."""
    tracker = TokenTracker(cache="disk", cache_dir=directory)
    fake = FakeLLM(replies=["short", "long " * 20_000])
    client = openai.OpenAI(
        api_key="sk-one", http_client=tracker.httpx_client(transport=fake), max_retries=0
    )
    for text in ("a", "b"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
    assert tracker.cache_stats.hits + tracker.cache_stats.stores == 2
    tracker.close()


def test_created_folders_are_0700_and_files_0600(tmp_path: Path) -> None:
    directory = tmp_path / "made" / "by" / "tokenbudget"
    fill(directory)

    folders = [tmp_path / "made", tmp_path / "made" / "by", directory]
    folders += [path for path in directory.rglob("*") if path.is_dir()]
    files = [path for path in directory.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"credential.key", "cache.db"} <= names
    assert any(name.endswith(".val") for name in names), "the long answer is a value file"
    assert any(name.endswith("-wal") for name in names), "SQLite's write-ahead log too"
    assert {str(path): oct(file_mode(path)) for path in folders} == {
        str(path): "0o700" for path in folders
    }
    assert {str(path): oct(file_mode(path)) for path in files} == {
        str(path): "0o600" for path in files
    }


def test_a_folder_the_user_made_keeps_its_mode(tmp_path: Path) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o755)
    fill(directory)

    assert file_mode(directory) == 0o755, "the user's folder is the user's business"
    inside = list(directory.rglob("*"))
    assert inside
    assert all(file_mode(path) == (0o700 if path.is_dir() else 0o600) for path in inside)


def test_an_older_cache_is_made_private_when_opened(tmp_path: Path) -> None:
    directory = tmp_path / "old"
    fill(directory)
    responses = directory / "responses"
    responses.chmod(0o755)
    for path in responses.glob("cache.db*"):
        path.chmod(0o644)

    fill(directory)

    assert file_mode(responses) == 0o700
    assert [oct(file_mode(path)) for path in responses.glob("cache.db*")] == ["0o600"] * len(
        list(responses.glob("cache.db*"))
    )
