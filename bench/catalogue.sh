#!/usr/bin/env bash
# The catalogue benchmark of issue 3 (docs/benchmarks.md): import a generated
# catalogue of N records x COPIES copies into a fresh PostgreSQL database
# through the release local host, then drive GET /api/search over loopback
# with a query mix at CONC in flight (bench/load.py), and run the same SQL the app ran
# for each query straight against PostgreSQL (pgbench, same clients, same
# mix) in the same run, for a ratio. Not a timed test.
#
#   bench/catalogue.sh [N]            N records (default 1000000), 3 copies each
#
# Environment (defaults):
#   COPIES=3  CONC=8  DURATION=20 (seconds per load phase)  PORT=3100
#   DB=wangjie_bench  PGHOST=127.0.0.1  PGPORT=5432  PGUSER=postgres
#   OUT=/tmp/wangjie-bench (CSV, logs, captured SQL, results)
#   STEPS="build db import capture load worst"   a subset to re-run a phase on
#       the database left by an earlier run (e.g. STEPS="capture load");
#       the step "reindex" (not run by default) migrates the database left
#       by an earlier version and rebuilds every record's search keys
#       (wangjie-import --reindex), as an operator does after an upgrade
#   BATCH=COPIES*333  rows per import request
#   PGLOG=/var/log/postgresql/postgresql-15-main.log   the server's log, read
#       to capture the app's statements (log_min_duration_statement = 0 is
#       set on DB only for the capture pass)
#
# Needs: cargo, PostgreSQL client tools (createdb, psql, pgbench) and a
# local server with trust auth, python3, curl.
# Talks only to 127.0.0.1. Every loop is bounded; the host it starts is
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
COPIES="${COPIES:-3}"
CONC="${CONC:-8}"
DURATION="${DURATION:-20}"
PORT="${PORT:-3100}"
DB="${DB:-wangjie_bench}"
OUT="${OUT:-/tmp/wangjie-bench}"
STEPS="${STEPS:-build db import capture load worst}"
# A multiple of COPIES: a record whose rows are cut across two batches loses
# the rows in the second one ("no title"; see docs/benchmarks.md).
BATCH="${BATCH:-$((COPIES * 333))}"
PGLOG="${PGLOG:-/var/log/postgresql/postgresql-15-main.log}"
source bench/lib.sh
step() { [[ " $STEPS " == *" $1 "* ]]; }


if step build; then
  say "building (release): host, import client, components"
  cargo build --release -p wangjie-host -p wangjie-import
  # The host loads every component of spin.toml.
  bash -c 'source scripts/lib.sh && build_components'
fi

if step db; then
  say "fresh database $DB"
  dropdb --if-exists "$DB"
  createdb "$DB"
  rm -rf "$OUT/state"
fi

CSV="$OUT/catalogue-$N-x$COPIES.csv"
if step import; then
  if [[ ! -s "$CSV" ]]; then
    say "generating $CSV"
    python3 bench/gen_catalogue.py "$N" "$COPIES" "$CSV.part"
    mv "$CSV.part" "$CSV"
  fi
  ls -l "$CSV"
  start_host
  say "migrate, demo library with one record (the 103 service points)"
  admin /admin/migrate
  admin "/admin/demo?records=1"
  say "import: $N records, $((N * COPIES)) copies, batches of $BATCH rows"
  start=$(date +%s.%N)
  WANGJIE_ADMIN_TOKEN="$TOKEN" "${IMPORT_BIN:-target/release/wangjie-import}" --url "$URL" --format csv \
    --batch-size "$BATCH" "$CSV" 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | tail -n 8 | tee "$OUT/import.txt"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$N" -v c="$COPIES" 'BEGIN {
    printf "import wall time %.1f s: %.0f records/s, %.0f copies/s\n", e - s, n / (e - s), n * c / (e - s) }' |
    tee -a "$OUT/import.txt"
  say "VACUUM ANALYZE"
  start=$(date +%s.%N)
  psqlq -c "VACUUM ANALYZE"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "vacuum analyze %.1f s\n", e - s }' | tee -a "$OUT/import.txt"
  psqlq -F ' ' -c "SELECT 'records', COUNT(*) FROM records UNION ALL SELECT 'copies', COUNT(*) FROM copies
    UNION ALL SELECT 'search_postings', COUNT(*) FROM search_postings
    UNION ALL SELECT 'database MB', pg_database_size(current_database()) / 1048576" | tee -a "$OUT/import.txt"
