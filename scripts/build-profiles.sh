#!/usr/bin/env bash
# Clean release builds of switchboard with several link-time settings, each in its own target
# folder, to choose the release profile (issue 27). Prints one line per variant: wall time, CPU
# time and peak memory of the build, the binary's size, then (interleaved runs, medians) the
# time from spawn to the answers to initialize and tools/list, and the idle RSS after them.
#   scripts/build-profiles.sh [OUT_DIR]   (default target/build-profiles)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/build-profiles}"
mkdir -p "$out"
# name lto codegen-units
variants=("fat-1 fat 1" "thin-16 thin 16" "off-16 false 16")
for v in "${variants[@]}"; do
  read -r name lto cgu <<<"$v"
  dir="$out/$name"
  if [ ! -x "$dir/release/switchboard" ]; then
    rm -rf "$dir"
    CARGO_PROFILE_RELEASE_LTO="$lto" CARGO_PROFILE_RELEASE_CODEGEN_UNITS="$cgu" \
      CARGO_TARGET_DIR="$dir" /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" \
      cargo build --release --locked -q -j 2
  fi
  read -r wall user sys peak <"$out/$name.time"
  size=$(stat -c %s "$dir/release/switchboard")
  printf '%s\twall %.0f s\tcpu %.0f s\tpeak %d MiB\tbinary %.1f MiB\n' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)" "$((peak / 1024))" "$(echo "$size / 1048576" | bc -l)" \
    | tee -a "$out/summary.txt"
done
python3 - "$out" "${variants[@]}" <<'PY' | tee -a "$out/summary.txt"
import json, os, statistics, subprocess, sys, tempfile, time
out, names = sys.argv[1], [v.split()[0] for v in sys.argv[2:]]
root = tempfile.mkdtemp()
def once(binary):
    env = {"PATH": os.environ["PATH"], "HOME": root, "XDG_CONFIG_HOME": root, "XDG_DATA_HOME": root}
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "--root", root], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    send = lambda m: (p.stdin.write((json.dumps(m) + "\n").encode()), p.stdin.flush())
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "m", "version": "1"}}})
    p.stdout.readline(); init = time.perf_counter() - t0
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    p.stdout.readline(); listed = time.perf_counter() - t0
    time.sleep(0.3)
    rss = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS"))
    p.stdin.close(); p.wait()
    return init * 1000, listed * 1000, rss / 1024
runs = {n: [] for n in names}
for _ in range(15):
    for n in names:
        runs[n].append(once(f"{out}/{n}/release/switchboard"))
for n in names:
    i, l, r = (statistics.median(x[k] for x in runs[n]) for k in range(3))
    print(f"{n}\tinitialize {i:.1f} ms\ttools/list {l:.1f} ms\tidle RSS {r:.1f} MiB")
PY
