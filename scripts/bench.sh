#!/usr/bin/env bash
# Runs the benchmark program against the release build. Installs ripgrep (for the search
# comparison) when apt is available and rg is missing. BENCH_QUICK=1 for a fast smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v rg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq ripgrep) >/dev/null 2>&1 || echo "bench: could not install ripgrep; the search ratio is skipped" >&2
fi
# Playwright MCP, for the browser snapshot comparison (it drives the machine's Chromium; no
# browser is downloaded).
if command -v npm >/dev/null 2>&1 && [ ! -x target/bench/playwright/node_modules/.bin/playwright-mcp ]; then
  mkdir -p target/bench/playwright
  (cd target/bench/playwright && npm install --no-audit --no-fund --silent @playwright/mcp@0.0.86) >/dev/null 2>&1 \
    || echo "bench: could not install Playwright MCP; its rows are skipped" >&2
fi
# The binary measured is the one `cargo build --release` makes, as users run it: `cargo bench`
# builds its own with the test-only dependencies' features, which changes the crates' symbol
# names and so loses build/startup.order's layout (see build.rs).
if [ -z "${BENCH_SWITCHBOARD:-}" ]; then
  cargo build --release --bin switchboard
  mkdir -p target/bench
  cp target/release/switchboard target/bench/switchboard
  export BENCH_SWITCHBOARD="$PWD/target/bench/switchboard"
fi
exec cargo bench --bench switchboard "$@"
