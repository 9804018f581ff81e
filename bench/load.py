#!/usr/bin/env python3
"""A closed-loop HTTP load generator: CONC keep-alive connections, each
sending the next query of the mix as soon as its previous answer is read,
for DURATION seconds; raw per-request latencies (no coordinated-omission
correction, unlike wrk's, so they compare with pgbench's log).

    bench/load.py URL QUERIES_FILE CONC DURATION   (URL: http://127.0.0.1:PORT)

Prints one line:
RESULT requests= errors= non2xx= seconds= rps= p50= p95= p99= max=  (ms)
"""
import http.client
import itertools
import sys
import threading
import time
from urllib.parse import urlsplit

url, qfile, conc, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
parts = urlsplit(url)
if parts.hostname not in ("127.0.0.1", "localhost"):
    sys.exit("loopback only")
paths = ["/api/search?" + line.strip() for line in open(qfile, encoding="utf-8") if line.strip()]
counter = itertools.count()
lock = threading.Lock()
latencies, errors, non2xx = [], [0], [0]
deadline = time.monotonic() + duration


def worker():
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    mine, errs, bad = [], 0, 0
    while time.monotonic() < deadline:
        path = paths[next(counter) % len(paths)]
        start = time.perf_counter()
        try:
            conn.request("GET", path)
            response = response_ = conn.getresponse()
            response_.read()
            mine.append((time.perf_counter() - start) * 1000)
            if not 200 <= response.status < 300:
                bad += 1
        except (OSError, http.client.HTTPException):
            errs += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    with lock:
        latencies.extend(mine)
        errors[0] += errs
        non2xx[0] += bad


began = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - began
t = sorted(latencies)
n = len(t)
if n == 0:
    sys.exit("no answers")
pick = lambda q: t[min(n - 1, int(n * q))]
print("RESULT requests=%d errors=%d non2xx=%d seconds=%.2f rps=%.1f p50=%.2f p95=%.2f p99=%.2f max=%.2f mean=%.2f"
      % (n, errors[0], non2xx[0], elapsed, n / elapsed, pick(.50), pick(.95), pick(.99), t[-1], sum(t) / n))
