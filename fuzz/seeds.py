#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<target>/, from the examples of the
unit tests and docs (the worked locker example, WeChat's published sample,
the tests' MARC, MARCXML and CSV). Run it again after changing an example;
the fuzzer's own finds are never written here (scripts/fuzz keeps them under
fuzz/target/corpus/)."""

import base64
import hashlib
import hmac
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    path = ROOT / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def lines(*fields, body=b""):
    head = "".join(f"{f}\n" for f in fields).encode()
    return head + (body if isinstance(body, bytes) else body.encode())


# --- MARC ISO 2709 (shared/src/catalogue/marc.rs tests, tests/e2e/import.rs)
def marc(control, fields):
    directory, data = b"", b""
    for tag, value in control:
        value = value.encode() + b"\x1e"
        directory += f"{tag}{len(value):04}{len(data):05}".encode()
        data += value
    for tag, subs in fields:
        value = b"  " + b"".join(b"\x1f" + c.encode() + v.encode() for c, v in subs) + b"\x1e"
        directory += f"{tag}{len(value):04}{len(data):05}".encode()
        data += value
    directory += b"\x1e"
    data += b"\x1d"
    base = 24 + len(directory)
    return f"{base + len(data):05}nam a22{base:05}   4500".encode() + directory + data


santi = marc(
    [("001", "CN0001")],
    [
        ("010", [("a", "978-7-5366-9293-0")]),
        ("101", [("a", "chi")]),
        ("200", [("a", "三体"), ("f", "刘慈欣著")]),
        ("210", [("c", "重庆出版社"), ("d", "2008")]),
        ("606", [("a", "科学幻想小说")]),
        ("690", [("a", "I247.5")]),
        ("905", [("b", "B0001"), ("c", "BR01"), ("d", "I247.5"), ("e", "1")]),
    ],
)
huozhe = marc([("001", "X")], [("200", [("a", "活着")]), ("701", [("a", "余华")])])
volume = marc(
    [("001", "CN0002")],
    [
        ("200", [("a", "平凡的世界"), ("h", "第2部")]),
        ("461", [("a", "平凡的世界")]),
        ("905", [("b", "B2"), ("c", "B001"), ("d", "I247.5")]),
    ],
)
broken = b"00099" + santi[5:]
write("marc", "santi.mrc", santi)
write("marc", "huozhe-701.mrc", huozhe)
write("marc", "set-volume.mrc", volume)
write("marc", "batch-crlf.mrc", santi + b"\r\n" + huozhe + b"\n")
write("marc", "broken-leader-then-good.mrc", broken + santi)

# --- MARCXML (shared/src/catalogue/marcxml.rs tests)
two = """<?xml version="1.0" encoding="UTF-8"?>
<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim">
<marc:record><marc:leader>00000nam a2200000   4500</marc:leader>
<marc:controlfield tag="001">CN1</marc:controlfield>
<marc:datafield tag="010" ind1=" " ind2=" "><marc:subfield code="a">7536692935</marc:subfield></marc:datafield>
<marc:datafield tag="200" ind1="1" ind2=" "><marc:subfield code="a">三体 &amp; 续</marc:subfield><marc:subfield code="f">刘慈欣</marc:subfield></marc:datafield>
<marc:datafield tag="905" ind1=" " ind2=" "><marc:subfield code="b">B1</marc:subfield><marc:subfield code="c">BR01</marc:subfield><marc:subfield code="d">I247.5</marc:subfield></marc:datafield>
</marc:record>
<marc:record><marc:controlfield tag="001">CN2</marc:controlfield></marc:record>
</marc:collection>"""
write("marcxml", "two-records.xml", two)
write(
    "marcxml",
    "no-prefix-cdata.xml",
    '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
    '<controlfield tag="001">CN3</controlfield>'
    '<datafield tag="200"><subfield code="a"><![CDATA[活着]]></subfield>'
    '<subfield code="f">余华 &#x8457;</subfield></datafield>'
    '<datafield tag="210"><subfield code="d">[1993]</subfield></datafield>'
    '<datafield tag="905"><subfield code="b">B9</subfield><subfield code="c">B001</subfield>'
    '<subfield code="d">I247</subfield><subfield code="e">2</subfield></datafield>'
    "</record></collection>",
)
write(
    "marcxml",
    "not-well-formed.xml",
    '<collection><record><controlfield tag="001">X</oops></record></collection>',
)

# --- CSV (shared/src/catalogue/csv.rs tests)
header = "record_id,isbn,title,responsibility,publisher,year,barcode,branch,copy_call_number\n"
write(
    "csv",
    "two-copies.csv",
    header
    + "R1,978-7-5366-9293-0,三体,刘慈欣著,重庆出版社,2008.1,B1,BR01,I247.5/1\n"
    + "R1,,,,,,B2,BR02,I247.5/1\n",
)
write("csv", "bad-isbn.csv", header + "R1,9787536692931,三体,,,,,,\nR2,,活着,余华,,1993,,,\n")
write(
    "csv",
    "rfid.csv",
    "record_id,title,call_number,barcode,branch,rfid\n"
    "R1,三体,I247/1,B1,BR01,E2801160600002084A4B3C21\n"
    "R2,活着,I247/2,B2,BR01,\n"
    'R3,"平凡的世界, 第1部",I247/3,B3,BR01,bad tag\n',
)
write(
    "csv",
    "all-columns-bom.csv",
    "\ufeffrecord_id,isbn,title,responsibility,publisher,year,language,subjects,call_number,"
    "set_key,volume,barcode,branch,copy_call_number,rfid\r\n"
    'S1,7536692935,平凡的世界,路遥,北京十月文艺出版社,c2012,chi,"小说;当代",I247.5/2,'
    "PFDSJ,2,B7,B001,,\r\n",
)

# --- Locker protocol bodies (shared/src/locker/messages.rs, events.rs tests)
now = 1_764_331_200_000
heartbeat = {
    "clock_ms": now,
    "cells": [{"no": 1, "state": "empty"}, {"no": 2, "state": "door_open"},
              {"no": 3, "state": "occupied"}, {"no": 4, "state": "fault"}],
    "health": {"network": "4g", "signal": -71, "power": "battery", "battery_pct": 80,
               "temperature_c": 21.5, "firmware": "wj-2.3.1"},
    "acks": [{"id": "c-17", "outcome": "done", "at_ms": now - 10_000},
             {"id": "c-18", "outcome": "failed", "at_ms": now - 9_000, "detail": "door jammed"}],
}
write("locker_messages", "heartbeat.json", json.dumps(heartbeat))
ev = lambda kind: {"event_id": "e-1", "at_ms": now, **kind}
events = {"events": [
    ev({"kind": "courier_deposit", "cell": 12, "barcode": "31990012345678"}),
    ev({"kind": "reader_pickup", "cell": 12, "order_id": 9001}),
    ev({"kind": "return_drop", "rfid": "E2801160600002084A4B3C21"}),
    ev({"kind": "onsite_borrow", "cell": 3, "barcode": "B-1", "reader_id": 42}),
    ev({"kind": "fault", "cell": 5, "code": "LOCK_JAM", "detail": "cell 5 lock stuck"}),
]}
write("locker_messages", "events.json", json.dumps(events))
write("locker_messages", "query-reader.json", '{"reader_id": 42}')
write("locker_messages", "query-card.json", '{"card_number": "6222000000000042"}')

# --- Locker signing (docs/locker-protocol.md's worked example)
secret = b"locker-0001-secret-0123456789abcdef"
path = "/api/lockers/SZ-LIB-0001/heartbeat"
nonce = "3f9c1e7a5b2d4c60"


def locker_sig(method, path, ts, nonce, body):
    canonical = f"WJL1\n{method}\n{path}\n{ts}\n{nonce}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


body = b'{"clock_ms":1764331200000}'
assert locker_sig("POST", path, now, nonce, body).startswith("92cf2aee")
write("locker_signing", "doc-example",
      lines("SZ-LIB-0001", now, nonce, locker_sig("POST", path, now, nonce, body), "1", "POST", path,
            body=body))
events_path = "/api/lockers/SZ-LIB-0001/events"
events_body = json.dumps(events).encode()
write("locker_signing", "events-upper-hex",
      lines("SZ-LIB-0001", now + 1, "n0nce-0000000000002",
            locker_sig("POST", events_path, now + 1, "n0nce-0000000000002", events_body).upper(),
            "1", "post", events_path, body=events_body))
write("locker_signing", "protocol-2",
      lines("SZ-LIB-0001", now, nonce, "00" * 32, "2", "POST", path, body=body))

# --- WeChat plain mode (shared/src/wechat/server.rs tests)
token, ts, wx_nonce = "wangjie-token", "1700000000", "1372623149"
wx_sig = hashlib.sha1("".join(sorted([token, ts, wx_nonce])).encode()).hexdigest()
text = ("<xml><ToUserName><![CDATA[gh_library]]></ToUserName>"
        "<FromUserName><![CDATA[oReader1]]></FromUserName><CreateTime>1700000000</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的借阅？ <all> & more]]></Content>"
        "<MsgId>24000000000000001</MsgId></xml>")
popup = """<?xml version="1.0"?>
<xml><ToUserName><![CDATA[gh_library]]></ToUserName>
<FromUserName><![CDATA[oReader1]]></FromUserName>
<CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[subscribe_msg_popup_event]]></Event>
<SubscribeMsgPopupEvent>
  <List><TemplateId><![CDATA[tpl-due]]></TemplateId>
    <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
    <PopupScene>2</PopupScene></List>
  <List><TemplateId><![CDATA[tpl-ready]]></TemplateId>
    <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
    <PopupScene>2</PopupScene></List>
