#!/usr/bin/env bash
# Runs one benchmark script once per runtime, back to back in the same run,
# so that the local host and real Spin are measured side by side
# (docs/benchmarks.md, "On real Spin"). Each run gets its own OUT and the
# script's RESULT lines are printed per runtime at the end. Not a timed test.
#
#   RUNTIMES="target/release/wangjie-host /path/to/spin" bench/runtimes.sh orders|lockers|catalogue [ARGS]
#
# Every runtime is started the same way by bench/lib.sh: `up -f spin.toml
# --listen ADDR --state-dir DIR [--runtime-config-file FILE]`, which both the
# host and `spin` accept. The release host is built first when it is one of
# them and missing; the other environment (CONC, DURATION, STEPS,
# RUNTIME_CONFIG, ...) goes to the script unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH="${1:?which benchmark: orders, lockers or catalogue}"
shift
RUNTIMES="${RUNTIMES:?RUNTIMES=\"target/release/wangjie-host /path/to/spin\"}"
BASE_OUT="${OUT:-/tmp/wangjie-runtimes-$BENCH}"
if [[ " $RUNTIMES " == *" target/release/wangjie-host "* && ! -x target/release/wangjie-host ]]; then
  cargo build --release -p wangjie-host -p wangjie-locker-sim -p wangjie-import
fi
mkdir -p "$BASE_OUT"
summary=""
for runtime in $RUNTIMES; do
  name="$(basename "$runtime")"
  out="$BASE_OUT/$name"
  printf '\n==== %s on %s (%s)\n' "$BENCH" "$runtime" "$(date -u +%H:%M:%S)"
  OUT="$out" HOST_BIN="$runtime" SIM_BIN="${SIM_BIN:-target/release/wangjie-locker-sim}" \
    "bench/$BENCH.sh" "$@" | tee "$out.txt"
  summary+="$name: $(grep -h '^RESULT' "$out.txt" | tr '\n' ' ')"$'\n'
done
printf '\n==== %s, same run\n%s' "$BENCH" "$summary"
