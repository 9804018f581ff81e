#!/usr/bin/env bash
# The locker benchmark of issue 6 (docs/benchmarks.md): heartbeats per
# second the release local host sustains on PostgreSQL from the locker
# simulator (tools/locker-sim: signed 240-cell heartbeats, back to back,
# CONC in flight), beside pgbench running the statements one heartbeat
# executes (shared/src/locker/store.rs) with the same clients, in the same
# run. Not a timed test.
#
#   bench/lockers.sh
#
# Environment (defaults):
#   CONC=16  DURATION=20 (seconds per phase)  WARMUP=5  PORT=3300
#   EXTRA_LOCKERS=961 (added to the demo's 39: 1,000 lockers, 240 cells each)
#   DB=wangjie_lockers_bench  PGHOST=127.0.0.1  PGPORT=5432  PGUSER=postgres
#   OUT=/tmp/wangjie-lockers-bench
#   HOST_BIN=target/release/wangjie-host  SIM_BIN=target/release/wangjie-locker-sim
#       (set both to reuse binaries built elsewhere; unset, they are built here)
#
# Needs: cargo, PostgreSQL client tools (createdb, psql, pgbench) and a
# local server with trust auth, python3, curl. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
CONC="${CONC:-16}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
PORT="${PORT:-3300}"
EXTRA_LOCKERS="${EXTRA_LOCKERS:-961}"
DB="${DB:-wangjie_lockers_bench}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
OUT="${OUT:-/tmp/wangjie-lockers-bench}"
URL="http://127.0.0.1:$PORT"
TOKEN="bench-$(date +%s)-$$"
MASTER="bench-locker-master-$TOKEN-0123456789abcdef"
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

say "building (release): host, simulator and components"
if [[ -z "${HOST_BIN:-}" || -z "${SIM_BIN:-}" ]]; then
  cargo build --release -p wangjie-host -p wangjie-locker-sim
fi
HOST_BIN="${HOST_BIN:-target/release/wangjie-host}"
SIM_BIN="${SIM_BIN:-target/release/wangjie-locker-sim}"
bash -c 'source scripts/lib.sh && build_components'

say "fresh database $DB"
dropdb --if-exists "$DB"
createdb "$DB"
SPIN_VARIABLE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
  SPIN_VARIABLE_PG_HOST="$PGHOST:$PGPORT" \
  SPIN_VARIABLE_ADMIN_TOKEN="$TOKEN" \
  SPIN_VARIABLE_SESSION_KEY="bench-session-key-$TOKEN-0123456789abcdef" \
  SPIN_VARIABLE_LOCKER_MASTER_KEY="$MASTER" \
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
admin "/admin/demo?records=1000&readers=10"

say "$EXTRA_LOCKERS more lockers beside the demo's, 240 cells each"
first=$(psqlq -c "SELECT code FROM service_points WHERE locker_generation IS NOT NULL ORDER BY code LIMIT 1")
psqlq -c "INSERT INTO service_points
  SELECT (jsonb_populate_record(sp, jsonb_build_object(
    'code', 'SIM-' || lpad(g::text, 5, '0'), 'name', sp.name || ' 模拟柜 ' || g))).*
  FROM service_points sp, generate_series(1, $EXTRA_LOCKERS) g WHERE sp.code = '$first'"
psqlq -c "INSERT INTO locker_cells (point_code, cell_no, state, updated_at_ms)
  SELECT p.code, c, 'empty', 0 FROM service_points p, generate_series(1, 240) c
  WHERE p.code LIKE 'SIM-%' ORDER BY p.code, c"
psqlq -c "VACUUM ANALYZE"
lockers=$(psqlq -c "SELECT count(*) FROM service_points WHERE locker_generation IS NOT NULL")
echo "$lockers lockers, $(psqlq -c "SELECT count(*) FROM locker_cells") cells"

say "load: heartbeats from the simulator, $CONC in flight, ${WARMUP}s warm-up, ${DURATION}s"
"$SIM_BIN" --url "$URL" --master-key "$MASTER" --interval 0 \
  --concurrency "$CONC" --warmup "$WARMUP" --duration "$DURATION" | tee "$OUT/http.txt"

say "pgbench: one heartbeat's statements, $CONC clients, ${DURATION}s"
# What store::authenticate and store::heartbeat run for a heartbeat whose
# cells are those of the heartbeat before (the digest matches, so no cell
# comparison), with no acks and no pending command: the steady state.
now_ms=$(( $(date +%s) * 1000 ))
cat > "$OUT/heartbeat.sql" <<SQL
\\set n random(1, $EXTRA_LOCKERS)
\\set nonce random(1, 9000000000000000)
INSERT INTO locker_nonces (point_code, nonce, expires_at_ms) SELECT code, 'pgbench' || :client_id || '-' || :nonce, $now_ms + 600000 FROM service_points WHERE code = 'SIM-' || lpad(:n::text, 5, '0') AND locker_generation IS NOT NULL ON CONFLICT DO NOTHING;
UPDATE service_points SET locker_status = 'online', last_heartbeat_at_ms = $now_ms, locker_health = '{"network":"4g","signal":-71,"power":"mains","battery_pct":100,"temperature_c":21.5,"firmware":"wj-sim-1.0"}', locker_cells_digest = 'same', locker_cells_changed_at_ms = CASE WHEN locker_cells_digest = 'same' THEN locker_cells_changed_at_ms ELSE $now_ms END WHERE code = 'SIM-' || lpad(:n::text, 5, '0') RETURNING locker_cells_changed_at_ms;
SELECT id, kind, payload FROM locker_commands WHERE point_code = 'SIM-' || lpad(:n::text, 5, '0') AND acked_at_ms IS NULL ORDER BY id;
SQL
rm -f "$OUT"/pgbench_log.*
(cd "$OUT" && pgbench -n -c "$CONC" -j 2 -T "$DURATION" -f heartbeat.sql -l --log-prefix=pgbench_log "$DB" > pgbench.txt 2>&1)
python3 - "$OUT" <<'PY' | tee "$OUT/sql.txt"
import glob, sys
lat = sorted(int(l.split()[2]) / 1000 for f in glob.glob(sys.argv[1] + "/pgbench_log.*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
tps = [l for l in open(sys.argv[1] + "/pgbench.txt") if l.startswith("tps")]
print(f"RESULT transactions={len(lat)} {tps[0].strip() if tps else ''} p50={q(.5):.2f} p95={q(.95):.2f} p99={q(.99):.2f}")
PY
python3 - "$OUT" <<'PY' | tee "$OUT/ratio.txt"
import re, sys
line = next(l for l in open(sys.argv[1] + "/http.txt") if l.startswith("RESULT"))
http = dict(re.findall(r"(\w+)=([\d.]+)", line))
tps = float(re.search(r"tps = ([\d.]+)", open(sys.argv[1] + "/sql.txt").read()).group(1))
print(f"heartbeats/s through the host {float(http['rate']):.1f} vs its statements alone {tps:.1f}: "
      f"ratio {float(http['rate']) / tps:.3f}; host p99 {http['p99']} ms")
PY
