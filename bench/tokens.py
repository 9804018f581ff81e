#!/usr/bin/env python3
"""Reader session tokens as shared/src/session.rs writes them
(v1.<claims>.<tag>), one per reader id of IDS_FILE, valid for a day, signed
with the app's session_key. For benchmarks that start the app themselves.

    bench/tokens.py SESSION_KEY IDS_FILE > tokens.txt
"""
import base64
import hashlib
import hmac
import json
import sys
import time

key, ids = sys.argv[1].encode(), [int(l) for l in open(sys.argv[2]) if l.strip()]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time() * 1000)
for rid in ids:
    claims = json.dumps({"rid": rid, "jti": f"bench{rid:027d}", "iat": now, "exp": now + 86400000})
    signed = "v1." + b64(claims.encode())
    print(signed + "." + b64(hmac.new(key, signed.encode(), hashlib.sha256).digest()))
