"""``tokenbudget prices diff --against FILE``: models another price list charges differently.

Run against small unedited samples of LiteLLM 1.110.2 and genai-prices
(``fixtures/pricing/``), at a fixed moment so time-dependent prices
(DeepSeek's history, Gemini 4 Argon's end of introductory pricing) are stable.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tokenbudget.cli import main
from tokenbudget.pricing import PriceBook, compare_prices, import_genai_prices, parse_price_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pricing"
LITELLM = FIXTURES / "litellm-1.110.2-sample.json"
GENAI = FIXTURES / "genai-prices-sample.json"
AT = "2026-12-05T12:00:00Z"


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["prices", "diff", "--at", AT, *argv])
    return code, capsys.readouterr().out


def test_litellm_rows_are_sorted_by_difference(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = diff(capsys, "--against", str(LITELLM))
    assert code == 0
    rows = [
        line.split() for line in out.splitlines()[2:] if line.strip() and "rows over" not in line
    ]
    names = [(row[0], row[1]) for row in rows]
    assert names[:2] == [("deepseek", "deepseek-chat"), ("deepseek", "deepseek-reasoner")]
    assert ("google", "gemini-4-argon") in names
    # deepseek-chat: 10k in, 2k out at V4 Flash (0.14/0.28) vs LiteLLM's V3.2 (0.28/0.42).
    assert rows[0][2:6] == ["standard", "0.00196", "0.00364", "+85.7%"]
    differences = [abs(Decimal(row[5].rstrip("%"))) for row in rows]
    assert differences == sorted(differences, reverse=True)
    assert ("openai", "gpt-4o") not in names  # the same price: no row
    assert out.splitlines()[-1].startswith(f"{len(rows)} rows over 0.5% apart (standard mix")


def test_json_output_and_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = diff(capsys, "--against", str(LITELLM), "--json", "--mix", "standard,batch")
    document = json.loads(out)
    assert code == 0 and document["format"] == "LiteLLM"
    argon = [r for r in document["rows"] if r["model"] == "gemini-4-argon"]
    assert {r["mix"] for r in argon} == {"standard", "batch"}
    standard = next(r for r in argon if r["mix"] == "standard")
    assert standard == {
        "provider": "google",
        "model": "gemini-4-argon",
        "priced_as": "google/gemini-4-argon",
        "mix": "standard",
        "tokenbudget_usd": "0.08",
        "theirs_usd": "0.04",
        "relative": "-0.5",
    }
    _, out = diff(capsys, "--against", str(LITELLM), "--json", "--threshold", "90")
    assert json.loads(out)["rows"] == []


def test_genai_prices_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = diff(capsys, "--against", str(GENAI), "--mix", "all")
    assert code == 0
    rows = {
        (line.split()[1], line.split()[2]) for line in out.splitlines()[2:] if line[:1].isalpha()
    }
    assert ("deepseek-chat", "standard") in rows  # genai-prices still has V3's prices
    assert not any(model == "claude-sonnet-4-5" for model, _ in rows)  # tiers agree
    assert not any(model == "o3" for model, _ in rows)  # the 2025-06-10 price cut agrees
    assert "2 at providers tokenbudget has no prices for" in out  # cohere


def test_genai_prices_conversion_keeps_tiers_dates_and_windows() -> None:
    files, skipped = import_genai_prices(parse_price_json(GENAI.read_bytes(), "g"), origin="g")
    models = {(f.provider, m.id): m for f in files for m in f.models}
    assert skipped == 0
    sonnet = models["anthropic", "claude-sonnet-4-5"].prices[0]
    assert [(t.above, t.input) for t in sonnet.tiers] == [(200000, Decimal(6))]
    o3 = models["openai", "o3"].prices
    assert [(p.from_ and p.from_.date().isoformat(), p.input) for p in o3] == [
        (None, Decimal(10)),
        ("2025-06-10", Decimal(2)),
    ]
    deepseek = models["deepseek", "deepseek-chat"].prices[0]
    assert (deepseek.input, deepseek.windows[0].utc, deepseek.windows[0].input) == (
        Decimal("0.135"),
        "00:30-16:30",
        Decimal("0.27"),
    )


def test_compare_prices_counts_what_it_skips() -> None:
    files, _ = import_genai_prices(parse_price_json(GENAI.read_bytes(), "g"), origin="g")
    rows, stats = compare_prices(PriceBook.load(), files, threshold=Decimal(1000))
    assert rows == [] and stats.compared == 8 and stats.other_providers == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mix", "weekend"], "unknown mix"),
        (["--threshold", "lots"], "not a percentage"),
    ],
)
def test_bad_options(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["prices", "diff", "--against", str(LITELLM), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["prices", "diff", "--help"])
    assert exit_.value.code == 0 and "--against" in capsys.readouterr().out
