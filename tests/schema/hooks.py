"""schemathesis hooks of the schema suite (tests/schema/schemathesis.toml).

- Locker requests are signed as a locker signs them
  (docs/locker-protocol.md): schemathesis puts the placeholder `sign-me`
  in `X-Locker-Signature` (auth.openapi.lockerSignature), and the request,
  once its body bytes are final, gets the HMAC-SHA256 of the canonical
  string with the locker's secret, derived from the master key. A
  timestamp and a nonce that fit their patterns are made current and
  fresh first, so that valid requests get past the replay checks; headers
  generated to break the rules (negative cases) are sent as generated. Where
  schemathesis drops the signature (the ignored-auth check, a missing
  header), nothing is added.
- Signing out revokes the token it is called with: `DELETE /api/session`
  and `DELETE /api/staff/session` get a token of their own, signed in
  for that one request, so the suite's reader and staff stay signed in.
"""

import hashlib
import hmac
import os
import re
import secrets
import time

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation

URL = os.environ["WANGJIE_URL"]
ADMIN_TOKEN = os.environ["WANGJIE_ADMIN_TOKEN"]
READER_TOKEN = os.environ["WANGJIE_READER_TOKEN"]
STAFF_TOKEN = os.environ["WANGJIE_STAFF_TOKEN"]
STAFF_NO = os.environ["WANGJIE_STAFF_NO"]
MASTER_KEY = os.environ["WANGJIE_LOCKER_MASTER_KEY"]
PLACEHOLDER = "sign-me"
TIMESTAMP = re.compile(r"^[1-9][0-9]{0,17}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
LOCKER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def locker_secret(locker_id):
    return hmac.new(MASTER_KEY.encode(), f"wangjie-locker:{locker_id}".encode(),
                    hashlib.sha256).hexdigest()


class LockerSignature(requests.auth.AuthBase):
    """Signs a prepared request whose signature is the placeholder; with
    `refresh`, first makes the timestamp current and the nonce fresh."""

    def __init__(self, refresh):
        self.refresh = refresh

    def __call__(self, request):
        headers = request.headers
        if headers.get("X-Locker-Signature") != PLACEHOLDER:
            return request
        if self.refresh and TIMESTAMP.match(headers.get("X-Locker-Timestamp", "")):
            headers["X-Locker-Timestamp"] = str(int(time.time() * 1000))
        if self.refresh and NONCE.match(headers.get("X-Locker-Nonce", "")):
            headers["X-Locker-Nonce"] = secrets.token_hex(16)
        locker_id = headers.get("X-Locker-Id", "")
        if not LOCKER_ID.match(locker_id):
            # Signed with some secret all the same: the id is what is wrong.
            locker_id = "none"
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        canonical = "\n".join([
            "WJL1",
            request.method.upper(),
            request.path_url,
            headers.get("X-Locker-Timestamp", ""),
            headers.get("X-Locker-Nonce", ""),
            hashlib.sha256(body).hexdigest(),
        ])
        headers["X-Locker-Signature"] = hmac.new(
            locker_secret(locker_id).encode(), canonical.encode(), hashlib.sha256).hexdigest()
        return request


def fresh_reader_token():
    answer = requests.post(URL + "/api/session/alipay", json={"auth_code": "demo-sesame-720"},
                           timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


def fresh_staff_token():
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    staff = requests.get(URL + "/admin/staff", params={"point": "B001"}, headers=admin, timeout=30)
    staff.raise_for_status()
    member = next(s for s in staff.json()["staff"] if s["staff_no"] == STAFF_NO)
    answer = requests.post(URL + f"/admin/staff/{member['id']}/session", headers=admin, timeout=30)
    answer.raise_for_status()
    return answer.json()["token"]


SIGN_OUT = {
    ("DELETE", "/api/session"): {READER_TOKEN: fresh_reader_token, STAFF_TOKEN: fresh_staff_token},
    ("DELETE", "/api/staff/session"): {STAFF_TOKEN: fresh_staff_token},
}


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.path.startswith("/api/lockers/") and case.path != "/api/lockers/{id}/pickups":
        # Headers generated to break the rules are sent as generated.
        negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
        kwargs["auth"] = LockerSignature(refresh=not negative)
    swaps = SIGN_OUT.get((case.method.upper(), case.path))
    if swaps and case.headers:
        for name, value in list(case.headers.items()):
            if name.lower() == "authorization" and isinstance(value, str):
                scheme, _, token = value.partition(" ")
                if token in swaps:
                    case.headers[name] = f"{scheme} {swaps[token]()}"