fi

if step reindex; then
  start_host
  say "migrate, then rebuild the search keys of all $N records (wangjie-import --reindex)"
  admin /admin/migrate
  WANGJIE_ADMIN_TOKEN="$TOKEN" "${IMPORT_BIN:-target/release/wangjie-import}" --url "$URL" --reindex \
    --batch-size 2000 2>&1 | tr '\r' '\n' | grep -v '^\s*$' | tail -n 1 | tee "$OUT/reindex.txt"
  say "VACUUM ANALYZE"
  psqlq -c "VACUUM ANALYZE"
  psqlq -F ' ' -c "SELECT 'search_postings', COUNT(*) FROM search_postings
    UNION ALL SELECT 'database MB', pg_database_size(current_database()) / 1048576" | tee -a "$OUT/reindex.txt"
  stop_host
fi

# The query mix: one line per query string. An ISBN of a generated record
# (record 4242, hyphens and not) keeps the ISBN cases hits at any N >= 4242.
ISBN=$(python3 -c 'import runpy,sys; sys.argv=["x"]; print(runpy.run_path("bench/gen_catalogue.py", run_name="lib")["isbn13"](4242))')
ISBN_PLAIN=${ISBN//-/}
cat >"$OUT/queries.txt" <<EOF
q=%E4%B8%89%E4%BD%93
q=santi
q=st
q=%E4%B8%89%E9%AB%94
q=%E5%B9%B3%E5%87%A1%E7%9A%84%E4%B8%96%E7%95%8C
q=pingfandeshijie
q=%E6%B4%BB%E7%9D%80&available=1
q=liucixin
author=%E4%BD%99%E5%8D%8E
q=yuhua
q=$ISBN
isbn=$ISBN_PLAIN
q=%E6%9D%AD%E5%B7%9E%E8%8C%B6%E5%8F%B6
q=%E6%95%A6%E7%85%8C%E7%93%B7%E5%99%A8%E5%8F%B2%E8%AF%9D
title=%E5%AF%BA%E9%9D%99%E7%9A%84%E6%A3%AE%E6%9E%97&per_page=10
q=%E5%B0%8F%E7%8B%90%E7%8B%B8%E5%8E%BB%E6%97%85%E8%A1%8C&branch=B012
q=%E4%BA%BA%E5%B7%A5%E6%99%BA%E8%83%BD%E5%85%A5%E9%97%A8&available=1
q=rgzn
q=%E4%B8%89%E4%BD%93&lat=30.27&lon=120.16
q=%E6%B5%81%E6%B5%AA%E5%9C%B0%E7%90%83&page=2&per_page=5
q=%E4%B8%AD%E5%9B%BD%E6%96%87%E5%8C%96
q=%E6%96%87%E5%8C%96&page=3&per_page=20
EOF

# The worst shapes (issue 20): many one-letter words (16, and 32 cut to 16
# groups), words that match nothing, common Han characters one by one, and
# a mix; the `worst` step loads them alone.
letters=$(printf '%s+' {a..p}); letters=${letters%+}
more=$(printf '%s+' {q..z} {a..f}); more=${more%+}
cat >"$OUT/worst.txt" <<EOF
q=$letters
q=$letters+$more
q=zzqx+qqpz+xxkw+wqzz
q=zzqx+qqpz+xxkw+wqzz+kkqz+pqqx+zxqw+qwzk
q=%E7%9A%84+%E4%BA%86+%E6%98%AF+%E5%9C%A8+%E4%B8%AD+%E5%9B%BD+%E4%BA%BA+%E5%A4%A7
q=%E4%B8%89%E4%BD%93+zzqx+a+b
q=a+b+c+d&available=1
EOF

# Each query of file $1 sent $2 times one after another through the host
# (curl): the best and the median latency in ms, then the query.
per_query() {
  local query
  while read -r query; do
    for _ in $(seq 1 "$2"); do curl -s -o /dev/null -w '%{time_total}\n' "$URL/api/search?$query"; done |
      sort -n | awk -v q="$query" -v m=$(($2 / 2 + 1)) '{ t[NR] = $1 * 1000 }
        END { printf "%8.2f %8.2f  %s\n", t[1], t[m], q }'
  done <"$1"
}

if step capture; then
  say "capture: each query once, sequentially, with statement logging on $DB"
  psqlq -c "ALTER DATABASE $DB SET log_min_duration_statement = 0"
  start_host # a fresh pool, so its connections log
  rm -rf "$OUT/sql" && mkdir -p "$OUT/sql"
  i=0
  while read -r query; do
    i=$((i + 1))
    # A warm-up, then the captured request.
    curl -s -o /dev/null "$URL/api/search?$query"
    sleep 0.3
    before=$(stat -c %s "$PGLOG")
    code=$(curl -s -o "$OUT/sql/$i.json" -w '%{http_code} %{time_total}' "$URL/api/search?$query")
    sleep 0.3
    tail -c +"$((before + 1))" "$PGLOG" >"$OUT/sql/$i.log"
    total=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("total"))' "$OUT/sql/$i.json" 2>/dev/null || echo "?")
    printf '%2d %s total=%s %s\n' "$i" "$code" "$total" "$query"
  done <"$OUT/queries.txt" | tee "$OUT/capture.txt"
  psqlq -c "ALTER DATABASE $DB RESET log_min_duration_statement"
  stop_host
  # Each request's executed statements, its parameters put in as literals.
  python3 - "$OUT/sql" "$DB" <<'PY'
