"""``tokenbudget report``, ``reprice`` and ``demo``: happy paths and one-line errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tokenbudget.cli import main
from tokenbudget.reports import export_csv, export_json
from tokenbudget.store import SQLiteStore

from ..support import record, varied_records

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "usage.db"
    with SQLiteStore(path) as store:
        store.append(varied_records())
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_prints_the_table(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "report", str(db))
    assert code == 0 and err == ""
    assert out.splitlines()[1].split("│")[1].strip() == "Provider"
    assert "│ Total             │     9 │" in out
    code, out, _ = _run(capsys, "report", str(db), "--by", "tag:feature")
    assert code == 0 and "│ search  │     2 │" in out and "(none)" in out


def test_report_filters(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "report", str(db), "--since", "2026-01-06", "--until", "2026-01-07", "--by", "day"
    )
    assert code == 0
    assert "2026-01-06" in out and "2026-01-05" not in out and "2026-01-07 " not in out
    code, out, _ = _run(capsys, "report", f"sqlite:///{db}", "--tag", "feature=search")
    assert code == 0 and "│ Total    │     2 │" in out
    code, out, _ = _run(capsys, "report", str(db), "--provider", "anthropic", "--by", "model")
    assert code == 0 and "claude-sonnet-4-5" in out and "gpt-4o" not in out


def test_report_since_a_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(timezone.utc)
    with SQLiteStore(tmp_path / "u.db") as store:
        store.append([record(at=now - timedelta(days=8)), record(at=now - timedelta(hours=2))])
    for since, calls in (("7d", 1), ("12h", 1), ("30m", 0), ("2w", 2), ("today", None)):
        code, out, _ = _run(capsys, "report", str(tmp_path / "u.db"), "--since", since)
        assert code == 0
        if calls is not None:
            assert f"│ Total    │     {calls} │" in out, since


def test_report_as_csv_json_and_into_files(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "report", str(db), "--format", "csv")
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 10
    code, out, _ = _run(capsys, "report", str(db), "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["calls"] == 9
    target = tmp_path / "out.csv"
    code, out, err = _run(capsys, "report", str(db), "--format", "csv", "--output", str(target))
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text(encoding="utf-8").startswith("timestamp,provider,")


def test_report_html(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "report.html"
    code, out, err = _run(capsys, "report", str(db), "--html", str(page), "--by", "model")
    assert code == 0 and "Total" in out and f"wrote {page}" in err
    assert page.read_text(encoding="utf-8").count("<svg") == 2


def test_report_reads_json_and_csv_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export_json(varied_records(), tmp_path / "u.json")
    export_csv(varied_records(), tmp_path / "u.csv")
    expected = _run(capsys, "report", str(tmp_path / "u.json"), "--by", "model")
    assert expected[0] == 0
    assert _run(capsys, "report", str(tmp_path / "u.csv"), "--by", "model") == expected
    (tmp_path / "export").write_text((tmp_path / "u.json").read_text())  # no suffix: sniffed
    assert _run(capsys, "report", str(tmp_path / "export"), "--by", "model") == expected


@pytest.mark.parametrize(
    ("setup", "argv", "message"),
    [
        (None, ["report", "{tmp}/missing.db"], "missing.db: no such file"),
        ("garbage", ["report", "{tmp}/bad.db"], "is not a tokenbudget usage store"),
        ("garbage", ["reprice", "{tmp}/bad.db"], "is not a tokenbudget usage store"),
        (None, ["reprice", "{tmp}/missing.db"], "no such file"),
        ("badjson", ["report", "{tmp}/bad.json"], "not valid JSON"),
        (None, ["report", "redis://127.0.0.1:1/0"], "cannot reach Redis"),
        (None, ["report", "{tmp}"], "is a directory"),
        (
            "empty",
            ["report", "{tmp}/u.db", "--since", "2026-02-01", "--until", "2026-01-01"],
            "must come after its start",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    setup: str | None,
    argv: list[str],
    message: str,
) -> None:
    if setup == "garbage":
        (tmp_path / "bad.db").write_bytes(bytes(range(256)) * 8)
    elif setup == "badjson":
        (tmp_path / "bad.json").write_text("{not json")
    elif setup == "empty":
        SQLiteStore(tmp_path / "u.db").close()
    code, out, err = _run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 1 and out == ""
    assert err.startswith("tokenbudget: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "u.db", "--since", "last tuesday"], "not a duration or time: 'last tuesday'"),
        (["report", "u.db", "--since", "7y"], "not a duration or time: '7y'"),
        (["report", "u.db", "--by", "colour"], "cannot group by 'colour'"),
        (["report", "u.db", "--tag", "feature"], "expected NAME=VALUE"),
        (["report", "u.db", "--format", "xml"], "invalid choice: 'xml'"),
        (["report"], "the following arguments are required: source"),
        (["demo", "--by", "colour"], "cannot group by"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["report", "reprice", "demo"])
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    assert f"usage: tokenbudget {name}" in capsys.readouterr().out


def test_reprice_prints_what_it_did(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "reprice", str(db))
    assert code == 0
    assert out.startswith("checked ") and "total: $" in out


def test_demo_runs_offline_and_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "demo")
    assert code == 0
    assert "9 calls to a fake OpenAI, Anthropic and Gemini" in out
    for model in ("claude-sonnet-4-5", "gemini-2.5-flash", "gpt-4o-mini", "Total"):
        assert model in out
    store = tmp_path / "demo.db"
    code, out, _ = _run(capsys, "demo", "--store", str(store), "--by", "tag:feature")
    assert code == 0 and "summarize" in out and f"recorded in {store}" in out
    code, out, _ = _run(capsys, "report", str(store), "--by", "provider")
    assert code == 0 and "│ Total     │     9 │" in out


def test_python_dash_m_tokenbudget(db: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tokenbudget", "report", str(db), "--by", "model"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "│ Model " in result.stdout and "Total" in result.stdout
    broken = subprocess.run(
        [sys.executable, "-m", "tokenbudget", "report", str(db.parent / "nope.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert broken.returncode == 1
    assert broken.stderr == f"tokenbudget: error: {db.parent / 'nope.db'}: no such file\n"
