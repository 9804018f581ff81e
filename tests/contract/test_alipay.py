"""The app against python-alipay-sdk: the gateway requests and order strings
it signs, the notifications it accepts or refuses, and what a reader sees
when Alipay refuses our own signature (issue 15)."""

import itertools
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from alipay import AliPay
from Cryptodome.PublicKey import RSA

from alipay_gateway import old_rule_string, request_string
from conftest import ALIPAY_APP_ID, KeyPair

_users = itertools.count(1)

OAUTH = "alipay.system.oauth.token"
SCORE = "zhima.credit.score.get"
ADMIT = "zhima.credit.score.brief.get"


def new_user(gateway, score):
    """A fresh Alipay user known to the gateway: (auth_code, user_id)."""
    n = next(_users)
    user_id = f"20880000420{n:05d}"
    code = f"contract-code-{n}"
    gateway.add_user(code, user_id, score)
    return code, user_id


def sign_in(app, gateway, score):
    code, user_id = new_user(gateway, score)
    answer = app.post("/api/session/alipay", json={"auth_code": code})
    assert answer.status_code in (200, 201), answer.text
    token = answer.json()["token"]
    credit = app.post("/api/me/credit", json={"source": "sesame", "auth_code": code}, token=token)
    assert credit.status_code == 200, credit.text
    return token


def order_params(order_str):
    return dict(parse_qsl(order_str, keep_blank_values=True))


def assert_order_string_verifies(order_str, app_keys, alipay_keys, gateway, amount):
    params = order_params(order_str)
    assert params["method"] == "alipay.trade.app.pay"
    assert params["sign_type"] == "RSA2"
    assert params["app_id"] == ALIPAY_APP_ID
    # Alipay's side checks it with our app public key, as the SDK signs it.
    assert gateway.alipay._verify(request_string(gateway.alipay, params), params["sign"])
    # And the SDK, holding our private key, signs the same parameters alike
    # (PKCS#1 v1.5 is deterministic): the same rule, byte for byte.
    ours = AliPay(appid=ALIPAY_APP_ID, app_notify_url=None,
                  app_private_key_string=app_keys.private_pem,
                  alipay_public_key_string=alipay_keys.public_pem, sign_type="RSA2")
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    assert order_params(ours.sign_data(unsigned))["sign"] == params["sign"]
    biz = json.loads(params["biz_content"])
    assert biz["total_amount"] == amount
    assert biz["product_code"] == "QUICK_MSECURITY_PAY"
    return biz


