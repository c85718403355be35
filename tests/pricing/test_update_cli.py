"""``tokenbudget prices update``: prints what it changes; ``--dry-run`` writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenbudget import Usage
from tokenbudget.cli import main
from tokenbudget.pricing import PriceBook

SAMPLE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "pricing" / "litellm-1.110.2-sample.json"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_dry_run_prints_the_changes_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "prices.json"
    code, out = run(
        capsys, "prices", "update", "--from", str(SAMPLE), "--output", str(output), "--dry-run"
    )
    assert code == 0 and not output.exists()
    assert out.splitlines()[-1] == "dry run: nothing written"
    lines = out.splitlines()
    counts = {line.split()[0]: line.split()[1:] for line in lines if line[:1].isalpha()}
    assert counts["deepseek"] == ["0", "0", "0", "2"]  # ADDED CHANGED UNCHANGED KEPT
    assert counts["cerebras"] == ["1", "0", "0", "0"]
    assert "  fireworks/llama-v3p1-8b-instruct: input 0.2 -> 0.1, output 0.2 -> 0.1" in lines
    assert "  openai/gpt-4.1: extra.web_search_requests 0.01 -> 0.025" in lines
    assert "  deepseek/deepseek-chat: stale: repeats the prices that ended on 2026-04-26" in lines
    assert "  mistral/mistral-large-latest: a dated alias of the data" in lines
    assert "  cerebras/llama-3.1-70b: input 0.6, output 0.6" in lines


def test_update_writes_only_what_changes_and_keeps_the_curated_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "prices.json"
    code, out = run(capsys, "prices", "update", "--from", str(SAMPLE), "--output", str(output))
    assert code == 0
    assert f"wrote 5 models of 5 providers to {output}" in out
    book = PriceBook.load(output)
    million = Usage(input_tokens=10**6)
    assert str(book.cost("mistral", "codestral-latest", million)) == "0.3"
    # gpt-4o's "fast" tier and file-search price, which LiteLLM does not list, survive.
    assert str(book.cost("openai", "gpt-4o", million, service_tier="fast")) == "4.25"
    assert str(book.cost("openai", "gpt-4o", Usage(extra={"file_search_requests": 1}))) == "0.0025"
    assert str(book.cost("cerebras", "llama-3.1-70b", million)) == "0.6"