import glob, os, re, sys
d, db = sys.argv[1], sys.argv[2]
for path in sorted(glob.glob(os.path.join(d, "*.log")), key=lambda p: int(os.path.basename(p)[:-4])):
    stmts, last, ms = [], None, 0.0
    for line in open(path, encoding="utf-8", errors="replace"):
        if f"@{db} " not in line:
            continue
        m = re.search(r"LOG:  duration: ([0-9.]+) ms  (parse|bind|execute) [^:]*: (.*)$", line)
        if m:
            ms += float(m.group(1))
            last = m.group(2)
            if last == "execute":
                stmts.append([m.group(3), {}])
            continue
        m = re.search(r"LOG:  duration: ([0-9.]+) ms  statement: (.*)$", line)
        if m:
            ms += float(m.group(1)); stmts.append([m.group(2), {}]); last = "statement"; continue
        if "LOG:" in line:
            last = None
            continue
        m = re.search(r"DETAIL:  [Pp]arameters: (.*)$", line)
        if m and stmts and last == "execute":
            for k, v in re.findall(r"\$(\d+) = ('(?:[^']|'')*'|NULL)", m.group(1)):
                stmts[-1][1][int(k)] = v
    out = []
    for sql, params in stmts:
        for k in sorted(params, reverse=True):
            sql = sql.replace(f"${k}", params[k])
        out.append(sql.rstrip(";") + ";")
    base = path[:-4]
    open(base + ".sql", "w", encoding="utf-8").write("\n".join(out) + "\n")
    print(f"{os.path.basename(base)}: {len(out)} statements, {ms:.2f} ms in the server (logged)")
PY
fi

