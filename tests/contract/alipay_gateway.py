"""Alipay's open-platform gateway played by python-alipay-sdk.

The app's `alipay_origin` points here. Every request is checked the way
Alipay's own code checks it, not ours: the form must say its
`Content-Length` (no chunked body), and its `sign` must verify with our app
public key over the string python-alipay-sdk signs a request over
(`AliPay.sign_data`: every parameter but `sign`, `sign_type` included,
sorted, `k=v` joined by `&`). Answers are signed with Alipay's private key
by the SDK's signer, over the response member's text, as the SDK's
`_verify_and_return_sync_response` reads them. Notifications are signed the
way the SDK's `verify` checks them: every parameter but `sign` and
`sign_type`.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

from alipay import AliPay


def request_string(sdk, params):
    """What python-alipay-sdk signs for a request (`AliPay.sign_data`)."""
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    return "&".join("{}={}".format(k, v) for k, v in sdk._ordered_data(unsigned))


def old_rule_string(params):
    """What wangjie signed before issue 15: without `sign_type`. Only for
    showing that Alipay's side refuses it."""
    kept = sorted((k, v) for k, v in params.items() if k not in ("sign", "sign_type") and v != "")
    return "&".join("{}={}".format(k, v) for k, v in kept)


class Gateway:
    """The gateway and what it saw. `alipay` is the SDK as Alipay holds it:
    Alipay's private key signs, our app public key verifies."""

    def __init__(self, app_id, app_public_pem, alipay_private_pem):
        self.app_id = app_id
        self.alipay = AliPay(
            appid=app_id,
            app_notify_url=None,
            app_private_key_string=alipay_private_pem,
            alipay_public_key_string=app_public_pem,
            sign_type="RSA2",
        )
        self.users = {}  # auth_code -> user_id
        self.scores = {}  # user_id -> score
        self.tokens = {}  # access_token -> user_id
        self.requests = []  # (method, params, content_length, verified)
        self.refusal = None  # (sub_code, signed) to answer every call with
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return "http://127.0.0.1:{}".format(self.server.server_address[1])

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def add_user(self, auth_code, user_id, score=None):
        with self.lock:
            self.users[auth_code] = user_id
            if score is not None:
                self.scores[user_id] = score

    def calls(self, method):
        with self.lock:
            return [r for r in self.requests if r["method"] == method]

    def bad_requests(self):
        """Requests Alipay's side would have refused: chunked, or badly signed."""
        with self.lock:
            return [r for r in self.requests if not (r["verified"] and r["content_length"])]

    # Answers, signed as Alipay signs them.

    def signed_answer(self, member_name, member, signed=True):
        text = json.dumps(member, ensure_ascii=False, separators=(",", ":"))
        sign = self.alipay._sign(text) if signed else ""
        return '{{"{}":{},"sign":"{}"}}'.format(member_name, text, sign)

    def notification(self, params, key=None):
        """A notification's form body, `params` plus `sign_type` and `sign`,
        signed over every parameter but those two (`key`: another signer)."""
        data = dict(params)
        data["sign_type"] = "RSA2"
        signer = key or self.alipay
        unsigned = {k: v for k, v in data.items() if k not in ("sign", "sign_type")}
        content = "&".join("{}={}".format(k, v) for k, v in signer._ordered_data(unsigned))
        data["sign"] = signer._sign(content)
        return urlencode(data)

    def verify_request(self, params):
        signature = params.get("sign", "")
        if not signature or params.get("sign_type") != "RSA2":
            return False
        try:
            return self.alipay._verify(request_string(self.alipay, params), signature)
        except (ValueError, TypeError):
            return False

    def answer(self, params):
        """(status, body) for a verified request."""
        method = params.get("method", "")
        name = method.replace(".", "_") + "_response"
        with self.lock:
            refusal = self.refusal
        if refusal:
            sub_code, signed = refusal
            member = {"code": "40002", "msg": "Invalid Arguments", "sub_code": sub_code,
                      "sub_msg": "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"}
            return self.signed_answer("error_response", member, signed)
        if method == "alipay.system.oauth.token":
            with self.lock:
                user_id = self.users.get(params.get("code"))
                if user_id:
                    self.tokens["tok-" + user_id] = user_id
            if not user_id:
                member = {"code": "40002", "msg": "Invalid Arguments",
                          "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"}
                return self.signed_answer("error_response", member)
            member = {"user_id": user_id, "access_token": "tok-" + user_id, "expires_in": 1296000,
                      "refresh_token": "ref-" + user_id, "re_expires_in": 2592000}
            return self.signed_answer(name, member)
        if method in ("zhima.credit.score.get", "zhima.credit.score.brief.get"):
            with self.lock:
                user_id = self.tokens.get(params.get("auth_token"))
                score = self.scores.get(user_id)
            if score is None:
                member = {"code": "40004", "msg": "Business Failed",
                          "sub_code": "ZHIMA_NO_SCORE", "sub_msg": "无芝麻分"}
                return self.signed_answer(name, member)
            if method == "zhima.credit.score.get":
                member = {"code": "10000", "msg": "Success", "biz_no": "ZM-1", "zm_score": str(score)}
            else:
                threshold = json.loads(params.get("biz_content", "{}")).get("admittance_score")
                admitted = "Y" if threshold is not None and score >= threshold else "N"
                member = {"code": "10000", "msg": "Success", "biz_no": "ZM-2", "is_admittance": admitted}
            return self.signed_answer(name, member)
        if method == "alipay.open.app.mini.templatemessage.send":
            return self.signed_answer(name, {"code": "10000", "msg": "Success"})
        member = {"code": "40004", "msg": "Business Failed",
                  "sub_code": "isv.invalid-method", "sub_msg": "不存在的方法名"}
        return self.signed_answer("error_response", member)

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json;charset=utf-8"):
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = self.headers.get("Content-Length")
                if length is None:
                    # Chunked (or unframed): Alipay's gateway wants the length.
                    with gateway.lock:
                        gateway.requests.append({"method": "?", "params": {}, "verified": False,
                                                 "content_length": False,
                                                 "transfer_encoding": self.headers.get("Transfer-Encoding")})
                    self.close_connection = True
                    self._send(411, '{"error":"length required"}')
                    return
                body = self.rfile.read(int(length)).decode("utf-8")
                if self.path.split("?")[0] != "/gateway.do":
                    self._send(404, '{"error":"not found"}')
                    return
                params = dict(parse_qsl(body, keep_blank_values=True))
                verified = gateway.verify_request(params)
                with gateway.lock:
                    gateway.requests.append({"method": params.get("method", ""), "params": params,
                                             "verified": verified, "content_length": True})
                if not verified:
                    member = {"code": "40002", "msg": "Invalid Arguments",
                              "sub_code": "isv.invalid-signature",
                              "sub_msg": "验签出错，网关生成的验签字符串为：" + request_string(gateway.alipay, params)}
                    self._send(200, gateway.signed_answer("error_response", member))
                    return
                self._send(200, gateway.answer(params))

        return Handler
