"""Exports and price override files tokenbudget creates are private; a user's keep their mode."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tokenbudget import TokenTracker
from tokenbudget.cli import main
from tokenbudget.reports import export_html

from ..support import file_mode

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits"),
    pytest.mark.usefixtures("usual_umask"),
]


@pytest.mark.parametrize("kind", ["csv", "json", "html"])
def test_exports_are_private_and_a_replaced_file_keeps_its_mode(kind: str, tmp_path: Path) -> None:
    tracker = TokenTracker()
    tracker.track("gpt-4o", 10, 5)
    path = tmp_path / f"usage.{kind}"

    def export() -> None:
        if kind == "html":
            export_html(tracker, path)
        else:
            getattr(tracker, f"export_{kind}")(path)

    export()
    assert file_mode(path) == 0o600
    path.chmod(0o644)  # the user shares it
    export()
    assert file_mode(path) == 0o644


def test_the_price_override_file_and_its_new_folder_are_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "litellm.json"
    source.write_text(
        json.dumps(
            {
                "acme-x": {
                    "litellm_provider": "openai",
                    "mode": "chat",
                    "input_cost_per_token": 1e-6,
                    "output_cost_per_token": 2e-6,
                }
            }
        )
    )
    tmp_path.chmod(0o755)
    output = tmp_path / "config" / "tokenbudget" / "prices.json"
    assert main(["prices", "update", "--from", str(source), "--output", str(output)]) == 0
    assert file_mode(output) == 0o600
    assert file_mode(tmp_path / "config") == 0o700 and file_mode(output.parent) == 0o700
    assert file_mode(tmp_path) == 0o755  # the folder was there: left alone
    capsys.readouterr()