if step load; then
  n=$(wc -l <"$OUT/queries.txt")
  say "load: GET /api/search, $n queries round-robin, $CONC in flight, ${DURATION}s (bench/load.py)"
  start_host
  # Warm-up (compiled instances, caches), then the measured run. How many
  # of the app's statements run at once is sampled every 0.5 s (bounded),
  # to tell queueing in the host from the database's own time.
  python3 bench/load.py "$URL" "$OUT/queries.txt" "$CONC" 5 >/dev/null
  (for _ in $(seq 1 $((DURATION * 2 - 2))); do
     psqlq -c "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '$DB' AND state = 'active' AND pid <> pg_backend_pid()"
     sleep 0.5
   done >"$OUT/active.txt") &
  sampler=$!
  python3 bench/load.py "$URL" "$OUT/queries.txt" "$CONC" "$DURATION" | tee "$OUT/http.txt"
  wait "$sampler" || true
  sort -n "$OUT/active.txt" | uniq -c | awk '{ printf "%s x %s active; ", $1, $2 } END { print "" }' |
    sed 's/^/statements running at once (samples x count): /' | tee -a "$OUT/http.txt"
  stop_host
  say "the same statements straight against PostgreSQL: pgbench, $CONC clients, ${DURATION}s"
  args=()
  for f in "$OUT"/sql/*.sql; do args+=(-f "$f"); done
  rm -f "$OUT"/pgbench_log.*
  (cd "$OUT" && pgbench -n -c "$CONC" -j 1 -T 5 "${args[@]}" "$DB" >/dev/null)
  (cd "$OUT" && pgbench -n -c "$CONC" -j 1 -T "$DURATION" -l "${args[@]}" "$DB") >"$OUT/pgbench.txt" 2>&1
  grep -E "^(number of transactions actually|latency average|tps)" "$OUT/pgbench.txt" || cat "$OUT/pgbench.txt"
  # pgbench -l: client_id transaction_no time(us) script_no time_epoch time_us
  cat "$OUT"/pgbench_log.* | awk '{ print $3 / 1000 }' | sort -n | awk -v d="$DURATION" '
    { t[NR] = $1 } END { n = NR
      printf "RESULT-SQL transactions=%d rps=%.1f p50=%.2f p95=%.2f p99=%.2f max=%.2f\n",
        n, n / d, t[int(n * .50) + 1], t[int(n * .95) + 1], t[int(n * .99) + 1], t[n] }' | tee "$OUT/sql.txt"
  rm -f "$OUT"/pgbench_log.*
  # Per query: latency of each through the host alone (sequential, 5 each).
  say "per query, sequential (curl, best and median of 5), through the host"
  start_host
  per_query "$OUT/queries.txt" 5 | tee "$OUT/per-query.txt"
  stop_host
  say "summary"
  grep RESULT "$OUT/http.txt" "$OUT/sql.txt" | sed 's/.*RESULT/RESULT/'
  awk '/^RESULT /{ for (i = 2; i <= NF; i++) { split($i, kv, "="); a[kv[1]] = kv[2] } }
       /^RESULT-SQL /{ for (i = 2; i <= NF; i++) { split($i, kv, "="); b[kv[1]] = kv[2] } }
       END { printf "ratio host/SQL: p50 %.2fx, p95 %.2fx, p99 %.2fx; throughput SQL/host %.2fx\n",
         a["p50"] / b["p50"], a["p95"] / b["p95"], a["p99"] / b["p99"], b["rps"] / a["rps"] }' \
    "$OUT/http.txt" "$OUT/sql.txt" | tee "$OUT/ratio.txt"
fi

if step worst; then
  say "worst shapes alone: $(wc -l <"$OUT/worst.txt") queries round-robin, $CONC in flight, ${DURATION}s"
  start_host
  python3 bench/load.py "$URL" "$OUT/worst.txt" "$CONC" 3 >/dev/null
  python3 bench/load.py "$URL" "$OUT/worst.txt" "$CONC" "$DURATION" | sed 's/^RESULT/RESULT-WORST/' | tee "$OUT/worst-http.txt"
  per_query "$OUT/worst.txt" 3 | tee "$OUT/worst-per-query.txt"
  stop_host
fi
