"""The HTML report: one self-contained file whose charts are really drawn (checked in Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tokenbudget.reports import export_html, generate_html_report

from ..support import record, varied_records

BAR_BLUE = (0x4F, 0x6B, 0xED)  # the per-day bars and the first model's bar
BAR_ORANGE = (0xF2, 0x8E, 0x2B)  # the second model's bar


def test_the_page_loads_nothing_from_anywhere() -> None:
    page = generate_html_report(varied_records())
    lowered = page.lower()
    for needle in ("http://", "https://", "src=", "<link", "<script", "url(", "@import"):
        assert needle not in lowered, needle
    assert page.startswith("<!DOCTYPE html>")
    assert lowered.count("<svg") == 2  # spend per day, spend per model
    assert len(re.findall(r"<rect ", page)) == 4 + 6  # 4 days, 6 models
    assert "<table>" in page and ">Total<" in page


def test_missing_days_are_drawn_as_empty_bars() -> None:
    page = generate_html_report([record(days=0), record(days=9)])
    assert page.count("<title>2026-01-") == 10


def test_names_are_escaped() -> None:
    evil = '<script>alert("x")</script>'
    page = generate_html_report([record(model=evil, tags={"feature": evil})], by="tag")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_an_empty_report_says_so() -> None:
    page = generate_html_report([])
    assert page.count("No calls in this range.") == 2


def _chromium() -> str:
    """The browser, or a skip; a failure when ``TOKENBUDGET_REQUIRE_BROWSER=1`` (CI sets it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "needs Debian's chromium package (apt-get install -y chromium)"
        if os.environ.get("TOKENBUDGET_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and TOKENBUDGET_REQUIRE_BROWSER=1 says this test must run")
        pytest.skip(reason)
    return found


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, bytes per pixel and unfiltered rows of an 8-bit RGB(A) PNG, as Chromium writes."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, header = 8, b"", b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        chunk = png[position + 4 : position + 8]
        if chunk == b"IHDR":
            header = png[position + 8 : position + 8 + length]
        elif chunk == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(data), width * step
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), previous, step)
        rows.append(line)
        previous = line
    return width, step, rows


def _unfilter(method: int, line: bytearray, previous: bytes, step: int) -> bytes:
    """Undo one row's PNG filter (none, sub, up, average, Paeth)."""
    for x in range(len(line)):
        left = line[x - step] if x >= step else 0
        up, corner = previous[x], previous[x - step] if x >= step else 0
        if method == 1:
            line[x] = (line[x] + left) & 255
        elif method == 2:
            line[x] = (line[x] + up) & 255
        elif method == 3:
            line[x] = (line[x] + (left + up) // 2) & 255
        elif method == 4:
            guess = left + up - corner
            near = min(
                (abs(guess - left), 0, left),
                (abs(guess - up), 1, up),
                (abs(guess - corner), 2, corner),
            )
            line[x] = (line[x] + near[2]) & 255
    return bytes(line)


def _count(rows: list[bytes], step: int, colour: tuple[int, int, int]) -> int:
    target = bytes(colour)
    return sum(1 for row in rows for x in range(0, len(row), step) if row[x : x + 3] == target)


def test_chromium_renders_the_charts(tmp_path: Path) -> None:
    browser = _chromium()
    records = [record(model="gpt-4o", cost="0.5", days=d) for d in range(5)]
    records += [record(model="claude", provider="anthropic", cost="0.2", days=d) for d in range(5)]
    export_html(records, tmp_path / "report.html")
    png = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            (tmp_path / "report.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, step, rows = _pixels(png.read_bytes())
    assert width == 1200
    # Five day bars plus the first model's bar in blue, the second model's in orange:
    # thousands of pixels each when the charts are drawn, none when they are not.
    assert _count(rows, step, BAR_BLUE) > 5000
    assert _count(rows, step, BAR_ORANGE) > 1000


@pytest.mark.parametrize(("required", "outcome"), [("1", "1 failed"), ("", "1 skipped")])
def test_a_missing_browser_fails_when_ci_requires_it(required: str, outcome: str) -> None:
    """With no chromium on PATH the browser test skips, unless CI says it must run."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__).relative_to(root)}::test_chromium_renders_the_charts",
        ],
        cwd=root,
        env={
            **os.environ,
            "PATH": str(Path(sys.executable).parent),
            "PYTHONPATH": str(root),
            "TOKENBUDGET_REQUIRE_BROWSER": required,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert outcome in done.stdout, done.stdout + done.stderr
    if required:
        assert "TOKENBUDGET_REQUIRE_BROWSER=1 says this test must run" in done.stdout
