"""CSV and JSON exports: round trips, atomic writes, and no secret or prompt in any file."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tokenbudget import CallRecord, TokenTracker
from tokenbudget.reports import (
    CSV_COLUMNS,
    export_csv,
    export_html,
    export_json,
    read_csv_export,
    read_json,
)
from tokenbudget.store import group_records, summarize, summary_from_dict, summary_to_dict
from tokenbudget.testing import FakeLLM, FakeReply

from ..support import T0, StubBook, record, varied_records


def test_csv_round_trip_keeps_every_figure(tmp_path: Path) -> None:
    records = varied_records()
    assert export_csv(records, tmp_path / "u.csv") == len(records)
    back = read_csv_export(tmp_path / "u.csv")
    in_order = sorted(records, key=lambda r: r.timestamp)
    assert back == [dataclasses.replace(r, raw_usage=None) for r in in_order]  # no raw usage in CSV
    assert summarize(back) == summarize(records)  # Decimal-exact
    for by in ("provider", "model", "day", "tag"):
        assert group_records(back, by) == group_records(records, by)


def test_csv_columns_are_stable(tmp_path: Path) -> None:
    export_csv([record(tags={"feature": "search"})], tmp_path / "u.csv")
    with (tmp_path / "u.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["timestamp"] == "2026-01-05T12:00:00.000000Z"
    assert (row["cost_usd"], row["estimated"], row["cached"]) == ("0.00045", "false", "false")
    assert (row["total_tokens"], row["status_code"], row["latency_ms"]) == ("120", "200", "12.5")
    assert json.loads(row["tags"]) == {"feature": "search"}
    assert (tmp_path / "u.csv").read_bytes().count(b"\r\n") == 2  # RFC 4180 line ends


def test_a_csv_export_from_before_estimate_reason_still_reads(tmp_path: Path) -> None:
    records = [record(estimated=True), record()]
    export_csv(records, tmp_path / "u.csv")
    with (tmp_path / "u.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    reason = rows[0].index("estimate_reason")
    assert rows[0][reason:] == ["estimate_reason", "via"]  # the columns added since
    assert rows[1][reason] == "the answer reported no usage"
    with (tmp_path / "old.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(row[:reason] for row in rows)
    back = read_csv_export(tmp_path / "old.csv")
    assert [r.usage.estimated for r in back] == [True, False]
    assert [r.usage.estimate_reason for r in back] == [None, None]


def test_json_round_trip_keeps_every_record_and_its_totals(tmp_path: Path) -> None:
    records = varied_records()
    assert export_json(records, tmp_path / "u.json") == len(records)
    document = json.loads((tmp_path / "u.json").read_text())
    assert document["schema_version"] == 1
    assert document["summary"] == summary_to_dict(summarize(records))
    assert document["summary"]["cost_usd"] == "0.04055"  # money is an exact string
    assert set(document["breakdowns"]) == {"provider", "model", "day", "tag"}

    back = read_json(tmp_path / "u.json")
    assert back.records == sorted(records, key=lambda r: r.timestamp)  # raw usage included
    assert summary_from_dict(back.summary) == summarize(back.records)
    for by, table in back.breakdowns.items():
        recomputed = group_records(back.records, by)
        assert {k: summary_from_dict(v) for k, v in table.items()} == recomputed


def test_exports_are_filtered_like_reports(tmp_path: Path) -> None:
    records = varied_records()
    export_json(records, tmp_path / "a.json", provider="anthropic", end=T0 + timedelta(days=1))
    back = read_json(tmp_path / "a.json")
    assert [r.provider for r in back.records] == ["anthropic"]
    assert json.loads((tmp_path / "a.json").read_text())["query"]["provider"] == "anthropic"


def test_tracker_export_methods_read_the_store(tmp_path: Path) -> None:
    with TokenTracker(store=tmp_path / "u.db", prices=StubBook()) as tracker:
        tracker.track("gpt-4o", 1000, 100, tags={"feature": "a"})
        tracker.track("gpt-4o-mini", 1000, 100)
        assert tracker.export_csv(tmp_path / "u.csv") == 2
        assert tracker.export_json(tmp_path / "u.json", tags={"feature": "a"}) == 1
    assert len(read_csv_export(tmp_path / "u.csv")) == 2
    assert read_json(tmp_path / "u.json").source.startswith("sqlite:///")


def test_a_failed_export_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "u.csv"
    target.write_text("old contents")

    def broken() -> Iterator[CallRecord]:
        yield record()
        raise RuntimeError("source failed mid-way")

    with pytest.raises(RuntimeError):
        export_csv(broken(), target)
    assert target.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["u.csv"]


PROMPT = "PROMPT-CANARY-8f3a1c the launch codes are in the blue folder"
REPLY = "REPLY-CANARY-55d0e2"
OPENAI_KEY = "sk-KEY-CANARY-0c9e7b1d2a"
ANTHROPIC_KEY = "sk-ant-KEY-CANARY-77aa31"


def test_no_prompt_reply_or_key_reaches_any_file(tmp_path: Path) -> None:
    fake = FakeLLM(
        replies=[
            REPLY,
            REPLY,
            FakeReply(status=401, error_message="Incorrect API key provided"),
            REPLY,
        ]
    )
    with TokenTracker(store=tmp_path / "u.db") as tracker:
        with tracker.httpx_client(transport=fake) as client:
            for stream in (False, True):
                client.post(
                    "https://api.openai.com/v1/chat/completions",
                    headers={"authorization": f"Bearer {OPENAI_KEY}"},
                    json={
                        "model": "gpt-4o",
                        "stream": stream,
                        "messages": [{"role": "user", "content": PROMPT}],
                    },
                )
            for _ in range(2):
                client.post(
                    "https://api.anthropic.com/v1/messages",
                    headers={"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
                    json={
                        "model": "claude-sonnet-4-5",
                        "max_tokens": 50,
                        "messages": [{"role": "user", "content": PROMPT}],
                    },
                )
        assert tracker.usage.calls == 4
        tracker.export_csv(tmp_path / "u.csv")
        tracker.export_json(tmp_path / "u.json")
        export_html(tracker, tmp_path / "u.html")
    files = ["u.csv", "u.json", "u.html", "u.db"]
    assert all((tmp_path / name).stat().st_size > 0 for name in files)
    for name in files:
        data = (tmp_path / name).read_bytes()
        for secret in (PROMPT, "PROMPT-CANARY", REPLY, OPENAI_KEY, "KEY-CANARY", ANTHROPIC_KEY):
            assert secret.encode() not in data, (name, secret)