def notify(app, body):
    answer = app.post("/webhooks/alipay", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    return answer.status_code, answer.text


# Gateway requests.

def test_sign_in_is_signed_as_the_sdk_signs_a_request(app, gateway):
    before = len(gateway.calls(OAUTH))
    code, user_id = new_user(gateway, None)
    answer = app.post("/api/session/alipay", json={"auth_code": code})
    assert answer.status_code in (200, 201), answer.text
    calls = gateway.calls(OAUTH)[before:]
    assert calls and all(c["verified"] and c["content_length"] for c in calls)
    assert calls[-1]["params"]["code"] == code
    assert gateway.bad_requests() == []


def test_sesame_score_request_is_signed_as_the_sdk_signs_a_request(app, gateway):
    before = len(gateway.calls(SCORE))
    token = sign_in(app, gateway, 720)
    calls = gateway.calls(SCORE)[before:]
    assert len(calls) == 1 and calls[0]["verified"] and calls[0]["content_length"]
    assert json.loads(calls[0]["params"]["biz_content"])["product_code"] == "w1010100100000000001"
    me = app.get("/api/me/credit", token=token).json()
    assert me["may_borrow"] is True
    assert gateway.bad_requests() == []


def test_sesame_admit_request_is_signed_as_the_sdk_signs_a_request(safe_app, gateway):
    # The app with sesame_product = admit.
    before = len(gateway.calls(ADMIT))
    token = sign_in(safe_app, gateway, 650)
    calls = gateway.calls(ADMIT)[before:]
    assert len(calls) == 1 and calls[0]["verified"] and calls[0]["content_length"]
    biz = json.loads(calls[0]["params"]["biz_content"])
    assert biz["admittance_score"] == 600
    assert safe_app.get("/api/me/credit", token=token).json()["may_borrow"] is True
    assert gateway.bad_requests() == []


def test_a_request_signed_by_the_old_rule_would_be_refused_by_the_sdk(gateway, app_keys, alipay_keys):
    # What we sent before issue 15: the same parameters, signed without sign_type.
    ours = AliPay(appid=ALIPAY_APP_ID, app_notify_url=None,
                  app_private_key_string=app_keys.private_pem,
                  alipay_public_key_string=alipay_keys.public_pem, sign_type="RSA2")
    params = {"app_id": ALIPAY_APP_ID, "method": OAUTH, "charset": "utf-8", "format": "JSON",
              "sign_type": "RSA2", "timestamp": "2026-12-02 18:00:00", "version": "1.0",
              "grant_type": "authorization_code", "code": "c-1"}
    params["sign"] = ours._sign(old_rule_string(params))
    assert not gateway.verify_request(dict(params))
    params["sign"] = ours._sign(request_string(ours, params))
    assert gateway.verify_request(dict(params))


# Order strings.

@pytest.fixture
def deposit(app, gateway, app_keys, alipay_keys):
    """A reader short of credit with an open deposit: (token, out_trade_no)."""
    token = sign_in(app, gateway, 550)
    opened = app.post("/api/me/deposit", json={}, token=token)
    assert opened.status_code == 201, opened.text
    body = opened.json()
    biz = assert_order_string_verifies(body["order_str"], app_keys, alipay_keys, gateway, "100.00")
    assert biz["out_trade_no"] == body["deposit"]["out_trade_no"]
    assert order_params(body["order_str"])["notify_url"] == "https://wangjie.example/webhooks/alipay"
    return token, body["deposit"]["out_trade_no"]


def paid(out_trade_no, notify_id, amount="100.00", app_id=ALIPAY_APP_ID, **extra):
    params = {
        "notify_id": notify_id,
        "notify_type": "trade_status_sync",
        "notify_time": "2026-12-02 18:00:00",
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "out_trade_no": out_trade_no,
        "trade_no": "2026120222001" + out_trade_no,
        "trade_status": "TRADE_SUCCESS",
        "total_amount": amount,
    }
    params.update(extra)
    return params


def deposit_state(app, token):
    return app.get("/api/me/deposit", token=token).json()["state"]


def test_the_deposit_order_string_verifies_with_the_sdk(deposit):
    token, out_trade_no = deposit
    assert out_trade_no


def test_a_genuine_notification_is_accepted_once_and_answered_success(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(paid(out_trade_no, "contract-genuine-" + out_trade_no))
    assert notify(app, body) == (200, "success")
    assert deposit_state(app, token) == "paid"
    me = app.get("/api/me", token=token).json()
    assert me["standing"] == "deposit"


def test_a_replayed_notification_changes_nothing_and_is_answered_success(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(paid(out_trade_no, "contract-replay-" + out_trade_no))
    for _ in range(3):
        assert notify(app, body) == (200, "success")
    paid_at = app.get("/api/me", token=token).json()["deposit_paid_at_ms"]
    assert notify(app, body) == (200, "success")
    assert app.get("/api/me", token=token).json()["deposit_paid_at_ms"] == paid_at
    assert deposit_state(app, token) == "paid"


def test_a_tampered_notification_is_refused(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(paid(out_trade_no, "contract-tampered-" + out_trade_no))
    tampered = body.replace("TRADE_SUCCESS", "TRADE_FINISHED")
    assert tampered != body
    assert notify(app, tampered)[0] == 401
    assert deposit_state(app, token) == "awaiting_payment"


def test_a_notification_from_a_foreign_key_is_refused(app, gateway, deposit, app_keys):
    token, out_trade_no = deposit
    stranger = KeyPair()
    foreign = AliPay(appid=ALIPAY_APP_ID, app_notify_url=None,
                     app_private_key_string=stranger.private_pem,
                     alipay_public_key_string=app_keys.public_pem, sign_type="RSA2")
    body = gateway.notification(paid(out_trade_no, "contract-foreign-" + out_trade_no), key=foreign)
    assert notify(app, body)[0] == 401
    assert deposit_state(app, token) == "awaiting_payment"


def test_a_notification_signed_with_its_sign_type_is_refused(app, gateway, deposit):
    # The request rule applied to a notification: not what Alipay signs.
    token, out_trade_no = deposit
    params = paid(out_trade_no, "contract-request-rule-" + out_trade_no)
    params["sign_type"] = "RSA2"
    params["sign"] = gateway.alipay._sign(request_string(gateway.alipay, params))
    assert notify(app, urlencode(params))[0] == 401
    assert deposit_state(app, token) == "awaiting_payment"


def test_a_genuine_notification_for_another_app_is_refused(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(
        paid(out_trade_no, "contract-other-app-" + out_trade_no, app_id="2021999999999999"))
    assert notify(app, body)[0] == 403
    assert deposit_state(app, token) == "awaiting_payment"


def test_a_genuine_notification_for_the_wrong_amount_is_refused(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(paid(out_trade_no, "contract-cheap-" + out_trade_no, amount="0.01"))
    assert notify(app, body)[0] == 400
    assert deposit_state(app, token) == "awaiting_payment"
    # Nothing was recorded: the right amount under the same notify_id pays.
    body = gateway.notification(paid(out_trade_no, "contract-cheap-" + out_trade_no))
    assert notify(app, body) == (200, "success")
    assert deposit_state(app, token) == "paid"


def test_values_with_plus_percent_ampersand_and_equals_verify(app, gateway, deposit):
    token, out_trade_no = deposit
    body = gateway.notification(paid(
        out_trade_no, "contract-odd-" + out_trade_no,
        subject="网借 押金 a+b=c&d%20e",
        body="100% 押金 & more = less + tax",
        buyer_logon_id="reader+1@example.com",
        passback_params="k=v&x=%2B",
    ))
    assert "%2B" in body and "%26" in body and "%3D" in body and "%25" in body
    assert notify(app, body) == (200, "success")
    assert deposit_state(app, token) == "paid"


# The door-delivery fee.

CATALOGUE = (
    "record_id,isbn,title,responsibility,publisher,year,subjects,call_number,barcode,"
    "branch,copy_call_number\n"
    "CONTRACT-1,,契约测试之书,作者甲,测试出版社,2020,,I1/9,CT-1,B001,\n"
)


def test_the_door_fee_order_string_verifies_and_its_notification_pays(
        app, gateway, app_keys, alipay_keys):
    assert app.admin("POST", "/admin/demo?records=1&readers=0").status_code == 200
    imported = app.admin("POST", "/admin/catalogue/import?format=csv",
                         data=CATALOGUE.encode(), headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    hits = app.get("/api/search?title=契约测试之书").json()["hits"]
    token = sign_in(app, gateway, 720)
    placed = app.post(
        "/api/orders", token=token, headers={"Idempotency-Key": "contract-door-1"},
        json={"lines": [hits[0]["id"]],
              "fulfilment": {"kind": "door", "address": "杭州市西湖区文三路 1 号"}})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    amount = "{}.{:02d}".format(order["fee_fen"] // 100, order["fee_fen"] % 100)
    biz = assert_order_string_verifies(order["order_str"], app_keys, alipay_keys, gateway, amount)
    assert biz["out_trade_no"] == order["payment_ref"]
    body = gateway.notification(paid(order["payment_ref"], "contract-door-" + order["payment_ref"],
                                     amount=amount, subject="网借 送书上门"))
    assert notify(app, body) == (200, "success")
    assert notify(app, body) == (200, "success")


# The pickup notice, as a mini-program template message.

def test_the_template_message_request_is_signed_as_the_sdk_signs_a_request(app, gateway):
    send = "alipay.open.app.mini.templatemessage.send"
    assert app.admin("POST", "/admin/demo?records=1&readers=0").status_code == 200
    csv = CATALOGUE.replace("CONTRACT-1,,契约测试之书", "CONTRACT-2,,契约通知之书").replace("CT-1", "CT-2")
    imported = app.admin("POST", "/admin/catalogue/import?format=csv", data=csv.encode(),
                         headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    record = app.get("/api/search?title=契约通知之书").json()["hits"][0]["id"]
    token = sign_in(app, gateway, 720)
    placed = app.post("/api/orders", token=token, headers={"Idempotency-Key": "contract-notice-1"},
                      json={"lines": [record], "fulfilment": {"kind": "pickup", "point_code": "B001"}})
    assert placed.status_code == 201, placed.text
    order = placed.json()["id"]
    staff_id = app.admin("GET", "/admin/staff?point=B001").json()["staff"][0]["id"]
    staff = app.admin("POST", f"/admin/staff/{staff_id}/session").json()["token"]
    assert app.post("/api/staff/picks", token=staff, json={"barcode": "CT-2"}).status_code == 200
    app.post(f"/api/staff/orders/{order}/dispatch", token=staff, json={})
    arrived = app.post(f"/api/staff/orders/{order}/arrive", token=staff, json={})
    assert arrived.json()["state"] == "awaiting_pickup", arrived.text
    before = len(gateway.calls(send))
    sent = app.admin("POST", "/admin/jobs/send-notices?batch=20")
    assert sent.status_code == 200, sent.text
    assert sent.json()["sent"] >= 1, sent.text
    calls = gateway.calls(send)[before:]
    assert len(calls) == 1 and calls[0]["verified"] and calls[0]["content_length"]
    biz = json.loads(calls[0]["params"]["biz_content"])
    assert biz["user_template_id"] == "TPL-CONTRACT-READY"
    assert gateway.bad_requests() == []


# Our fault is ours.

@pytest.fixture
def refusing(gateway):
    """Makes the gateway refuse every call: set `gateway.refusal`."""
    yield gateway
    with gateway.lock:
        gateway.refusal = None


@pytest.mark.parametrize("sub_code,signed,variable", [
    ("isv.invalid-signature", True, "alipay_app_private_key"),
    ("isv.invalid-signature", False, "alipay_app_private_key"),
    ("isv.invalid-app-id", True, "alipay_app_id"),
    ("isv.insufficient-isv-permissions", True, "alipay_app_id"),
])
def test_a_gateway_refusing_our_credentials_gives_the_reader_a_5xx_not_a_400(
        app, refusing, sub_code, signed, variable):
    code, _ = new_user(refusing, 720)
    with refusing.lock:
        refusing.refusal = (sub_code, signed)
    answer = app.post("/api/session/alipay", json={"auth_code": code})
    assert 500 <= answer.status_code < 600, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/configuration"), problem
    assert variable in problem["detail"], problem
    # The gateway's message (it quotes what it checked) is the operator's.
    assert "验签" not in problem["detail"]
    assert sub_code in app.log()


def test_a_request_signed_with_a_key_alipay_does_not_know_gives_a_5xx(app, gateway):
    code, _ = new_user(gateway, 720)
    stranger = KeyPair()
    known = gateway.alipay._alipay_public_key
    gateway.alipay._alipay_public_key = RSA.importKey(stranger.public_pem)
    try:
        answer = app.post("/api/session/alipay", json={"auth_code": code})
    finally:
        gateway.alipay._alipay_public_key = known
        with gateway.lock:
            gateway.requests = [r for r in gateway.requests if r["verified"]]
    assert answer.status_code == 500, answer.text
    assert answer.json()["type"].endswith("/configuration")
    assert "isv.invalid-signature" in app.log()
