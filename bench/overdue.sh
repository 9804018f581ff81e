#!/usr/bin/env bash
# The overdue benchmark of issue 7 (docs/benchmarks.md): the loan jobs over
# LOANS active loans of which DUE are due soon or overdue, on PostgreSQL:
# the time to queue every reminder through the release local host
# (POST /admin/jobs/run?job=due_soon, then ?job=overdue), the same again
# (a re-run queues nothing), the whole cron run as the scheduler does it
# (`wangjie-host cron jobs`: every job, suspensions and statistics too), and
# beside them the reminders' INSERT ... SELECT run straight in psql as one
# statement per window, in the same run. Not a timed test.
#
#   bench/overdue.sh
#
# Environment (defaults):
#   LOANS=1000000  DUE=50000  READERS=100000  PORT=3400
#   DB=wangjie_overdue_bench  PGHOST=127.0.0.1  PGPORT=5432  PGUSER=postgres
#   OUT=/tmp/wangjie-overdue-bench
#   HOST_BIN=target/release/wangjie-host (set it to reuse a host built
#       elsewhere; unset, the release host is built here)
#
# Of the DUE loans, a fifth fall due within the next 3 days (due_soon) and
# the rest are 1 to 41 days overdue, spread evenly (overdue_1/2/3 at the
# default steps 1, 7, 14 days); every other loan is due in 10 to 40 days.
set -euo pipefail
cd "$(dirname "$0")/.."
LOANS="${LOANS:-1000000}"
DUE="${DUE:-50000}"
READERS="${READERS:-100000}"
PORT="${PORT:-3400}"
DB="${DB:-wangjie_overdue_bench}"
OUT="${OUT:-/tmp/wangjie-overdue-bench}"
source bench/lib.sh
# The cron run below is a process of its own: it reads the same variables.
export SPIN_VARIABLE_DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB?sslmode=disable" \
  SPIN_VARIABLE_PG_HOST="$PGHOST:$PGPORT" \
  SPIN_VARIABLE_ADMIN_TOKEN="$TOKEN" \
  SPIN_VARIABLE_SESSION_KEY="$SESSION_KEY"

build_release

fresh_db
start_host
admin /admin/migrate >/dev/null
admin "/admin/demo?records=2000&readers=1" >/dev/null

say "$READERS readers, $LOANS copies on loan, $LOANS open loans ($DUE due soon or overdue)"
now_ms=$(( $(date +%s) * 1000 ))
day=86400000
started=$(date +%s.%N)
psqlq <<SQL
INSERT INTO readers (id, alipay_user_id, wechat_openid, card_number, display_name, loan_quota,
    created_at_ms, updated_at_ms)
  SELECT 1000000 + g,
    CASE WHEN g % 3 = 1 THEN 'bench-alipay-' || g END,
    CASE WHEN g % 2 = 0 THEN 'bench-openid-' || g END,
    'BENCH' || lpad(g::text, 11, '0'), '读者' || g, 20, $now_ms, $now_ms
  FROM generate_series(1, $READERS) g;
INSERT INTO copies (barcode, record_id, home_point, current_point, call_number, status, updated_at_ms)
  SELECT 'BL' || lpad(g::text, 10, '0'), r.min_id + g % r.n, 'B001', NULL, 'I247/1', 'on_loan', $now_ms
  FROM generate_series(1, $LOANS) g, (SELECT min(id) AS min_id, count(*) AS n FROM records) r;
-- Every (LOANS / DUE)-th loan is due: a fifth of those within 3 days,
-- the others 1 to 41 days overdue; the rest due in 10 to 40 days.
INSERT INTO loans (copy_barcode, reader_id, started_at_ms, due_at_ms)
  SELECT 'BL' || lpad(g::text, 10, '0'), 1000000 + 1 + g % $READERS,
    due - 30 * $day::bigint, due
  FROM (SELECT g, CASE
      WHEN g % ($LOANS / $DUE) <> 0 THEN $now_ms + 10 * $day::bigint + (g * 7919) % (30 * $day::bigint)
      WHEN (g / ($LOANS / $DUE)) % 5 = 0 THEN $now_ms + 60000 + (g * 7919) % (3 * $day::bigint - 120000)
      ELSE $now_ms - $day::bigint - 60000 - (g * 7919) % (40 * $day::bigint)
    END AS due FROM generate_series(CAST(1 AS BIGINT), $LOANS) g) l;
VACUUM ANALYZE;
SQL
echo "generated in $(python3 -c "import time; print(round(time.time() - $started, 1))") s"

