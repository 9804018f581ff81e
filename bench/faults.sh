#!/usr/bin/env bash
# Fault injection under load (issue 18, docs/reliability.md): the release
# local host serves orders (bench/faults.py, CONC in flight, retrying
# retryable answers with the same Idempotency-Key) and heartbeats with
# locker events (tools/locker-sim) while a dependency fails:
#
#   pg        PostgreSQL stopped for OUTAGE seconds, then started again
#   redis     the key-value store's Redis stopped for OUTAGE seconds
#   provider  every provider origin is a server that accepts and never
#             answers; credit checks run beside the orders
#
# Each phase then checks what the clients saw (bench/faults_check.py: no
# 500, no hang, 503 problem+json with retryable: true, recovery time) and
# what the database holds: no partial order, no copy promised twice, every
# order a client was told about stored once, every locker event answered
# and stored. Not a timed test. Exits 1 when a rule is broken.
#
#   bench/faults.sh [PHASE ...]        default: pg redis provider
#
# The PostgreSQL and Redis it stops are its own (a throwaway cluster on
# FAULT_PGPORT, a redis-server on FAULT_REDIS_PORT), never the machine's.
# Environment (defaults): CONC=8 SIM_CONC=8 OUTAGE=10 LEAD=8 TAIL=15
#   FAULT_PGPORT=5433 FAULT_REDIS_PORT=6380 HANG_PORT=3499 PORT=3400
#   PROVIDER_TIMEOUT_MS=1000 OUT=/tmp/wangjie-faults
#   HOST_BIN, SIM_BIN: binaries built elsewhere (unset: built here)
set -euo pipefail
cd "$(dirname "$0")/.."
PHASES=("${@:-pg redis provider}")
read -r -a PHASES <<<"${PHASES[*]}"
CONC="${CONC:-8}"
SIM_CONC="${SIM_CONC:-8}"
OUTAGE="${OUTAGE:-10}"
LEAD="${LEAD:-8}"
TAIL="${TAIL:-15}"
export PGPORT="${FAULT_PGPORT:-5433}"
REDIS_PORT="${FAULT_REDIS_PORT:-6380}"
HANG_PORT="${HANG_PORT:-3499}"
PORT="${PORT:-3400}"
PROVIDER_TIMEOUT_MS="${PROVIDER_TIMEOUT_MS:-1000}"
DB=wangjie_faults
OUT="${OUT:-/tmp/wangjie-faults}"
rm -rf "$OUT" && mkdir -p "$OUT"
source bench/lib.sh
export SPIN_VARIABLE_LOCKER_MASTER_KEY="faults-locker-master-$TOKEN-0123456789abcdef"
for limit in sign_in_per_ip_per_minute credit_checks_per_reader_per_hour credit_checks_per_ip_per_hour; do
  export "SPIN_VARIABLE_${limit^^}=0"
done
export SPIN_VARIABLE_PROVIDER_TIMEOUT_MS="$PROVIDER_TIMEOUT_MS"
failed=0

