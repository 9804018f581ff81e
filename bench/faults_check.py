#!/usr/bin/env python3
"""Reads bench/faults.py's log against a fault window and says what the
clients saw: answers per phase (before, during, after the fault), every
non-2xx answer's status, content type and `retryable`, the slowest answer
of each phase, and how long after the dependency came back the first order
was placed. Writes the keys that were placed to KEYS_OUT, one per line,
for the database check.

    bench/faults_check.py LOG FAULT_FROM FAULT_TO KEYS_OUT

FAULT_FROM and FAULT_TO are seconds since the load began. Exits 1, saying
why, when an answer broke the rules: a 500 (or any 5xx but 503), a 503
that is not problem+json with `retryable: true`, or no answer within the
client's timeout (a hang); or when nothing was placed after the fault.
"""
import collections
import json
import sys

log, fault_from, fault_to, keys_out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = [json.loads(line) for line in open(log) if line.strip()]
phases = collections.OrderedDict((p, []) for p in ("before", "during", "after"))
for row in rows:
    phase = "before" if row["t"] < fault_from else "during" if row["t"] < fault_to else "after"
    phases[phase].append(row)

broken = []
for name, answers in phases.items():
    statuses = collections.Counter(r["status"] for r in answers)
    slowest = max((r["ms"] for r in answers), default=0)
    ms = sorted(r["ms"] for r in answers) or [0]
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    print(f"{name:>6}: {len(answers)} answers, statuses {dict(sorted(statuses.items()))}, "
          f"p99 {p99:.1f} ms, slowest {slowest:.1f} ms")
    for r in answers:
        status = r["status"]
        if status == 0:
            broken.append(f"no answer at t={r['t']} ({r['ms']:.0f} ms)")
        elif status >= 500 and (status != 503 or r["retryable"] is not True
                                or not r["ctype"].startswith("application/problem+json")):
            broken.append(f"{status} {r['ctype']} retryable={r['retryable']} at t={r['t']}")
    kinds = collections.Counter((r["status"], r["type"], r["retryable"])
                                for r in answers if r["status"] not in (200, 201))
    for (status, kind, retryable), n in sorted(kinds.items(), key=str):
        print(f"        {n} x {status} {kind} retryable={retryable}")

after = [r["t"] for r in phases["after"] if r["status"] in (200, 201)]
if after:
    print(f"first order placed {min(after) - fault_to:.2f} s after the dependency came back")
else:
    broken.append("no order was placed after the fault")
placed = sorted({r["key"] for r in rows if r["status"] in (200, 201)})
with open(keys_out, "w") as out:
    out.write("".join(k + "\n" for k in placed))
print(f"{len(placed)} keys placed by the clients' account")
for why in broken[:20]:
    print("BROKEN " + why)
sys.exit(1 if broken else 0)
