"""benchmarks/bench_peers.py: its pure helpers, and a short run with whatever is installed."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_peers.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peers", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_peers"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load()


def test_arguments_default_to_every_peer_and_41_rounds() -> None:
    args = bench.parse_args([])
    assert args.peers == list(bench.PEERS)
    assert (args.rounds, args.repeat, args.chunks) == (41, 50, 1000)
    assert not args.instructions and not args.markdown


def test_quick_means_few_short_rounds() -> None:
    args = bench.parse_args(["--quick"])
    assert (args.rounds, args.repeat, args.calls) == (3, 5, 10)


def test_peers_are_kept_in_the_benchmark_order_whatever_the_order_given() -> None:
    args = bench.parse_args(["--peers", " Logfire,langfuse ,"])
    assert args.peers == ["langfuse", "logfire"]


@pytest.mark.parametrize("argv", [["--peers", "helicone"], ["--rounds", "1"], ["--repeat", "0"]])
def test_bad_arguments_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_ratio_statistics_pair_rounds() -> None:
    stats = bench.ratio_stats([1.0, 2.0, 1.0, 2.0], [1.1, 2.4, 1.3, 2.8])
    # ratios 1.1, 1.2, 1.3, 1.4: median 1.25, inclusive quartiles 1.175 and 1.325
    assert stats.ratio == pytest.approx(1.25)
    assert (stats.low, stats.high) == (pytest.approx(1.175), pytest.approx(1.325))
    assert stats.extra_s == pytest.approx(0.35)  # median of 0.1, 0.4, 0.3, 0.8


def test_a_constant_ratio_has_no_spread() -> None:
    stats = bench.ratio_stats([1.0, 3.0, 5.0], [2.0, 6.0, 10.0])
    assert (stats.ratio, stats.low, stats.high) == (2.0, 2.0, 2.0)


@pytest.mark.parametrize(("plain", "tracked"), [([1.0], [1.0]), ([1.0, 2.0], [1.0])])
def test_ratio_statistics_need_two_paired_rounds(plain: list[float], tracked: list[float]) -> None:
    with pytest.raises(ValueError):
        bench.ratio_stats(plain, tracked)


def test_the_median_lies_within_the_quartiles() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("hypothesis.strategies")
    times = strategies.floats(min_value=1e-6, max_value=1.0)

    @hypothesis.given(strategies.lists(strategies.tuples(times, times), min_size=2, max_size=60))
    def check(pairs: list[tuple[float, float]]) -> None:
        stats = bench.ratio_stats([a for a, _ in pairs], [b for _, b in pairs])
        assert stats.low - 1e-12 <= stats.ratio <= stats.high + 1e-12

    check()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (90e-6, "+90 µs"),
        (999.9e-6, "+1 ms"),
        (6.6e-3, "+6.6 ms"),
        (2.144, "+2.14 s"),
        (-3.04e-6, "-3.04 µs"),
        (0.0, "+0 µs"),
    ],
)
def test_extra_time_reads_in_the_right_unit(seconds: float, text: str) -> None:
    assert bench.format_extra(seconds) == text


RESULTS = [
    {
        "label": "tokenbudget",
        "version": "0.1.0",
        "json": {"ratio": 1.125, "low": 1.1, "high": 1.15, "extra_s": 90e-6},
        "stream": {"ratio": 1.079, "low": 1.07, "high": 1.09, "extra_s": 6.6e-3},
        "records": {"json": {"tokens": True, "cost": True}, "stream": {"tokens": True}},
        "instructions": {"json": 1.04, "stream": 1.0401},
    },
    {
        "label": "Langfuse",
        "version": "5.2.0",
        "json": {"ratio": 1.41, "low": 1.3, "high": 1.5, "extra_s": 0.0003},
        "stream": {"ratio": 1.048, "low": 1.0, "high": 1.1, "extra_s": 0.004},
        "records": {"json": {"tokens": True, "cost": False}, "stream": {"tokens": False}},
        "network": ["cloud.langfuse.com"],
    },
    {"label": "LiteLLM", "version": "1.0", "error": "ImportError: boom"},
]


def test_rows_say_ratios_spread_extra_time_and_what_was_recorded() -> None:
    rows = bench.table_rows(RESULTS)
    assert rows[0] == [
        "tokenbudget 0.1.0",
        "1.125 (1.10-1.15, +90 µs)",
        "1.079 (1.07-1.09, +6.6 ms)",
        "1.040",
        "1.040",
        "tokens + cost",
        "tokens",
    ]
    assert rows[1][0] == "Langfuse 5.2.0 (tried the network: cloud.langfuse.com)"
    assert rows[1][3:] == ["—", "—", "tokens", "nothing"]
    assert rows[2][:2] == ["LiteLLM 1.0", "failed: ImportError: boom"]


def test_markdown_table_has_a_header_a_rule_and_a_line_per_result() -> None:
    lines = bench.format_table(bench.table_rows(RESULTS), markdown=True).splitlines()
    assert lines[0].startswith("| tracker | JSON time |")
    assert lines[1] == "|" + "---|" * len(bench.HEADERS)
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| tokenbudget 0.1.0",
        "| Langfuse 5.2.0 (tried the network: cloud.langfuse.com)",
        "| LiteLLM 1.0",
    ]


def test_plain_table_aligns_columns() -> None:
    lines = bench.format_table(bench.table_rows(RESULTS[:2])).splitlines()
    start = lines[0].index("JSON time")
    assert all(line[start - 2 : start] == "  " for line in lines)
    assert lines[1][start:].startswith("1.125")


def span(**attributes: object) -> SimpleNamespace:
    return SimpleNamespace(attributes=attributes)


def test_span_facts_count_usage_and_cost_not_what_was_requested() -> None:
    asked = span(**{"gen_ai.request.max_tokens": 100, "llm.usage.total_tokens": 0})
    assert bench.span_facts([asked]) == {"tokens": False, "cost": False, "keys": []}
    used = span(
        **{
            "langfuse.observation.usage_details": json.dumps({"input": 8, "output": 2}),
            "langfuse.observation.cost_details": json.dumps({"total": 0}),
            "operation.cost": 0.0001,
        }
    )
    assert bench.span_facts([asked, used]) == {
        "tokens": True,
        "cost": True,
        "keys": ["langfuse.observation.usage_details", "operation.cost"],
    }


def test_patches_switch_a_peers_replacement_off_and_on() -> None:
    from openai.resources.chat.completions import Completions

    original = Completions.create
    patches = bench.Patches()

    def patched(*args: object, **kwargs: object) -> object:
        return original(*args, **kwargs)

    Completions.create = patched  # type: ignore[method-assign]
    try:
        patches.record()
        assert [(owner, attr) for owner, attr, _, _ in patches.changed] == [(Completions, "create")]
        patches.off()
        assert Completions.create is original
        patches.on()
        assert Completions.create is patched
    finally:
        Completions.create = original  # type: ignore[method-assign]


def test_a_short_run_measures_tokenbudget_and_whatever_peer_is_installed(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": os.environ.get("TIKTOKEN_CACHE_DIR", "")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--chunks", "50", "--json", str(out)],
        capture_output=True,
        text=True,
        env={k: v for k, v in env.items() if v},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    names = [result["name"] for result in results]
    assert names[0] == "tokenbudget"
    ours = results[0]
    assert ours["records"] == {
        "json": {"tokens": True, "cost": True, "estimated": False},
        "stream": {"tokens": True, "cost": True, "estimated": False},
    }
    assert ours["network"] == []
    assert 0 < ours["json"]["ratio"] < 10 and 0 < ours["stream"]["ratio"] < 10
    assert done.stdout.splitlines()[1].startswith("tokenbudget ")
    missing = [name for name in bench.PEERS if name not in names]
    if missing:
        assert done.stdout.splitlines()[-1] == "not installed: " + ", ".join(missing)
