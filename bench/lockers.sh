#!/usr/bin/env bash
# The locker benchmark of issue 6 (docs/benchmarks.md): heartbeats per
# second the release local host sustains on PostgreSQL from the locker
# simulator (tools/locker-sim: signed 240-cell heartbeats, back to back,
# CONC in flight), how many of them reached the database, and beside it
# pgbench running the statements a heartbeat that does executes
# (shared/src/locker/store.rs) with the same clients, in the same run. Not
# a timed test.
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
#   RUNTIME_CONFIG=runtime-config/local-redis.toml   the key-value store, where
#       steady heartbeats land (locker::beat_cache): the local Redis, as in
#       production; set it empty for the default SQLite file. The lockers'
#       keys (locker-beat/*, locker-changed/*, locker-nonce/*) in that Redis are deleted first:
#       they describe a database this script has just replaced.
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
OUT="${OUT:-/tmp/wangjie-lockers-bench}"
RUNTIME_CONFIG="${RUNTIME_CONFIG-runtime-config/local-redis.toml}"
source bench/lib.sh
export SPIN_VARIABLE_LOCKER_MASTER_KEY="bench-locker-master-$TOKEN-0123456789abcdef"
MASTER="$SPIN_VARIABLE_LOCKER_MASTER_KEY"

# A host built elsewhere comes with its simulator (SIM_BIN).
build_release wangjie-locker-sim
SIM_BIN="${SIM_BIN:-target/release/wangjie-locker-sim}"

fresh_db
if [[ -n "$RUNTIME_CONFIG" ]]; then
  for pattern in 'locker-beat/*' 'locker-changed/*' 'locker-nonce/*'; do
    redis-cli --scan --pattern "$pattern" | xargs -r -n 500 redis-cli DEL >/dev/null
  done
fi
start_host
admin /admin/migrate >/dev/null
admin "/admin/demo?records=1000&readers=10" >/dev/null

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

# Heartbeats that reached the database: rows of service_points updated,
# read once the host has closed its connections (which flushes their
# statistics).
updated() { psqlq -c "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'service_points'"; }
stop_host
sleep 1
before=$(updated)
start_host
say "load: heartbeats from the simulator, $CONC in flight, ${WARMUP}s warm-up, ${DURATION}s"
"$SIM_BIN" --url "$URL" --master-key "$MASTER" --interval 0 \
  --concurrency "$CONC" --warmup "$WARMUP" --duration "$DURATION" | tee "$OUT/http.txt"
stop_host
sleep 1
echo "heartbeats that reached the database (warm-up and run): $(( $(updated) - before ))" | tee -a "$OUT/http.txt"

say "pgbench: one heartbeat's statements, $CONC clients, ${DURATION}s"
# What store::authenticate and store::heartbeat run for a heartbeat that
# reaches the database with the cells of the one before (the digest
# matches, so no cell comparison), no acks and no pending command. Steady
# heartbeats (locker::beat_cache) run none of it.
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
pgbench_result | tee "$OUT/sql.txt"
python3 - "$OUT" <<'PY' | tee "$OUT/ratio.txt"
import re, sys
line = next(l for l in open(sys.argv[1] + "/http.txt") if l.startswith("RESULT"))
http = dict(re.findall(r"(\w+)=([\d.]+)", line))
tps = float(re.search(r"tps = ([\d.]+)", open(sys.argv[1] + "/sql.txt").read()).group(1))
print(f"heartbeats/s through the host {float(http['rate']):.1f} vs its statements alone {tps:.1f}: "
      f"ratio {float(http['rate']) / tps:.3f}; host p99 {http['p99']} ms")
PY
