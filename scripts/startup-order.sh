#!/usr/bin/env bash
# Regenerates build/startup.order: the functions a session's start-up runs (initialize, the
# first tools/list in full and in compact exposure, a cheap call, ping), which build.rs asks the
# linker to place side by side in release builds. Start-up then touches a few hundred
# kilobytes of code instead of pages spread over the whole binary: less idle RSS, fewer page
# faults. Run it after updating dependencies or the toolchain (symbol names change with them;
# a stale name is skipped, so a stale file only costs the gain). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin switchboard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root" "$work/data"
printf 'data_dir: %s\nfiles:\n  roots: [%s]\nlogging:\n  file: false\n' "$work/data" "$work/root" > "$work/config.yaml"
session='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"order","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}
{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_roots","arguments":{}}}
{"jsonrpc":"2.0","id":4,"method":"ping"}'
bin=$(realpath target/release/switchboard)
for exposure in full auto; do
  printf '%s\n' "$session" | valgrind --tool=callgrind --demangle=no --compress-strings=no \
    --callgrind-out-file="$work/cg.$exposure.%p" \
    "$bin" --config "$work/config.yaml" --exposure "$exposure" > /dev/null 2>&1
done
# Every function of the binary's own that ran (not the C library's or the loader's), once each,
# in the order the profiles name them.
# The first line says what the names belong to; build.rs warns when Cargo.lock or the
# toolchain no longer match it (the crates' symbol names change with them).
lock=$(python3 -c 'h = 0xcbf29ce484222325
for b in open("Cargo.lock", "rb").read():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(f"{h:016x}")')
{
  echo "# Cargo.lock $lock $(rustc --version)"
  cat "$work"/cg.* | awk -v bin="ob=$bin" '
  /^ob=/ { ours = ($0 == bin) }
  /^fn=/ && ours { name = substr($0, 4); if (name !~ /^0x/ && !seen[name]++) print name }
'
} > build/startup.order
wc -l build/startup.order
