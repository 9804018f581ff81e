#!/usr/bin/env python3
"""Closed-loop order load for bench/faults.sh that keeps every answer.

CONC keep-alive connections place orders (one random title for pickup at
POINT) for DURATION seconds. A retryable answer (503 or 429 with
`retryable: true`) is retried with the *same* Idempotency-Key after a short
pause, as the reader's app does, so each key ends placed once or not at
all. Every answer is logged as a JSON line to LOG: seconds since the start,
status, latency, content type, the problem's `retryable` and `type`, the
key and, for a 201/200, the order id.

    bench/faults.py URL TOKENS_FILE RECORDS_FILE POINT CONC DURATION LOG

Prints one line (checked by bench/faults_check.py):
RESULT requests= placed= keys= abandoned= seconds=
"""
import http.client
import itertools
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit

url, tfile, rfile, point = sys.argv[1:5]
conc, duration, log_path = int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
parts = urlsplit(url)
if parts.hostname not in ("127.0.0.1", "localhost"):
    sys.exit("loopback only")
tokens = [line.strip() for line in open(tfile) if line.strip()]
records = [int(line) for line in open(rfile) if line.strip()]
counter = itertools.count()
lock = threading.Lock()
log = open(log_path, "w")
began = time.monotonic()
deadline = began + duration
run = f"{time.time_ns()}"
totals = {"requests": 0, "placed": 0, "keys": 0, "abandoned": 0}
# A request that gets no answer within this is a hang, logged as status 0.
TIMEOUT_S = 30


def connect():
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_S)


def answer(conn, body, headers):
    """One request: (status, content type, parsed body or None)."""
    conn.request("POST", "/api/orders", body, headers)
    response = conn.getresponse()
    raw = response.read()
    ctype = response.getheader("content-type", "")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return response.status, ctype, parsed


def worker(seed):
    rng = random.Random(seed)
    conn = connect()
    local = {"requests": 0, "placed": 0, "keys": 0, "abandoned": 0}
    lines = []
    while time.monotonic() < deadline:
        n = next(counter)
        key = f"fault-{run}-{n}"
        body = json.dumps({"lines": [rng.choice(records)],
                           "fulfilment": {"kind": "pickup", "point_code": point}})
        headers = {"authorization": "Bearer " + tokens[n % len(tokens)],
                   "content-type": "application/json", "idempotency-key": key}
        local["keys"] += 1
        while True:
            start = time.monotonic()
            try:
                status, ctype, parsed = answer(conn, body, headers)
            except (OSError, http.client.HTTPException) as error:
                status, ctype, parsed = 0, "", {"error": type(error).__name__}
                conn.close()
                conn = connect()
            latency = (time.monotonic() - start) * 1000
            local["requests"] += 1
            problem = parsed if isinstance(parsed, dict) else {}
            lines.append(json.dumps({
                "t": round(start - began, 3), "status": status, "ms": round(latency, 2),
                "ctype": ctype, "retryable": problem.get("retryable"),
                "type": problem.get("type"), "key": key,
                "order": problem.get("id") if status in (200, 201) else None}))
            if status in (200, 201):
                local["placed"] += 1
                break
            retry = status == 0 or problem.get("retryable") is True
            if not retry or time.monotonic() >= deadline:
                local["abandoned"] += retry
                break
            time.sleep(0.1)
    with lock:
        log.write("\n".join(lines) + ("\n" if lines else ""))
        for k, v in local.items():
            totals[k] += v


threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
log.close()
print("RESULT " + " ".join(f"{k}={v}" for k, v in totals.items())
      + f" seconds={time.monotonic() - began:.1f}")
