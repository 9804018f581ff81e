#!/usr/bin/env bash
# Drives GET /api/search on a running app with a mix of queries, one at a
# time over loopback, and reports p50/p95/p99 latency and throughput.
# Not a timed test: the figures go into docs/search.md by hand.
#
#   bench/search.sh [URL] [ROUNDS]     URL defaults to http://127.0.0.1:3000
#
# The app must be running with a catalogue loaded (scripts/up loads a
# 20,000-record demo). The catalogue import and search benchmark of issue 3
# (1,000,000 records, concurrency, SQL ratio) is bench/catalogue.sh.
set -euo pipefail
URL="${1:-http://127.0.0.1:3000}"
ROUNDS="${2:-50}"
QUERIES=(
  "q=santi" "q=st" "q=%E4%B8%89%E9%AB%94" "q=%E5%B9%B3%E5%87%A1%E7%9A%84%E4%B8%96%E7%95%8C"
  "q=liucixin&available=1" "q=%E6%96%87%E5%8C%96&per_page=20&page=2"
  "q=%E6%9D%AD%E5%B7%9E&lat=30.27&lon=120.16" "title=%E6%B4%BB%E7%9D%80"
  "q=yuhua" "q=%E4%B8%AD%E5%9B%BD%E5%8E%86%E5%8F%B2"
)
times=$(mktemp)
trap 'rm -f "$times"' EXIT
start=$(date +%s.%N)
for _ in $(seq 1 "$ROUNDS"); do
  for query in "${QUERIES[@]}"; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$URL/api/search?$query" >>"$times"
  done
done
end=$(date +%s.%N)
if grep -qv '^200 ' "$times"; then
  echo "some requests failed:" >&2
  grep -v '^200 ' "$times" | sort | uniq -c >&2
fi
awk -v start="$start" -v end="$end" '{ print $2 * 1000 }' "$times" | sort -n | awk -v start="$start" -v end="$end" '
  { t[NR] = $1 }
  END {
    n = NR
    printf "requests %d, sequential throughput %.0f/s\n", n, n / (end - start)
    printf "p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      t[int(n * 0.50) + 1], t[int(n * 0.95) + 1], t[int(n * 0.99) + 1], t[n]
  }'
