"""The ``tokenbudget`` command line: prices, price, cost, prices update."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx
from pricing_helpers import litellm_sample

from tokenbudget.cli import COMMANDS, DEFAULT_LITELLM_URL, main
from tokenbudget.pricing import PriceBook


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prices_lists_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prices", "--provider", "openai", "--search", "gpt-4o")
    assert code == 0
    header = out.splitlines()[0]
    assert header.split() == [
        "PROVIDER",
        "MODEL",
        "INPUT",
        "OUTPUT",
        "CACHED",
        "CACHE",
        "WRITE",
        "NOTES",
    ]
    row = next(line for line in out.splitlines() if line.split()[1:2] == ["gpt-4o"])
    assert row.split()[:4] == ["openai", "gpt-4o", "2.5", "10"]  # OpenAI pricing page
    assert "models; prices in USD per 1M tokens" in out


def test_prices_all_providers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "prices")
    assert code == 0
    providers = {line.split()[0] for line in out.splitlines()[2:] if line.strip()}
    assert {"openai", "anthropic", "google", "groq", "xai"} <= providers


def test_price_shows_one_sheet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "price", "claude-sonnet-4-5-20250929")
    assert code == 0
    assert "anthropic/claude-sonnet-4-5" in out
    assert "standard >200000" in out and "batch" in out
    code, out, _ = run(capsys, "price", "gemini-2.0-pro")
    assert code == 0 and "unpriced" in out
    code, out, _ = run(capsys, "price", "gpt-4o", "--json")
    assert json.loads(out)["model"] == "gpt-4o"


def test_a_price_sheet_prints_the_same_in_every_process() -> None:
    """Its extra prices (web and file search) come in one order, whatever the string hashes."""

    def sheet(seed: str) -> str:
        command = [sys.executable, "-m", "tokenbudget", "price", "gpt-4o"]
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    first = sheet("1")
    assert "file_search_requests=" in first and "web_search_requests=" in first
    assert first.index("file_search_requests=") < first.index("web_search_requests=")
    assert all(sheet(seed) == first for seed in ("2", "3"))


def test_cost(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cost", "gpt-4o", "--input", "1000", "--output", "500")
    assert (code, out.strip()) == (0, "$0.0075 (openai/gpt-4o)")
    code, out, _ = run(capsys, "cost", "gpt-4o", "--input", "1_000_000", "--cached", "1000000")
    assert out.startswith("$1.25 ")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["price", "gpt-4oo"], 1, "close matches: gpt-4o"),
        (["cost", "nope-model", "--input", "1"], 1, "no price known for model 'nope-model'"),
        (["cost", "gpt-4o", "--input", "ten"], 2, "not a token count"),
        (["cost", "gpt-4o", "--input", "-5"], 2, "cannot be negative"),
        (["cost", "gpt-4o", "--input", "5", "--cached", "9"], 1, "cannot exceed --input"),
        (["prices", "--provider", "nobody"], 1, "no prices for provider 'nobody'"),
        (["prices", "--search", "zzzzzz"], 1, "no model matches"),
        (["frobnicate"], 2, "invalid choice"),
        (["prices", "update", "--from", "/no/such/file.json"], 1, "cannot read"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    try:
        result = main(argv)
    except SystemExit as exit_:
        result = int(exit_.code or 0)
    _, err = capsys.readouterr()
    assert result == code
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [[], ["prices"], ["prices", "update"], ["price"], ["cost"]])
def test_help_on_every_command(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "usage: tokenbudget" in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_help_lists_commands_in_registration_order() -> None:
    assert [c.name for c in COMMANDS] == ["prices", "price", "cost", "report", "reprice", "demo"]


def test_prices_update_from_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(litellm_sample()))
    output = tmp_path / "out" / "prices.json"
    code, out, _ = run(capsys, "prices", "update", "--from", str(source), "--output", str(output))
    assert code == 0
    assert f"wrote 3 models of 2 providers to {output}" in out
    document = json.loads(output.read_text())
    assert document["format"] == "tokenbudget-prices/1"
    book = PriceBook.load(output)
    found = book.resolve("acme-litellm", "openai")
    assert found is not None and found.origin == "override"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_prices_update_file_mode_and_no_leftovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(litellm_sample()))
    output = tmp_path / "prices.json"
    umask = os.umask(0)
    os.umask(umask)
    argv = ("prices", "update", "--from", str(source), "--output", str(output))
    assert run(capsys, *argv)[0] == 0
    # A new file is its owner's alone, like every file tokenbudget creates.
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    output.chmod(0o666 & ~umask)
    assert run(capsys, *argv)[0] == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o666 & ~umask  # a replaced file keeps its mode
    assert sorted(path.name for path in tmp_path.iterdir()) == ["litellm.json", "prices.json"]


def test_prices_update_default_output_is_user_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(litellm_sample()))
    assert run(capsys, "prices", "update", "--from", str(source))[0] == 0
    target = tmp_path / "config" / "tokenbudget" / "prices.json"
    assert target.exists()
    # The default book now picks the file up.
    code, out, _ = run(capsys, "cost", "acme-litellm", "--input", "1000000")
    assert (code, out.split()[0]) == (0, "$2.5")


def test_prices_update_respects_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(json.dumps(litellm_sample()))
    target = tmp_path / "env-prices.json"
    monkeypatch.setenv("TOKENBUDGET_PRICES", str(target))
    assert run(capsys, "prices", "update", "--from", str(source))[0] == 0
    assert target.exists()


@respx.mock
def test_prices_update_from_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    route = respx.get(DEFAULT_LITELLM_URL).mock(
        return_value=httpx.Response(200, json=litellm_sample())
    )
    output = tmp_path / "prices.json"
    code, out, _ = run(capsys, "prices", "update", "--output", str(output))
    assert code == 0 and route.called
    assert "wrote 3 models" in out
    assert PriceBook.load(output).resolve("acme-gem", "google") is not None


@respx.mock
def test_prices_update_url_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://prices.test/litellm.json"
    respx.get(url).mock(return_value=httpx.Response(404))
    output = tmp_path / "prices.json"
    code, _, err = run(capsys, "prices", "update", "--from", url, "--output", str(output))
    assert code == 1
    assert err.startswith("tokenbudget: error: cannot fetch https://prices.test/litellm.json")
    assert not output.exists()


@respx.mock
def test_prices_update_rejects_a_non_litellm_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://prices.test/other.json"
    respx.get(url).mock(return_value=httpx.Response(200, json={"hello": "world"}))
    code, _, err = run(
        capsys, "prices", "update", "--from", url, "--output", str(tmp_path / "p.json")
    )
    assert code == 1 and "no token-priced models" in err