# --- the dependencies this script may stop ----------------------------------
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PGDATA="$OUT/pg"
pg_ctl_() { runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA" "$@"; }
pg_up() {
  pg_ctl_ -l "$OUT/pg.log" -w -o "-p $PGPORT -k $OUT/pgsock -c listen_addresses=127.0.0.1" start >/dev/null
}
pg_down() { pg_ctl_ -m fast -w stop >/dev/null; }
redis_up() {
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir "$OUT" --logfile "$OUT/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
}
redis_down() { redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; }
HANG_PID=""
cleanup() {
  stop_host
  [[ -n "$HANG_PID" ]] && kill "$HANG_PID" 2>/dev/null
  redis_down
  pg_ctl_ -m immediate -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "a throwaway PostgreSQL on $PGPORT and Redis on $REDIS_PORT"
mkdir -p "$PGDATA" "$OUT/pgsock" && touch "$OUT/pg.log"
chown postgres "$PGDATA" "$OUT/pgsock" "$OUT/pg.log" && chmod 755 "$OUT"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
pg_up
redis_up
cat >"$OUT/redis.toml" <<TOML
[key_value_store.default]
type = "redis"
url = "redis://127.0.0.1:$REDIS_PORT"
TOML
RUNTIME_CONFIG="$OUT/redis.toml"

build_release wangjie-locker-sim
SIM_BIN="${SIM_BIN:-target/release/wangjie-locker-sim}"
fresh_db
start_host
admin /admin/migrate >/dev/null
admin "/admin/demo?records=5000&readers=1000" >/dev/null
readers_ready 1000

# The rules every phase ends with, on the database as it was left.
check_database() {
  local rules; rules=$(database_rules "$@")
  echo "$rules" | tee -a "$OUT/$1.txt"
  echo "$rules" | awk -F': ' '!/never told/ && $2 != 0 { bad = 1 } END { exit bad }' || {
    echo "BROKEN $1: the database breaks a rule (above)"; failed=1; }
}
database_rules() {
  local phase=$1
  psqlq <<SQL
CREATE TEMP TABLE told (key TEXT PRIMARY KEY);
\\copy told FROM '$OUT/$phase.keys'
    SELECT 'orders without lines: ' || count(*) FROM orders o
      WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id);
    SELECT 'copies promised to two live lines: ' || count(*) FROM (SELECT copy_barcode FROM order_lines
      WHERE state IN ('promised', 'picked') GROUP BY copy_barcode HAVING count(*) > 1) x;
    SELECT 'promised lines whose copy is not set aside: ' || count(*) FROM order_lines l
      JOIN copies c ON c.barcode = l.copy_barcode WHERE l.state = 'promised' AND c.status <> 'promised';
    SELECT 'copies set aside for no line: ' || count(*) FROM copies c WHERE c.status = 'promised'
      AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.copy_barcode = c.barcode AND l.state = 'promised');
    SELECT 'keys a client was told were placed, missing: ' || count(*) FROM told t
      WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.idempotency_key = t.key);
    SELECT 'keys stored twice: ' || count(*) FROM (SELECT reader_id, idempotency_key FROM orders
      GROUP BY 1, 2 HAVING count(*) > 1) x;
    SELECT 'orders of this phase a client was never told about (placed, answer lost): ' || count(*)
      FROM orders o WHERE o.idempotency_key LIKE 'fault-%'
      AND NOT EXISTS (SELECT 1 FROM told t WHERE t.key = o.idempotency_key)
      AND o.created_at_ms >= $2;
SQL
}

# The events rule: every event the lockers made was answered, and the
# database holds each once.
check_events() {
  local phase=$1 sim=$2 recorded duplicate rejected unanswered stored
  read -r recorded duplicate rejected unanswered < <(sed -nE \
    's/^events: ([0-9]+) recorded, ([0-9]+) duplicate, ([0-9]+) rejected, ([0-9]+) unanswered.*/\1 \2 \3 \4/p' "$sim")
  stored=$(psqlq -c "SELECT count(*) FROM locker_events WHERE received_at_ms >= $3")
  echo "locker events: $recorded recorded, $duplicate duplicate, $rejected rejected as the lockers were told; $stored stored; $unanswered unanswered at the end" |
    tee -a "$OUT/$phase.txt"
  # An event stored while its answer was lost is sent again and answered
  # duplicate: stored lies between the first answers and all answers.
  if [[ "$unanswered" != 0 ]] || (( stored < recorded + rejected || stored > recorded + rejected + duplicate )); then
    echo "BROKEN $phase: locker events lost or stored twice"; failed=1
  fi
}

# One phase: orders and heartbeats for LEAD + OUTAGE + TAIL seconds, the
# fault from LEAD to LEAD + OUTAGE (the commands $2 and $3).
run_phase() {
  local phase=$1 break_it=$2 mend_it=$3 total=$((LEAD + OUTAGE + TAIL)) began_ms
  say "phase $phase: ${LEAD}s load, ${OUTAGE}s fault, ${TAIL}s recovery"
  began_ms=$(( $(date +%s) * 1000 ))
  python3 bench/faults.py "$URL" "$OUT/tokens.txt" "$OUT/records.txt" B001 "$CONC" "$total" \
    "$OUT/$phase.log" >"$OUT/$phase.orders" &
  local orders=$!
  # The lockers keep resending unanswered events after the load stops. A
  # seed of its own for each phase: event ids come from it.
  "$SIM_BIN" --url "$URL" --master-key "$SPIN_VARIABLE_LOCKER_MASTER_KEY" --interval 0.5 \
    --count 200 --concurrency "$SIM_CONC" --fault-pct 20 --duration "$total" \
    --seed "$began_ms" >"$OUT/$phase.sim" 2>&1 &
  local sim=$!
  sleep "$LEAD"
  local t0; t0=$(date +%s.%N)
  $break_it
  sleep "$OUTAGE"
  $mend_it
  local t1; t1=$(date +%s.%N)
  wait "$orders" || true
  wait "$sim" || true
  # On the load's own clock, which starts with it (give or take its start-up).
  local from=$LEAD to
  to=$(python3 -c "print($LEAD + $t1 - $t0)")
  { grep '^RESULT' "$OUT/$phase.orders"; grep -E '^(RESULT|events:|commands:)' "$OUT/$phase.sim"; } | tee "$OUT/$phase.txt"
  python3 bench/faults_check.py "$OUT/$phase.log" "$from" "$to" "$OUT/$phase.keys" | tee -a "$OUT/$phase.txt" ||
    { echo "BROKEN $phase: an answer broke the rules (above)"; failed=1; }
  check_database "$phase" "$began_ms"
  check_events "$phase" "$OUT/$phase.sim" "$began_ms"
}

