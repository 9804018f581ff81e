"""Our Rust fakes (`wangjie-fakes`) judged by the SDKs: what the SDKs send
is accepted, what they refuse is refused, and what the fakes answer the
SDKs read. The end-to-end tests run against these fakes for speed, so each
rule they check must be the SDK's."""

from urllib.parse import urlencode

import pytest
import requests
from alipay import AliPay
from alipay.exceptions import AliPayException
from wechatpy import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import WeChatClientException

from alipay_gateway import old_rule_string

FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}


@pytest.fixture(scope="module")
def sdk(fakes):
    """python-alipay-sdk holding our app key, as the fake's app knows it."""
    return AliPay(appid=fakes["alipay_app_id"], app_notify_url=None,
                  app_private_key_string=fakes["alipay_app_private_key"],
                  alipay_public_key_string=fakes["alipay_public_key"], sign_type="RSA2")


def gateway_post(fakes, body):
    return requests.post(fakes["alipay_origin"] + "/gateway.do", data=body.encode("utf-8"),
                         headers=FORM, timeout=30)


def oauth_request(sdk, code):
    return sdk.build_body("alipay.system.oauth.token", grant_type="authorization_code", code=code)


def test_the_fake_gateway_accepts_a_request_the_sdk_signed(fakes, sdk):
    body = sdk.sign_data(oauth_request(sdk, "demo-sesame-720"))
    answer = gateway_post(fakes, body)
    assert answer.status_code == 200
    # The SDK reads and verifies the fake's answer as it reads Alipay's.
    member = sdk._verify_and_return_sync_response(answer.text, "alipay_system_oauth_token_response")
    assert member["user_id"] == "2088000000000720"
    token = member["access_token"]
    body = sdk.sign_data(sdk.build_body(
        "zhima.credit.score.get", {"transaction_id": "t-1", "product_code": "w1010100100000000001"},
        auth_token=token))
    score = sdk._verify_and_return_sync_response(gateway_post(fakes, body).text,
                                                 "zhima_credit_score_get_response")
    assert score["zm_score"] == "720"


def test_the_fake_gateway_refuses_a_request_signed_by_the_old_rule(fakes, sdk):
    data = oauth_request(sdk, "demo-sesame-720")
    data["biz_content"] = "{}"
    data["sign"] = sdk._sign(old_rule_string(data))
    answer = gateway_post(fakes, urlencode(data))
    assert answer.status_code == 200
    with pytest.raises(AliPayException) as refused:
        sdk._verify_and_return_sync_response(answer.text, "alipay_system_oauth_token_response")
    assert "isv.invalid-signature" in str(refused.value)


def test_the_fake_gateway_wants_a_content_length(fakes, sdk):
    body = sdk.sign_data(oauth_request(sdk, "demo-sesame-720")).encode("utf-8")
    chunked = requests.post(fakes["alipay_origin"] + "/gateway.do", data=iter([body]),
                            headers=FORM, timeout=30)
    assert chunked.request.headers.get("Transfer-Encoding") == "chunked"
    assert chunked.status_code == 411


@pytest.fixture(scope="module")
def wechat(fakes):
    """wechatpy's API client with its API base URLs at the fake."""
    origin = fakes["wechat_origin"]

    class FakeWxa(WeChatWxa):
        API_BASE_URL = origin + "/"

    class FakeClient(WeChatClient):
        API_BASE_URL = origin + "/cgi-bin/"
        wxa = FakeWxa()

        def fetch_access_token(self):
            return self._fetch_access_token(
                url=origin + "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid,
                        "secret": self.secret})

    return FakeClient, fakes["wechat_appid"], fakes["wechat_secret"]


def test_the_fake_wechat_gives_wechatpy_an_access_token(wechat):
    client_type, appid, secret = wechat
    token = client_type(appid, secret).fetch_access_token()
    assert token["access_token"] and token["expires_in"] == 7200
    with pytest.raises(WeChatClientException) as refused:
        client_type(appid, "not-the-secret").fetch_access_token()
    assert refused.value.errcode == 40125


def test_the_fake_wechat_answers_wechatpys_jscode2session(wechat):
    client_type, appid, secret = wechat
    session = client_type(appid, secret).wxa.code_to_session("demo-wechat-1")
    assert session["openid"] == "o-demo-wechat-1"
    assert session["unionid"] == "u-demo-1"
    with pytest.raises(WeChatClientException) as refused:
        client_type(appid, secret).wxa.code_to_session("no-such-code")
    assert refused.value.errcode == 40029


def test_the_fake_wechat_takes_wechatpys_subscription_message(wechat):
    client_type, appid, secret = wechat
    client = client_type(appid, secret)
    sent = client.wxa.send_subscribe_message(
        "o-demo-wechat-1", "TEMPLATE-READY", {"thing1": {"value": "《契约测试之书》"}},
        page="pages/orders/index")
    assert sent["errcode"] == 0
