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
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
OUT="${OUT:-/tmp/wangjie-orders-bench}"
URL="http://127.0.0.1:$PORT"
TOKEN="bench-$(date +%s)-$$"
SESSION_KEY="bench-session-key-$TOKEN-0123456789abcdef"
mkdir -p "$OUT"
say() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
psqlq() { psql -X -v ON_ERROR_STOP=1 -Atq -d "$DB" "$@"; }

HOST_PID=""
stop_host() {
  if [[ -n "$HOST_PID" ]]; then
    kill "$HOST_PID" 2>/dev/null || true
    wait "$HOST_PID" 2>/dev/null || true
  fi
}
trap stop_host EXIT

say "building (release): host and components"
if [[ -z "${HOST_BIN:-}" ]]; then
  cargo build --release -p wangjie-host
fi
HOST_BIN="${HOST_BIN:-target/release/wangjie-host}"
# The host loads every component of spin.toml.
bash -c 'source scripts/lib.sh && build_components'

say "fresh database $DB"
dropdb --if-exists "$DB"
createdb "$DB"
SPIN_VARIABLE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
  SPIN_VARIABLE_PG_HOST="$PGHOST:$PGPORT" \
  SPIN_VARIABLE_ADMIN_TOKEN="$TOKEN" \
  SPIN_VARIABLE_SESSION_KEY="$SESSION_KEY" \
  "$HOST_BIN" up -f spin.toml --listen "127.0.0.1:$PORT" \
  --state-dir "$OUT/state" >"$OUT/host.log" 2>&1 &
HOST_PID=$!
for _ in $(seq 1 600); do
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health" || true)" != 000 ]] && break
  kill -0 "$HOST_PID" 2>/dev/null || { echo "host exited; see $OUT/host.log" >&2; exit 1; }
  sleep 0.2
done
admin() { curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$URL$1"; echo; }
admin /admin/migrate
admin "/admin/demo?records=20000&readers=$READERS"

say "readers with standing, their tokens, titles on the shelves"
now_ms=$(( $(date +%s) * 1000 ))
psqlq -c "UPDATE readers SET standing = 'osmanthus_virtual_card', credit_source = 'osmanthus',
  credit_decided_at_ms = $now_ms, credit_valid_until_ms = $now_ms + 86400000,
  loan_quota = 100, status = 'active'"
psqlq -c "SELECT id FROM readers ORDER BY id" > "$OUT/readers.txt"
psqlq -c "SELECT DISTINCT record_id FROM copies WHERE status = 'on_shelf' ORDER BY 1" > "$OUT/records.txt"
python3 - "$SESSION_KEY" "$OUT/readers.txt" > "$OUT/tokens.txt" <<'PY'
# Session tokens as shared/src/session.rs writes them: v1.<claims>.<tag>.
import base64, hashlib, hmac, json, sys, time
key, ids = sys.argv[1].encode(), [int(l) for l in open(sys.argv[2]) if l.strip()]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time() * 1000)
for rid in ids:
    claims = json.dumps({"rid": rid, "jti": f"bench{rid:027d}", "iat": now, "exp": now + 86400000})
    signed = "v1." + b64(claims.encode())
    print(signed + "." + b64(hmac.new(key, signed.encode(), hashlib.sha256).digest()))
PY
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
python3 - "$OUT" <<'PY' | tee "$OUT/sql.txt"
import glob, sys
lat = sorted(int(l.split()[2]) / 1000 for f in glob.glob(sys.argv[1] + "/pgbench_log.*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
tps = [l for l in open(sys.argv[1] + "/pgbench.txt") if l.startswith("tps")]
print(f"RESULT transactions={len(lat)} {tps[0].strip() if tps else ''} p50={q(.5):.2f} p95={q(.95):.2f} p99={q(.99):.2f}")
PY
python3 - "$OUT" <<'PY' | tee "$OUT/ratio.txt"
import re, sys
http = dict(re.findall(r"(\w+)=([\d.]+)", open(sys.argv[1] + "/http.txt").read()))
sql = open(sys.argv[1] + "/sql.txt").read()
tps = float(re.search(r"tps = ([\d.]+)", sql).group(1))
print(f"orders/s through the host {float(http['rps']):.1f} vs claim statement alone {tps:.1f}: "
      f"ratio {float(http['rps']) / tps:.3f}; host p99 {http['p99']} ms")
PY