# Readers past the orders' share, their decisions expired, so that each of
# their credit checks calls the provider.
set_aside_credit_readers() {
  local n; n=$(wc -l <"$OUT/tokens.txt")
  psqlq -c "UPDATE readers SET credit_valid_until_ms = 0 WHERE id IN (SELECT id FROM readers ORDER BY id DESC LIMIT 20)"
  tail -20 "$OUT/tokens.txt" >"$OUT/credit-tokens.txt"
  head -$((n - 20)) "$OUT/tokens.txt" >"$OUT/tokens.tmp" && mv "$OUT/tokens.tmp" "$OUT/tokens.txt"
}
CREDIT_PID=""
credit_checks_start() { credit_checks >"$OUT/provider.credit" & CREDIT_PID=$!; }
credit_checks_wait() { wait "$CREDIT_PID"; cat "$OUT/provider.credit"; }
credit_checks() {
  python3 - "$URL" "$OUT/credit-tokens.txt" "$OUTAGE" <<'PY'
import http.client, json, sys, threading, time
url, tokens, seconds = sys.argv[1], [l.strip() for l in open(sys.argv[2])], float(sys.argv[3])
host, port = url.split("//")[1].split(":")
answers, lock, deadline = [], threading.Lock(), time.monotonic() + seconds
def worker(token):
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        start = time.monotonic()
        try:
            conn.request("POST", "/api/me/credit", json.dumps({"source": "osmanthus", "auth_code": "faults-code-0001"}),
                         {"authorization": "Bearer " + token, "content-type": "application/json"})
            r = conn.getresponse(); body = r.read()
            problem = json.loads(body) if r.getheader("content-type", "").endswith("json") else {}
            got = (r.status, r.getheader("content-type", ""), problem.get("retryable"), problem.get("type"))
        except Exception as error:
            got = (0, type(error).__name__, None, None)
        with lock:
            answers.append((got, (time.monotonic() - start) * 1000))
threads = [threading.Thread(target=worker, args=(t,)) for t in tokens[:4]]
for t in threads: t.start()
for t in threads: t.join()
kinds = {}
for got, ms in answers:
    kinds.setdefault(got, []).append(ms)
for got, ms in sorted(kinds.items(), key=str):
    ms.sort()
    print(f"credit checks: {len(ms)} x {got[0]} {got[1]} retryable={got[2]} {got[3]}: "
          f"min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms")
PY
}

for phase in "${PHASES[@]}"; do
  case "$phase" in
    pg) run_phase pg pg_down pg_up ;;
    redis) run_phase redis redis_down redis_up ;;
    provider)
      # Accepts every connection and never answers.
      python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $HANG_PORT)); s.listen(512); held = []
while True:
    held.append(s.accept()[0])" &
      HANG_PID=$!
      for provider in alipay wechat osmanthus; do
        export "SPIN_VARIABLE_${provider^^}_ORIGIN=http://127.0.0.1:$HANG_PORT"
      done
      export SPIN_VARIABLE_OSMANTHUS_APP_ID=faults SPIN_VARIABLE_OSMANTHUS_SECRET=faults-secret
      start_host
      set_aside_credit_readers
      run_phase provider credit_checks_start credit_checks_wait
      ;;
    *) echo "unknown phase $phase (pg, redis, provider)" >&2; exit 2 ;;
  esac
done
say "done: $OUT/*.txt"
exit "$failed"
