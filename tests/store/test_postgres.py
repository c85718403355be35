"""What only the PostgreSQL store does: outages, secrets, migrations, exactly-once commits, fork.

The behaviour it shares with SQLite is tested in ``test_backends``. These tests
start their own server (``conftest``); the outage tests get one of their own,
which they stop in the middle of a run and start again.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from tokenbudget import StoreError, TokenTracker
from tokenbudget.cli import main
from tokenbudget.store import PostgresStore, StoreWriter, open_store
from tokenbudget.testing import FakeLLM

from ..support import StubBook, record
from .pg_server import PASSWORD, PostgresServer

CHAT = "https://api.openai.com/v1/chat/completions"
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _calls(url: str) -> int:
    with open_store(url, create=False) as store:
        return store.summary().calls


def _sql(url: str, *statements: str) -> list[Any]:
    import psycopg

    results = []
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            cursor = conn.execute(statement)
            results.append(cursor.fetchall() if cursor.description else None)
    return results


def test_a_server_lost_mid_run_keeps_every_call_and_writes_them_when_it_is_back(
    own_pg_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_pg_server.new_database()
    tracker = TokenTracker(store=url, prices=StubBook())
    with tracker.httpx_client(transport=FakeLLM(reply="Fine.")) as client:
        for _ in range(5):
            assert client.post(CHAT, json=BODY).status_code == 200
        assert tracker.flush()
        assert _calls(url) == 5

        own_pg_server.stop("immediate")  # as if it crashed
        for _ in range(20):  # the calls go on, unhindered
            assert client.post(CHAT, json=BODY).status_code == 200
        _until(lambda: not tracker.flush(timeout=0.1))  # the writer met the outage
        assert tracker.usage.calls == 25  # counted in memory meanwhile
        with pytest.raises(StoreError, match="cannot connect to postgresql://postgres:\\*\\*\\*@"):
            tracker.usage_since(timedelta(days=1))  # a read of the store says so

        own_pg_server.start()
        _until(lambda: tracker.flush(timeout=1.0))
    assert _calls(url) == 25
    tracker.close()
    text = caplog.text
    assert "could not write" in text and "works again" in text
    assert PASSWORD not in text


def test_a_full_buffer_drops_the_oldest_calls_counts_and_logs_them(
    own_pg_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_pg_server.new_database()
    store = open_store(url)
    store.summary()  # schema made
    own_pg_server.stop("immediate")
    writer = StoreWriter(store, max_pending=5)
    for i in range(8):
        writer.put(record(input_tokens=i))
    assert writer.dropped == 3
    assert "were dropped from the write queue" in caplog.text
    own_pg_server.start()
    _until(lambda: writer.pending == 0)
    assert writer.close() == 0
    assert sorted(r.input_tokens for r in store.records()) == [3, 4, 5, 6, 7]
    store.close()
    assert PASSWORD not in caplog.text


def test_a_tracker_on_a_server_that_is_away_says_so_without_the_password(
    pg_server: PostgresServer,
) -> None:
    away = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/nothing"
    with pytest.raises(StoreError) as raised:
        TokenTracker(store=away)
    message = str(raised.value)
    assert message.startswith("cannot connect to postgresql://postgres:***@127.0.0.1:1/nothing")
    assert PASSWORD not in message and raised.value.__cause__ is None

    wrong = pg_server.url(password="not-the-Password-42")
    with pytest.raises(StoreError, match="password authentication failed") as raised:
        open_store(wrong).summary()
    assert "not-the-Password-42" not in str(raised.value)


def test_the_url_names_the_store_without_its_password() -> None:
    store = open_store(f"postgres://me:{PASSWORD}@db.internal:5433/usage?sslmode=require")
    assert isinstance(store, PostgresStore)  # nothing is sent before the first use
    assert store.url == "postgres://me:***@db.internal:5433/usage?sslmode=require"
    assert PASSWORD not in repr(store)
    store.close()
    query = open_store(f"postgresql://db/usage?user=me&password={PASSWORD}")
    assert query.url == "postgresql://db/usage?user=me&password=***"
    query.close()


def test_without_psycopg_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"tokenbudget\[postgres\]"):
        open_store("postgresql://db/usage")


def test_a_database_of_an_older_schema_is_brought_up_to_date(pg_server: PostgresServer) -> None:
    url = pg_server.new_database()
    with open_store(url) as store:
        store.append([record()])
    _sql(  # back to version 1: without the index version 2 added
        url,
        "DROP INDEX tokenbudget_call_tags_call",
        "UPDATE tokenbudget_schema SET version = 1",
    )
    with open_store(url, create=False) as store:
        store.append([record(tags={"feature": "a"})])
        assert store.summary().calls == 2
    versions, indexes = _sql(
        url,
        "SELECT version FROM tokenbudget_schema",
        "SELECT indexname FROM pg_indexes WHERE indexname = 'tokenbudget_call_tags_call'",
    )
    assert versions == [(2,)] and len(indexes) == 1


def test_a_database_of_a_newer_tokenbudget_or_without_a_store_is_refused(
    pg_server: PostgresServer,
) -> None:
    url = pg_server.new_database()
    with pytest.raises(StoreError, match="holds no tokenbudget usage store"):
        open_store(url, create=False).summary()
    assert _sql(url, "SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'tokenbudget%'") == [
        [(0,)]
    ]  # nothing made
    open_store(url).close()
    with open_store(url) as store:
        store.summary()
    _sql(url, "UPDATE tokenbudget_schema SET version = 99")
    with pytest.raises(StoreError, match="newer tokenbudget"):
        open_store(url).summary()


@contextmanager
def _commit_answer_lost(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The next transaction commits, then its connection breaks before the answer arrives."""
    import psycopg

    real = psycopg.Connection.transaction
    lost: list[int] = []

    @contextmanager
    def transaction(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(self, *args, **kwargs) as tx:
            yield tx
        if not lost:
            lost.append(1)
            self.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(psycopg.Connection, "transaction", transaction)
    yield lost
    monkeypatch.setattr(psycopg.Connection, "transaction", real)


def test_a_batch_whose_commit_answer_was_lost_is_not_written_twice(
    pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.new_database()
    store = open_store(url)
    store.summary()
    first = [record(input_tokens=i, tags={"n": str(i)}) for i in range(3)]
    with _commit_answer_lost(monkeypatch) as lost:
        with pytest.raises(StoreError) as raised:
            store.append(first)
        assert lost and raised.value.transient  # the writer would retry these records
    assert store.summary().calls == 3  # they did go in
    store.append([*first, record(input_tokens=99)])  # the writer's retry, with one more
    assert sorted(r.input_tokens for r in store.records()) == [0, 1, 2, 99]
    assert store.breakdown("tag:n").keys() == {"0", "1", "2"}
    store.close()


def test_a_value_postgresql_refuses_is_set_aside_and_the_others_are_written(
    pg_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = pg_server.new_database()
    store = open_store(url)
    writer = StoreWriter(store)
    writer.put(record(input_tokens=1))
    writer.put(record(input_tokens=2, tags={"label": "nul\x00byte"}))  # text cannot hold NUL
    writer.put(record(input_tokens=3))
    _until(lambda: writer.pending == 0)
    assert [r.input_tokens for r in writer.rejected] == [2]
    assert writer.close() == 0
    assert sorted(r.input_tokens for r in store.records()) == [1, 3]
    store.close()
    assert "cannot take a call record" in caplog.text


def _append_in_child(url: str, store: Any) -> None:
    store.append([record(tags={"process": "child"})])
    store.close()


def test_a_forked_child_writes_on_its_own_connection(pg_server: PostgresServer) -> None:
    url = pg_server.new_database()
    store = open_store(url)
    store.append([record(tags={"process": "parent"})])  # connected before the fork
    child = multiprocessing.get_context("fork").Process(target=_append_in_child, args=(url, store))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    store.append([record(tags={"process": "parent"})])  # the parent's session still works
    assert {k: s.calls for k, s in store.breakdown("tag:process").items()} == {
        "child": 1,
        "parent": 2,
    }
    store.close()


def test_the_report_command_reads_a_postgresql_store(
    pg_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_server.new_database()
    with TokenTracker(store=url, prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 1000, 100)
        tracker.add_record(dataclasses.replace(record(provider="anthropic", model="claude")))
    assert main(["report", url, "--by", "model"]) == 0
    table = capsys.readouterr().out
    assert "gpt-4o" in table and "claude" in table
    assert main(["report", url, "--format", "json"]) == 0
    export = json.loads(capsys.readouterr().out)
    assert export["source"] == url.replace(PASSWORD, "***")
    assert len(export["calls"]) == 2
    assert PASSWORD not in json.dumps(export)
    assert main(["report", pg_server.new_database()]) == 1  # an empty database: no store
    assert "holds no tokenbudget usage store" in capsys.readouterr().err


def test_a_vanished_server_is_noticed_by_keepalives_unless_the_url_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import psycopg

    seen: list[dict[str, Any]] = []

    def connect(url: str, **settings: Any) -> Any:
        seen.append(settings)
        raise psycopg.OperationalError("no server here")

    monkeypatch.setattr(psycopg, "connect", connect)
    for url in ("postgresql://db/usage", "postgresql://db/usage?keepalives_idle=5"):
        with pytest.raises(StoreError, match="no server here"):
            open_store(url).summary()
    assert seen[0]["keepalives"] == 1 and seen[0]["keepalives_idle"] == 30
    assert seen[0]["connect_timeout"] == 5 and seen[0]["autocommit"] is True
    assert "keepalives_idle" not in seen[1]  # the URL's own 5 s stands
