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
#   CONC=16  DURATION=20 (seconds per phase)  WARMUP=10  PORT=3300
#   EXTRA_LOCKERS=10000 simulated lockers of 240 cells (beside the demo's),
#       which the simulator drives: at 5,000 heartbeats/s each beats every
#       2 s, so a run leaves each locker's store record the size of a real
#       locker's at 30 s (a dozen nonces in the window), not hundreds
#   DB=wangjie_lockers_bench  PGHOST=127.0.0.1  PGPORT=5432  PGUSER=postgres
#   OUT=/tmp/wangjie-lockers-bench
#   HOST_BIN=target/release/wangjie-host  SIM_BIN=target/release/wangjie-locker-sim
#       (set both to reuse binaries built elsewhere; unset, they are built here)
#   KV_WAL=1   with the SQLite store, its file in WAL mode first, as
#       scripts/up leaves it (scripts/lib.sh kv_wal); 0: Spin's plain default
#   RUNTIME_CONFIG=runtime-config/local-redis.toml   the key-value store, where
#       steady heartbeats land (locker::beat_cache): the local Redis, as in
#       production; set it empty for the default SQLite file. The lockers'
#       keys (locker-beat/*, locker-changed/*, locker-nonce/*) in that Redis are deleted first:
#       they describe a database this script has just replaced.
#
# Needs: cargo, PostgreSQL client tools (createdb, psql, pgbench), redis-cli
# and redis-benchmark (with the Redis store), and a
# local server with trust auth, python3, curl. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
CONC="${CONC:-16}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-10}"
PORT="${PORT:-3300}"
EXTRA_LOCKERS="${EXTRA_LOCKERS:-10000}"
DB="${DB:-wangjie_lockers_bench}"
OUT="${OUT:-/tmp/wangjie-lockers-bench}"
RUNTIME_CONFIG="${RUNTIME_CONFIG-runtime-config/local-redis.toml}"
KV_WAL="${KV_WAL:-1}"
source bench/lib.sh
export SPIN_VARIABLE_LOCKER_MASTER_KEY="bench-locker-master-$TOKEN-0123456789abcdef"
MASTER="$SPIN_VARIABLE_LOCKER_MASTER_KEY"

# A simulator built elsewhere: SIM_BIN (else built here when missing).
build_release wangjie-locker-sim
SIM_BIN="${SIM_BIN:-target/release/wangjie-locker-sim}"

fresh_db
rm -rf "$OUT/state"
if [[ -z "$RUNTIME_CONFIG" && "$KV_WAL" == 1 ]]; then
  bash -c 'source scripts/lib.sh && kv_wal "$1"' _ "$OUT/state"
fi
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
    'code', 'SIM-' || lpad(g::text, 5, '0'), 'name', sp.name || ' 模拟柜 ' || g,
    'last_heartbeat_at_ms', NULL))).*
  FROM service_points sp, generate_series(1, $EXTRA_LOCKERS) g WHERE sp.code = '$first'"
psqlq -c "INSERT INTO locker_cells (point_code, cell_no, state, updated_at_ms)
  SELECT p.code, c, 'empty', 0 FROM service_points p, generate_series(1, 240) c
  WHERE p.code LIKE 'SIM-%' ORDER BY p.code, c"
psqlq -c "VACUUM ANALYZE"
lockers=$(psqlq -c "SELECT count(*) FROM service_points WHERE locker_generation IS NOT NULL")
echo "$lockers lockers, $(psqlq -c "SELECT count(*) FROM locker_cells") cells"

