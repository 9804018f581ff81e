#!/usr/bin/env bash
# The order benchmark of issue 5 (docs/benchmarks.md): order creation
# through the release local host on PostgreSQL (POST /api/orders, one title
# each, CONC in flight, bench/orders.py), beside pgbench running the same
# allocation statement (the copy claim of shared/src/orders/place.rs, in a
# transaction rolled back so it never runs out of copies) with the same
# clients, in the same run. Not a timed test.
#
#   bench/orders.sh
#
# Environment (defaults):
#   CONC=8  DURATION=20 (seconds per phase)  READERS=2000  PORT=3200
#   DB=wangjie_orders_bench  PGHOST=127.0.0.1  PGPORT=5432  PGUSER=postgres
#   OUT=/tmp/wangjie-orders-bench   POINT=B001 (the pickup point)
#   HOST_BIN=target/release/wangjie-host (set it to reuse a host built
#       elsewhere; unset, the release host is built here)
#   PGLOG=/var/log/postgresql/postgresql-15-main.log, COUNT=20: the server
#       log to count an order's statements in (last step; skipped when the
#       file cannot be read), over COUNT orders placed one at a time
#
# Needs: cargo, PostgreSQL client tools (createdb, psql, pgbench) and a
# local server with trust auth, python3, curl. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
CONC="${CONC:-8}"
DURATION="${DURATION:-20}"
READERS="${READERS:-2000}"
PORT="${PORT:-3200}"
POINT="${POINT:-B001}"
DB="${DB:-wangjie_orders_bench}"
OUT="${OUT:-/tmp/wangjie-orders-bench}"
source bench/lib.sh

build_release

fresh_db
start_host
admin /admin/migrate
admin "/admin/demo?records=20000&readers=$READERS"

say "readers with standing, their tokens, titles on the shelves"
readers_ready 100
echo "$(wc -l < "$OUT/tokens.txt") readers, $(wc -l < "$OUT/records.txt") titles on the shelves"

say "load: POST /api/orders, $CONC in flight, ${DURATION}s"
python3 bench/orders.py "$URL" "$OUT/tokens.txt" "$OUT/records.txt" "$POINT" "$CONC" 3 >/dev/null
python3 bench/orders.py "$URL" "$OUT/tokens.txt" "$OUT/records.txt" "$POINT" "$CONC" "$DURATION" | tee "$OUT/http.txt"

say "pgbench: the same claim statement, $CONC clients, ${DURATION}s"
read -r lat lon <<<"$(psqlq -F ' ' -c "SELECT lat, lon FROM service_points WHERE code = '$POINT'")"
coslat=$(python3 -c "import math; print(math.cos(math.radians($lat)) ** 2)")
max_record=$(tail -1 "$OUT/records.txt")
cat > "$OUT/claim.sql" <<SQL
\\set rid random(1, $max_record)
BEGIN;
UPDATE copies SET status = 'promised', updated_at_ms = 1 WHERE barcode = (SELECT c.barcode FROM copies c JOIN service_points p ON p.code = c.current_point WHERE c.record_id = :rid AND c.status = 'on_shelf' ORDER BY CASE WHEN c.current_point = '$POINT' THEN 0 WHEN c.in_online_stack = 1 THEN 1 ELSE 2 END, (p.lat - $lat) * (p.lat - $lat) + (p.lon - $lon) * (p.lon - $lon) * $coslat, c.barcode LIMIT 1 FOR UPDATE OF c SKIP LOCKED) AND status = 'on_shelf' RETURNING barcode, current_point;
ROLLBACK;
SQL
rm -f "$OUT"/pgbench_log.*
(cd "$OUT" && pgbench -n -c "$CONC" -j 2 -T "$DURATION" -f claim.sql -l --log-prefix=pgbench_log "$DB" > pgbench.txt 2>&1)
pgbench_result | tee "$OUT/sql.txt"
python3 - "$OUT" <<'PY' | tee "$OUT/ratio.txt"
import re, sys
http = dict(re.findall(r"(\w+)=([\d.]+)", open(sys.argv[1] + "/http.txt").read()))
sql = open(sys.argv[1] + "/sql.txt").read()
tps = float(re.search(r"tps = ([\d.]+)", sql).group(1))
print(f"orders/s through the host {float(http['rps']):.1f} vs claim statement alone {tps:.1f}: "
      f"ratio {float(http['rps']) / tps:.3f}; host p99 {http['p99']} ms")
PY

# What one order sends PostgreSQL: every statement the server runs for the
# bench database (log_statement = all; the host's pooled connections take
# the setting when they connect, hence a fresh host), over COUNT orders sent
# one at a time after a warm-up. Each `execute` line is one statement of
# the app, two round trips in the host (prepare, then bind and execute); a
# `statement:` line is a simple query (the pool's clean-up on checkout, one
# round trip).
PGLOG="${PGLOG:-/var/log/postgresql/postgresql-15-main.log}"
COUNT="${COUNT:-20}"
if [[ -r "$PGLOG" ]]; then
  say "statements per order: $COUNT orders one at a time, log_statement = all on $DB"
  psqlq -c "ALTER DATABASE $DB SET log_statement = 'all'"
  start_host
  one_order() {
    local token record
    token=$(sed -n "$(( RANDOM % $(wc -l < "$OUT/tokens.txt") + 1 ))p" "$OUT/tokens.txt")
    record=$(sed -n "$(( RANDOM % $(wc -l < "$OUT/records.txt") + 1 ))p" "$OUT/records.txt")
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "$URL/api/orders" \
      -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -H "idempotency-key: count-$RANDOM-$RANDOM-$1" \
      -d "{\"lines\": [$record], \"fulfilment\": {\"kind\": \"pickup\", \"point_code\": \"$POINT\"}}"
  }
  for n in 1 2 3; do one_order "warm-$n" >/dev/null; done
  sleep 1
  mark=$(stat -c %s "$PGLOG")
  for n in $(seq 1 "$COUNT"); do one_order "$n"; done > "$OUT/count-status.txt"
  sleep 1
  tail -c +"$((mark + 1))" "$PGLOG" | grep -F "@$DB " | grep -E 'LOG:  (execute|statement)' \
    > "$OUT/statements.log" || true
  psqlq -c "ALTER DATABASE $DB RESET log_statement"
  python3 - "$OUT" "$COUNT" <<'PY' | tee "$OUT/statements.txt"
import collections, re, sys
out, count = sys.argv[1], int(sys.argv[2])
lines = open(out + "/statements.log").read().splitlines()
status = collections.Counter(open(out + "/count-status.txt").read().split())
kinds = collections.Counter("execute" if "LOG:  execute" in l else "simple" for l in lines)
print(f"RESULT orders={count} answers={dict(status)} statements={kinds['execute']} "
      f"simple_queries={kinds['simple']} per_order={kinds['execute'] / count:.1f} "
      f"round_trips_per_order={(2 * kinds['execute'] + kinds['simple']) / count:.1f}")
shapes = collections.Counter(re.sub(r"^.*LOG:  (execute [^:]*|statement): ", "", l)[:90] for l in lines)
for shape, n in shapes.most_common():
    print(f"  {n / count:5.2f}  {shape}")
PY
else
  say "statements per order: skipped ($PGLOG cannot be read; set PGLOG)"
fi