</SubscribeMsgPopupEvent></xml>"""
subscribe = ("<xml><ToUserName>gh_library</ToUserName><FromUserName>oReader2</FromUserName>"
             "<CreateTime>1700000001</CreateTime><MsgType>event</MsgType>"
             "<Event>subscribe</Event></xml>")
image = ("<xml><ToUserName>gh_library</ToUserName><FromUserName>oReader3</FromUserName>"
         "<CreateTime>1700000002</CreateTime><MsgType>image</MsgType>"
         "<PicUrl>http://example/p.jpg</PicUrl><MsgId>2</MsgId></xml>")
for name, xml in [("text", text), ("popup", popup), ("subscribe", subscribe), ("image", image)]:
    write("wechat_plain", name, lines(wx_sig, ts, wx_nonce, "echo-1", body=xml))

# --- WeChat safe mode (WeChat's published sample, shared/src/wechat/crypto.rs tests)
sample_encrypt = ("RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911"
                  "L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLx"
                  "AUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9"
                  "nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh"
                  "9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")
app_id = "wx5823bf96d3bd56c7"
write("wechat_sealed", "wechat-sample",
      lines("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149",
            body=f"<xml><ToUserName><![CDATA[{app_id}]]></ToUserName>"
                 f"<Encrypt><![CDATA[{sample_encrypt}]]></Encrypt></xml>"))
# A plaintext in the safe-mode layout, for the decryption oracle.
message = text.encode()
plain = b"0123456789abcdef" + struct.pack(">I", len(message)) + message + app_id.encode()
pad = 32 - len(plain) % 32
write("wechat_sealed", "plaintext-layout", lines("", "1409659813", "1372623149",
                                                 body=plain + bytes([pad]) * pad))

# --- Alipay notifications (shared/src/alipay tests)
form = ("notify_time=2026-01-10+10%3A00%3A00&notify_type=trade_status_sync&notify_id=n1"
        "&app_id=2021000000000000&charset=utf-8&version=1.0&sign_type=RSA2&sign=abc"
        "&trade_no=2026011022001400000001&out_trade_no=WJDEP1T2&trade_status=TRADE_SUCCESS"
        "&total_amount=100.00&subject=%E9%80%81%E4%B9%A6%E4%B8%8A%E9%97%A8+a%3Db%26c&buyer_logon_id=")
write("alipay_notify", "deposit-paid.form", form)
write("alipay_notify", "waiting.form",
      "notify_id=n2&notify_type=trade_status_sync&app_id=2021&out_trade_no=WJDEL9&trade_no=2026"
      "&trade_status=WAIT_BUYER_PAY&total_amount=5.00&sign_type=RSA")

# --- Session tokens (shared/src/session.rs)
key = b"fuzz-session-key-0123456789abcdef"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims):
    signed = "v1." + b64(json.dumps(claims, separators=(",", ":")).encode())
    return signed + "." + b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())


reader = {"rid": 7, "jti": "0123456789abcdef0123456789abcdef", "iat": now, "exp": now + 3_600_000}
staff = {"rid": 2, "sub": "staff", "jti": "fedcba9876543210fedcba9876543210", "iat": now - 1000,
         "exp": now + 60_000}
via = dict(reader, via="wechat")
write("session", "reader", lines("Bearer " + token(reader), body=json.dumps(reader)))
write("session", "staff-lowercase-scheme", lines("bearer " + token(staff), body=json.dumps(staff)))
write("session", "via-expired", lines("Bearer " + token(dict(via, exp=now)), body=json.dumps(via)))

# --- Request bodies (functions/*/src handlers)
def request(method, target, headers, body=""):
    return "\n".join([method, target, *[f"{k}: {v}" for k, v in headers], "", body])


json_type = ("Content-Type", "application/json")
write("request", "order-pickup", request(
    "POST", "/api/orders", [json_type, ("Idempotency-Key", "k-1"), ("Authorization", "Bearer t")],
    '{"lines": [3, 17], "fulfilment": {"kind": "pickup", "point_code": "B001"}}'))
write("request", "order-door", request(
    "POST", "/api/orders?via=wechat", [("content-type", "Application/JSON; charset=utf-8")],
    '{"lines": [3], "fulfilment": {"kind": "door", "address": "深圳市福田区福中路 1 号"}}'))
write("request", "order-array", request("POST", "/api/orders", [json_type],
                                        '[[3], {"kind": "pickup", "point_code": "B001"}]'))
write("request", "scan-nul", request("POST", "/api/staff/orders/42/scan", [json_type],
                                     '{"barcode": "B\\u00001"}'))
write("request", "search-query", request(
    "GET", "/api/search?q=%E4%B8%89%E4%BD%93&limit=20&lat=22.54&lng=114.06&language=chi", []))
write("request", "hold-plain-text", request("POST", "/api/me/holds", [("Content-Type", "text/plain")],
                                            '{"record_id": 9, "point_code": "B001"}'))

# --- Provider answers (shared/src/wechat/login.rs, alipay/gateway_tests.rs, osmanthus.rs)
write("provider_answers", "wechat-code2session",
      lines("200", "", body='{"openid":"o1","session_key":"k","unionid":"u1"}'))
write("provider_answers", "wechat-web-snapshot",
      lines("200", "", body='{"access_token":"AT","expires_in":7200,"openid":"virtual",'
                            '"scope":"snsapi_base","is_snapshotuser":1}'))
write("provider_answers", "wechat-refused", lines("200", "", body='{"errcode":40029,"errmsg":"invalid code"}'))
write("provider_answers", "alipay-oauth-member",
      lines("200", "", body='{"code":"10000","msg":"Success","user_id":"2088102150477652",'
                            '"access_token":"authusrB","expires_in":1296000}'))
write("provider_answers", "alipay-error-response",
      lines("200", "", body='{"error_response":{"code":"40002","msg":"Invalid Arguments",'
                            '"sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}}'))
write("provider_answers", "sesame-score", lines("200", "", body='{"code":"10000","zm_score":"712"}'))
osm = b'{"code":"0","message":"ok","data":{"citizen_ref":"c-1","score":100}}'
write("provider_answers", "osmanthus-score",
      lines("200", hmac.new(b"osmanthus-fuzz-secret", osm, hashlib.sha256).hexdigest(), body=osm))