# A locker's first heartbeat reaches the database (it learns the cells);
# only the ones after it are steady. Unmeasured, every simulated locker
# beats once first, in passes over those that have not, so that the
# measured phase is the steady state whatever the rate (at 10,000 lockers
# a warm-up of seconds left Spin's whole run in first heartbeats).
say "first heartbeat of each simulated locker, not measured"
for _ in $(seq 1 40); do
  missing=$(psqlq -c "SELECT string_agg(code, ',' ORDER BY code) FROM service_points
    WHERE code LIKE 'SIM-%' AND last_heartbeat_at_ms IS NULL")
  [[ -z "$missing" ]] && break
  "$SIM_BIN" --url "$URL" --master-key "$MASTER" --interval 0 --lockers "$missing" \
    --concurrency "$CONC" --duration 5 >/dev/null
done
[[ -z "$missing" ]] || { echo "lockers without a first heartbeat after 40 passes" >&2; exit 1; }

# Heartbeats that reached the database: rows of service_points updated,
# read once the host has closed its connections (which flushes their
# statistics).
updated() { psqlq -c "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'service_points'"; }
stop_host
sleep 1
before=$(updated)
start_host
say "load: heartbeats from the simulator, $CONC in flight, ${WARMUP}s warm-up, ${DURATION}s"
sim_lockers=$(psqlq -c "SELECT string_agg(code, ',' ORDER BY code) FROM service_points WHERE code LIKE 'SIM-%'")
"$SIM_BIN" --url "$URL" --master-key "$MASTER" --interval 0 --lockers "$sim_lockers" \
  --concurrency "$CONC" --warmup "$WARMUP" --duration "$DURATION" | tee "$OUT/http.txt"
stop_host
sleep 1
echo "heartbeats that reached the database (warm-up and run, after every first one): $(( $(updated) - before ))" | tee -a "$OUT/http.txt"

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

if [[ -n "$RUNTIME_CONFIG" ]]; then
  # What a steady heartbeat asks of the store (locker::beat_cache::admit),
  # one command after another on each of CONC connections: the nonce's
  # INCR, GETs of the change token and the state, SET of the state (the
  # size a run leaves), and every PRUNE_AT-th heartbeat a DEL of 8 keys.
  # Its rate is 1 / (sum of 1 / each command's rate).
  say "redis-benchmark: a steady heartbeat's store commands, $CONC clients"
  # (head closes the pipe early: redis-cli's SIGPIPE is not a failure.)
  state_key=$(redis-cli --scan --pattern 'locker-beat/*' | head -1) || true
  state_bytes=$(redis-cli STRLEN "$state_key")
  value=$(head -c "${state_bytes:-400}" /dev/zero | tr '\0' x)
  n=$(( DURATION * 10000 ))
  rb() { redis-benchmark -q -c "$CONC" -n "$n" -r 100000000 "$@" | tr '\r' '\n' | grep -a 'requests per second' | tail -1; }
  {
    echo "INCR $(rb INCR bench-rb:nonce:__rand_int__)"
    echo "GET $(rb GET bench-rb:changed:__rand_int__)"
    echo "SET $(rb SET bench-rb:beat:__rand_int__ "$value")"
    echo "GET $(rb GET bench-rb:beat:__rand_int__)"
    echo "DEL $(rb DEL bench-rb:nonce:__rand_int__ bench-rb:nonce:__rand_int__ bench-rb:nonce:__rand_int__ \
      bench-rb:nonce:__rand_int__ bench-rb:nonce:__rand_int__ bench-rb:nonce:__rand_int__ \
      bench-rb:nonce:__rand_int__ bench-rb:nonce:__rand_int__)"
  } | tee "$OUT/redis.txt"
  redis-cli --scan --pattern 'bench-rb:*' | xargs -r -n 500 redis-cli DEL >/dev/null
  python3 - "$OUT" "${state_bytes:-400}" <<'PY' | tee -a "$OUT/ratio.txt"
import re, sys
rates = {}
for line in open(sys.argv[1] + "/redis.txt"):
    name, rest = line.split(" ", 1)
    rates.setdefault(name, []).append(float(re.search(r"([\d.]+) requests per second", rest).group(1)))
# INCR, GET, GET, SET each heartbeat; one DEL of 8 keys in 8 heartbeats.
cost = 1 / rates["INCR"][0] + sum(1 / r for r in rates["GET"]) + 1 / rates["SET"][0] + 1 / rates["DEL"][0] / 8
line = next(l for l in open(sys.argv[1] + "/http.txt") if l.startswith("RESULT"))
rate = float(re.search(r"rate=([\d.]+)", line).group(1))
print(f"RESULT redis_heartbeat_rate={1 / cost:.1f} state_bytes={sys.argv[2]}")
print(f"heartbeats/s through the host {rate:.1f} vs a steady heartbeat's Redis commands alone {1 / cost:.1f}: ratio {rate * cost:.3f}")
PY
fi
