# Shared by the bench/*.sh scripts: the local PostgreSQL, a fresh database,
# the release host started on it (stopped on exit), the admin calls, and
# pgbench's per-transaction log summed up. Source it after setting DB, PORT
# and OUT; HOST_BIN picks the host binary (default: the release build,
# which the caller builds when HOST_BIN is unset).
# shellcheck shell=bash

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
URL="http://127.0.0.1:$PORT"
TOKEN="bench-$(date +%s)-$$"
SESSION_KEY="bench-session-key-$TOKEN-0123456789abcdef"
mkdir -p "$OUT"

say() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
psqlq() { psql -X -v ON_ERROR_STOP=1 -Atq -d "$DB" "$@"; }
admin() { curl -sS --fail-with-body -X POST -H "Authorization: Bearer $TOKEN" "$URL$1"; echo; }

# Builds the release host and any other release binaries named, unless
# HOST_BIN is set (a host built elsewhere, and the caller's other *_BIN),
# then the components, which the host loads all of.
build_release() {
  say "building (release): host${*:+, $*} and components"
  if [[ -z "${HOST_BIN:-}" ]]; then
    cargo build --release -p wangjie-host "${@/#/--package=}"
  else
    # A host given from elsewhere: the tools beside it are still built
    # here when this tree lacks them, rather than failing mid-run.
    local missing=() package
    for package in "$@"; do
      [[ -x "target/release/$package" ]] || missing+=("--package=$package")
    done
    if ((${#missing[@]})); then cargo build --release "${missing[@]}"; fi
  fi
  HOST_BIN="${HOST_BIN:-target/release/wangjie-host}"
  bash -c 'source scripts/lib.sh && build_components'
}

fresh_db() {
  say "fresh database $DB"
  dropdb --if-exists --force "$DB"
  createdb "$DB"
}

HOST_PID=""
# The runtime runs in a session of its own (setsid), and the whole group
# goes: `spin up` starts its HTTP trigger as a child process that would
# outlive it and keep the port.
stop_host() {
  if [[ -n "$HOST_PID" ]]; then
    kill -- "-$HOST_PID" 2>/dev/null || kill "$HOST_PID" 2>/dev/null || true
    wait "$HOST_PID" 2>/dev/null || true
    HOST_PID=""
  fi
}
trap stop_host EXIT

# Starts the host on $DB with the bench's admin token and session key (and
# any other SPIN_VARIABLE_* the caller exported), and the runtime config
# file $RUNTIME_CONFIG if set; returns once it answers.
start_host() {
  stop_host
  SPIN_VARIABLE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable" \
    SPIN_VARIABLE_PG_HOST="$PGHOST:$PGPORT" \
    SPIN_VARIABLE_ADMIN_TOKEN="$TOKEN" \
    SPIN_VARIABLE_SESSION_KEY="$SESSION_KEY" \
    setsid "${HOST_BIN:-target/release/wangjie-host}" up -f spin.toml --listen "127.0.0.1:$PORT" \
    --state-dir "$OUT/state" ${RUNTIME_CONFIG:+--runtime-config-file "$RUNTIME_CONFIG"} \
    >>"$OUT/host.log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 600); do
    # Any answer will do: health is 503 until the schema is migrated.
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/health" || true)" != 000 ]] && return 0
    kill -0 "$HOST_PID" 2>/dev/null || { echo "host exited; see $OUT/host.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "host did not answer in 120 s" >&2
  exit 1
}

# One line from pgbench's per-transaction logs in $OUT (pgbench_log.*) and
# its summary ($OUT/pgbench.txt): transactions, tps, p50/p95/p99 in ms.
pgbench_result() {
  python3 - "$OUT" <<'PY'
import glob, sys
lat = sorted(int(l.split()[2]) / 1000 for f in glob.glob(sys.argv[1] + "/pgbench_log.*") for l in open(f))
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
tps = [l for l in open(sys.argv[1] + "/pgbench.txt") if l.startswith("tps")]
print(f"RESULT transactions={len(lat)} {tps[0].strip() if tps else ''} p50={q(.5):.2f} p95={q(.95):.2f} p99={q(.99):.2f}")
PY
}

# Every reader of $DB may borrow QUOTA books (a virtual card for a day);
# their ids, a session token each and the titles with a copy on a shelf go
# to $OUT/readers.txt, tokens.txt and records.txt, for an order load.
readers_ready() {
  local now_ms=$(( $(date +%s) * 1000 ))
  psqlq -c "UPDATE readers SET standing = 'osmanthus_virtual_card', credit_source = 'osmanthus',
    credit_decided_at_ms = $now_ms, credit_valid_until_ms = $now_ms + 86400000,
    loan_quota = $1, status = 'active'"
  psqlq -c "SELECT id FROM readers ORDER BY id" >"$OUT/readers.txt"
  python3 bench/tokens.py "$SESSION_KEY" "$OUT/readers.txt" >"$OUT/tokens.txt"
  psqlq -c "SELECT DISTINCT record_id FROM copies WHERE status = 'on_shelf' ORDER BY 1" >"$OUT/records.txt"
}
