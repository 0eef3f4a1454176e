#!/usr/bin/env bash
# Installs the web panel's front-end assets from the npm registry into chasqui/web/static/vendor/
# (git-ignored: none of their code is committed, nothing is loaded from a CDN at run time).
#
#   scripts/install_assets.sh            install the pinned versions unless already there
#   scripts/install_assets.sh --force    reinstall
#
# Without npm (or without the registry) it warns and exits 0: the panel still works without
# them, degraded (plain form posts instead of HTMX swaps, tables instead of charts).
set -euo pipefail
cd "$(dirname "$0")/.."

HTMX_VERSION="${HTMX_VERSION:-2.0.11}"
CHARTJS_VERSION="${CHARTJS_VERSION:-4.6.1}"
DEST="chasqui/web/static/vendor"
STAMP="$DEST/VERSIONS"
WANTED="htmx.org@$HTMX_VERSION chart.js@$CHARTJS_VERSION"

if [ "${1:-}" != "--force" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED" ] \
   && [ -s "$DEST/htmx.min.js" ] && [ -s "$DEST/chart.umd.min.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install_assets: npm not found; the panel runs without htmx and Chart.js (degraded)" >&2
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent "htmx.org@$HTMX_VERSION" "chart.js@$CHARTJS_VERSION" >/dev/null); then
  echo "install_assets: npm pack failed; the panel runs without htmx and Chart.js (degraded)" >&2
  exit 0
fi
mkdir -p "$tmp/htmx" "$tmp/chartjs"
tar -xzf "$tmp/htmx.org-$HTMX_VERSION.tgz" -C "$tmp/htmx"
tar -xzf "$tmp/chart.js-$CHARTJS_VERSION.tgz" -C "$tmp/chartjs"

chart_src="$tmp/chartjs/package/dist/chart.umd.min.js"
[ -f "$chart_src" ] || chart_src="$tmp/chartjs/package/dist/chart.umd.js"
mkdir -p "$DEST"
install -m 0644 "$tmp/htmx/package/dist/htmx.min.js" "$DEST/htmx.min.js"
install -m 0644 "$chart_src" "$DEST/chart.umd.min.js"
install -m 0644 "$tmp/htmx/package/LICENSE" "$DEST/htmx.LICENSE"
install -m 0644 "$tmp/chartjs/package/LICENSE.md" "$DEST/chart.js.LICENSE.md" 2>/dev/null || true
echo "$WANTED" > "$STAMP"
echo "install_assets: $WANTED -> $DEST"