# The reminders every loan is owed now, at the default settings: due soon
# within 3 days, else the overdue step reached (1, 7, 14 days).
expected_due_soon=$(psqlq -c "SELECT count(*) FROM loans WHERE returned_at_ms IS NULL
  AND due_at_ms > $now_ms AND due_at_ms <= $now_ms + 3 * $day::bigint")
expected_overdue=$(psqlq -c "SELECT count(*) FROM loans WHERE returned_at_ms IS NULL
  AND due_at_ms <= $now_ms - $day::bigint")
echo "owed: $expected_due_soon due_soon, $expected_overdue overdue reminders"

# The host runs the jobs component every 10 minutes as well: keep the
# measurement clear of a tick (the dedup keys would keep it correct, not
# its timing).
to_tick=$(( 600 - $(date +%s) % 600 ))
if (( to_tick < 150 )); then
  echo "waiting ${to_tick}s for the cron tick to pass"
  sleep $(( to_tick + 20 ))
fi

timed() { # name, path
  curl -sS --fail-with-body -o "$OUT/$1.json" -w '%{time_total}' -X POST \
    -H "Authorization: Bearer $TOKEN" "$URL$2"
}
say "the loan jobs through the host"
: > "$OUT/result.txt"
for pass in first again; do
  t_soon=$(timed "due_soon-$pass" "/admin/jobs/run?job=due_soon")
  t_over=$(timed "overdue-$pass" "/admin/jobs/run?job=overdue")
  q_soon=$(python3 -c "import json; print(json.load(open('$OUT/due_soon-$pass.json'))['due_soon'])")
  q_over=$(python3 -c "import json; print(json.load(open('$OUT/overdue-$pass.json'))['overdue'])")
  echo "RESULT pass=$pass due_soon_s=$t_soon due_soon_queued=$q_soon overdue_s=$t_over overdue_queued=$q_over total_s=$(python3 -c "print(round($t_soon + $t_over, 3))")" | tee -a "$OUT/result.txt"
done
queued=$(psqlq -c "SELECT count(*) FROM notices WHERE kind IN ('due_soon', 'overdue_1', 'overdue_2', 'overdue_3')")
echo "notices queued: $queued, owed $(( expected_due_soon + expected_overdue ))" | tee -a "$OUT/result.txt"
if (( queued != expected_due_soon + expected_overdue )); then
  echo "MISMATCH: the jobs queued $queued reminders, $(( expected_due_soon + expected_overdue )) were owed" >&2
  exit 1
fi

say "the same reminders straight in psql, one INSERT ... SELECT per window"
psqlq -c "DELETE FROM notices"
python3 - "$now_ms" "$day" > "$OUT/direct.sql" <<'PY'
# The statement of shared/src/jobs/loans.rs (SQL_QUEUE_BATCH) over each
# whole window at once, without the batch cursor.
import sys
now, day = int(sys.argv[1]), int(sys.argv[2])
windows = [("due_soon", now, now + 3 * day), ("overdue_1", now - 7 * day, now - day),
           ("overdue_2", now - 14 * day, now - 7 * day), ("overdue_3", -2**62, now - 14 * day)]
print("\\timing on")
for kind, after, until in windows:
    print(f"""INSERT INTO notices (reader_id, kind, channel, dedup_key, subject_kind, subject_id, payload,
  state, next_attempt_at_ms, created_at_ms, updated_at_ms)
SELECT l.reader_id, '{kind}', CASE WHEN r.wechat_openid IS NOT NULL THEN 'wechat'
    WHEN r.alipay_user_id IS NOT NULL THEN 'alipay' ELSE 'sms' END,
  '{kind}:loan:' || l.id || ':' || l.due_at_ms, 'loan', CAST(l.id AS TEXT),
  '{{"loan_id":' || l.id || ',"copy":"' || l.copy_barcode || '","due_at_ms":' || l.due_at_ms || '}}',
  'queued', {now}, {now}, {now}
FROM loans l JOIN readers r ON r.id = l.reader_id
WHERE l.returned_at_ms IS NULL AND l.due_at_ms > {after} AND l.due_at_ms <= {until}
ON CONFLICT DO NOTHING;""")
PY
psql -X -v ON_ERROR_STOP=1 -d "$DB" -f "$OUT/direct.sql" > "$OUT/direct.txt"
direct_ms=$(grep -o 'Time: [0-9.]*' "$OUT/direct.txt" | awk '{s += $2} END {printf "%.1f", s}')
direct_n=$(psqlq -c "SELECT count(*) FROM notices")
echo "RESULT direct_sql_ms=$direct_ms queued=$direct_n" | tee -a "$OUT/result.txt"

say "the whole cron run (every job), as the scheduler runs it"
psqlq -c "DELETE FROM notices"
cron_started=$(date +%s.%N)
"$HOST_BIN" cron -f spin.toml --state-dir "$OUT/state-cron" jobs > "$OUT/cron.log" 2>&1
cron_s=$(python3 -c "import time; print(round(time.time() - $cron_started, 2))")
cron_n=$(psqlq -c "SELECT count(*) FROM notices WHERE kind IN ('due_soon', 'overdue_1', 'overdue_2', 'overdue_3')")
suspended=$(psqlq -c "SELECT count(*) FROM readers WHERE status = 'suspended'")
echo "RESULT cron_all_s=$cron_s reminders=$cron_n suspended=$suspended" | tee -a "$OUT/result.txt"

python3 - "$OUT" <<'PY' | tee "$OUT/ratio.txt"
import re, sys
text = open(sys.argv[1] + "/result.txt").read()
first = dict(re.findall(r"(\w+)=([\d.]+)", text.splitlines()[0]))
direct = float(re.search(r"direct_sql_ms=([\d.]+)", text).group(1)) / 1000
total = float(first["total_s"])
print(f"reminders queued through the host in {total:.2f} s vs one statement per window in psql "
      f"{direct:.2f} s: ratio {total / direct:.2f}")
PY
