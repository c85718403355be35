#!/usr/bin/env bash
# Render an HTML usage report to a PNG with headless Chromium, to look at the charts.
#
#   scripts/render_report.sh [OUT_DIR]          # build examples/reports.py's report there, render it
#   scripts/render_report.sh REPORT.html [PNG]  # render an existing report
#
# Needs Debian's chromium package (apt-get install -y chromium) or another
# Chromium/Chrome on PATH; set CHROMIUM=/path/to/browser to choose. The page
# loads nothing from the network, and the browser is started with everything
# that would phone home turned off, in a throwaway profile.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${1:-report-out}"

if [[ "$target" == *.html ]]; then
    html="$target"
    png="${2:-${target%.html}.png}"
else
    python "$here/examples/reports.py" "$target"
    html="$target/report.html"
    png="$target/report.png"
fi

browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
if [[ -z "$browser" ]]; then
    echo "render_report.sh: no chromium found; install it with: apt-get install -y chromium" >&2
    exit 1
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --hide-scrollbars --user-data-dir="$profile" \
    --window-size=1200,1600 --screenshot="$(realpath -m "$png")" \
    "file://$(realpath "$html")" 2>/dev/null
echo "wrote $png"
