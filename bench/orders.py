#!/usr/bin/env python3
"""Closed-loop load of POST /api/orders: CONC keep-alive connections, each
placing the next order as soon as its previous answer is read, for
DURATION seconds; each order is one random title for pickup at POINT, by
the next reader in turn, with a fresh Idempotency-Key. Raw per-request
latencies, comparable with pgbench's log.

    bench/orders.py URL TOKENS_FILE RECORDS_FILE POINT CONC DURATION

Prints one line:
RESULT requests= errors= created= conflicts= other= seconds= rps= p50= p95= p99= max=  (ms)
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
conc, duration = int(sys.argv[5]), float(sys.argv[6])
parts = urlsplit(url)
if parts.hostname not in ("127.0.0.1", "localhost"):
    sys.exit("loopback only")
tokens = [line.strip() for line in open(tfile) if line.strip()]
records = [int(line) for line in open(rfile) if line.strip()]
counter = itertools.count()
lock = threading.Lock()
latencies, counts = [], {"errors": 0, "created": 0, "conflicts": 0, "other": 0}
deadline = time.monotonic() + duration
run = f"{time.time_ns()}"


def worker(seed):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    mine, local = [], {"errors": 0, "created": 0, "conflicts": 0, "other": 0}
    while time.monotonic() < deadline:
        n = next(counter)
        body = json.dumps({"lines": [rng.choice(records)],
                           "fulfilment": {"kind": "pickup", "point_code": point}})
        headers = {"authorization": "Bearer " + tokens[n % len(tokens)],
                   "content-type": "application/json",
                   "idempotency-key": f"bench-{run}-{n}"}
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/orders", body, headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - start) * 1000)
            key = {201: "created", 409: "conflicts"}.get(response.status, "other")
            local[key] += 1
        except (OSError, http.client.HTTPException):
            local["errors"] += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    with lock:
        latencies.extend(mine)
        for k, v in local.items():
            counts[k] += v


began = time.monotonic()
threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - began
t = sorted(latencies) or [0.0]
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"RESULT requests={len(latencies)} errors={counts['errors']} created={counts['created']} "
      f"conflicts={counts['conflicts']} other={counts['other']} seconds={elapsed:.1f} "
      f"rps={len(latencies) / elapsed:.1f} p50={q(0.50):.2f} p95={q(0.95):.2f} "
      f"p99={q(0.99):.2f} max={t[-1]:.2f}")
