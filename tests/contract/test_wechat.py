"""The app's official-account webhook against wechatpy: the URL handshake,
plain and safe-mode pushes made with wechatpy's signer and WeChatCrypto,
and our replies opened and parsed by wechatpy."""

import itertools
import time

import pytest
import requests
import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import TextMessage
from wechatpy.utils import WeChatSigner, check_signature

from conftest import ACCOUNT, OFFICIAL_APPID, WECHAT_TOKEN

_ids = itertools.count(int(time.time()) * 1000)

WELCOME = "欢迎关注网借"
NOT_SIGNED_IN = "还没有找到您的读者账号"
NOTHING_ON_LOAN = "您目前没有在借的图书。"


def signature(*parts):
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def fresh():
    return str(int(time.time())), str(next(_ids))


def text_push(sender, content):
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{next(_ids)}</MsgId></xml>"
    )


def subscribe_push(sender):
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{next(_ids) // 1000}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[subscribe]]></Event></xml>"
    )


class Account:
    """WeChat's side of one app's callback URL, in one mode."""

    def __init__(self, app, crypto=None):
        self.app = app
        self.crypto = crypto

    def call(self, method, params, body=None):
        if method == "GET":
            return self.app.get("/webhooks/wechat", params=params)
        return requests.post(self.app.url + "/webhooks/wechat", params=params,
                             data=body.encode("utf-8"), headers={"Content-Type": "text/xml"},
                             timeout=60)

    def push(self, xml):
        """Pushes `xml` as WeChat would in this mode; the reply as wechatpy
        reads it (a message object, or the literal "success")."""
        timestamp, nonce = fresh()
        params = {"signature": signature(WECHAT_TOKEN, timestamp, nonce),
                  "timestamp": timestamp, "nonce": nonce, "openid": "o-contract"}
        body = xml
        if self.crypto:
            sealed = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            params.update(encrypt_type="aes", msg_signature=sealed["MsgSignature"])
            body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>")
        answer = self.call("POST", params, body)
        assert answer.status_code == 200, answer.text
        if answer.text == "success":
            return "success"
        reply = answer.text
        if self.crypto:
            sealed = xmltodict.parse(reply)["xml"]
            reply = self.crypto.decrypt_message(
                reply, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"])
        return parse_message(reply)


@pytest.fixture(params=["plain", "safe"])
def account(request, encoding_aes_key):
    if request.param == "plain":
        return Account(request.getfixturevalue("app"))
    app = request.getfixturevalue("safe_app")
    return Account(app, WeChatCrypto(WECHAT_TOKEN, encoding_aes_key, OFFICIAL_APPID))


def test_the_url_handshake_echoes_echostr(account):
    timestamp, nonce = fresh()
    sign = signature(WECHAT_TOKEN, timestamp, nonce)
    check_signature(WECHAT_TOKEN, sign, timestamp, nonce)
    echo = account.call("GET", {"signature": sign, "timestamp": timestamp, "nonce": nonce,
                                "echostr": "contract-echo-42"})
    assert (echo.status_code, echo.text) == (200, "contract-echo-42")
    forged = account.call("GET", {"signature": signature("not the token", timestamp, nonce),
                                  "timestamp": timestamp, "nonce": nonce, "echostr": "x"})
    assert forged.status_code == 401


def test_a_text_push_gets_a_text_reply_wechatpy_reads(account):
    reply = account.push(text_push("o-contract-text", "帮助"))
    assert isinstance(reply, TextMessage)
    assert reply.source == ACCOUNT and reply.target == "o-contract-text"
    assert "我的借阅" in reply.content


def test_a_follow_gets_the_welcome(account):
    reply = account.push(subscribe_push(f"o-contract-follow-{next(_ids)}"))
    assert isinstance(reply, TextMessage)
    assert reply.content.startswith(WELCOME)


def test_my_loans_from_a_stranger_asks_to_sign_in_first(account):
    reply = account.push(text_push(f"o-contract-stranger-{next(_ids)}", "我的借阅"))
    assert isinstance(reply, TextMessage)
    assert reply.content.startswith(NOT_SIGNED_IN)


def test_my_loans_from_a_reader_lists_nothing_on_loan(account):
    # The fake WeChat's demo user: the mini-program sign-in gives its openid.
    signed_in = account.app.post("/api/session/wechat", json={"code": "demo-wechat-1"})
    assert signed_in.status_code in (200, 201), signed_in.text
    reply = account.push(text_push("o-demo-wechat-1", "我的借阅"))
    assert isinstance(reply, TextMessage)
    assert reply.content == NOTHING_ON_LOAN


def test_a_safe_mode_push_with_a_forged_signature_or_in_plain_is_refused(safe_app, encoding_aes_key):
    crypto = WeChatCrypto(WECHAT_TOKEN, encoding_aes_key, OFFICIAL_APPID)
    account = Account(safe_app, crypto)
    timestamp, nonce = fresh()
    sealed = xmltodict.parse(crypto.encrypt_message(text_push("o-x", "帮助"), nonce, timestamp))["xml"]
    params = {"signature": signature(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp,
              "nonce": nonce, "encrypt_type": "aes",
              "msg_signature": signature("not the token", timestamp, nonce, sealed["Encrypt"])}
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{sealed['Encrypt']}]]></Encrypt></xml>"
    assert account.call("POST", params, body).status_code == 401
    # A plain push to a safe-mode account: its signature covers no body.
    del params["encrypt_type"], params["msg_signature"]
    assert account.call("POST", params, text_push("o-x", "帮助")).status_code == 401
