//! Each fake against the app's own protocol code: a request built by
//! `wangjie_shared` is accepted, the answer verifies with the shared
//! reader, and each misbehaving mode gives the failure that reader expects.
//! The client is a few lines of HTTP/1.1 over a TCP stream, so the fakes are
//! tested with nothing they share.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use wangjie_fakes::keys::test_keys;
use wangjie_fakes::{FakeAlipay, FakeOsmanthus, FakeWechat, Mode};
use wangjie_shared::alipay::gateway::{self, GatewayFailure};
use wangjie_shared::alipay::{AlipayKey, AppKey};
use wangjie_shared::credit::ProviderOutcome;
use wangjie_shared::osmanthus::{self, OsmanthusFailure};
use wangjie_shared::wechat::login::{self, LoginFailure};

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request with `Connection: close`, read to the end.
fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let rest = url.strip_prefix("http://").expect("a loopback http url");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

const APP_ID: &str = "2021000000000000";
const NOW_MS: i64 = 1_764_349_200_000;

fn alipay_call(fake: &FakeAlipay, call: &gateway::GatewayCall, key: &AppKey) -> Answer {
    let form = gateway::request_form(call, APP_ID, NOW_MS, key).unwrap();
    send(
        "POST",
        &format!("{}/gateway.do", fake.url()),
        &[(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8",
        )],
        form.as_bytes(),
    )
}

fn alipay_read(method: &str, answer: &Answer) -> Result<serde_json::Value, GatewayFailure> {
    let key = AlipayKey::parse("alipay_public_key", &test_keys().alipay_public_pem).unwrap();
    gateway::read_answer(method, answer.status, &answer.body, &key)
}

#[test]
fn alipay_signs_in_and_scores_both_ways_and_each_mode_fails_as_the_reader_expects() {
    let keys = test_keys();
    let app_key = AppKey::parse("alipay_app_private_key", &keys.app_private_pem).unwrap();
    let fake = FakeAlipay::start().unwrap();
    fake.add_user("code-1", "2088000000000001");
    fake.set_score("2088000000000001", Some(650));

    let call = gateway::oauth_token("code-1");
    let member = alipay_read(call.method, &alipay_call(&fake, &call, &app_key)).unwrap();
    let user = gateway::read_oauth_token(&member).unwrap();
    assert_eq!(user.user_id, "2088000000000001");

    let call = gateway::sesame_score(&user.access_token, "t-1");
    let member = alipay_read(call.method, &alipay_call(&fake, &call, &app_key)).unwrap();
    assert_eq!(
        gateway::read_sesame(&member).unwrap(),
        ProviderOutcome::Score(650)
    );
    let call = gateway::sesame_admit(&user.access_token, "t-2", 600);
    let member = alipay_read(call.method, &alipay_call(&fake, &call, &app_key)).unwrap();
    assert_eq!(
        gateway::read_sesame(&member).unwrap(),
        ProviderOutcome::Admit(true)
    );
    assert_eq!(fake.calls("zhima.credit.score.get"), 1);

    // An unknown code and a request signed by another key are refused.
    let call = gateway::oauth_token("no-such-code");
    let refused = alipay_read(call.method, &alipay_call(&fake, &call, &app_key));
    assert!(
        matches!(refused, Err(GatewayFailure::Refused { ref sub_code, .. }) if sub_code == "isv.code-invalid")
    );
    let stranger = AppKey::parse("k", &keys.alipay_private_pem).unwrap();
    let call = gateway::oauth_token("code-1");
    let refused = alipay_read(call.method, &alipay_call(&fake, &call, &stranger));
    assert!(
        matches!(refused, Err(GatewayFailure::Refused { ref sub_code, .. }) if sub_code == "isv.invalid-signature")
    );

    for (mode, expect) in [
        (Mode::Status(502), "unavailable"),
        (Mode::Garbage, "malformed"),
        (Mode::BadSignature, "signature"),
    ] {
        fake.set_mode(mode);
        let failure = alipay_read(call.method, &alipay_call(&fake, &call, &app_key)).unwrap_err();
        let got = match failure {
            GatewayFailure::Unavailable(_) => "unavailable",
            GatewayFailure::Malformed(_) => "malformed",
            GatewayFailure::BadSignature => "signature",
            GatewayFailure::Refused { .. } => "refused",
        };
        assert_eq!(got, expect);
    }
}

#[test]
fn wechat_signs_in_and_each_mode_fails_as_the_reader_expects() {
    let fake = FakeWechat::start("wx1", "secret-1").unwrap();
    fake.add_user("js-1", "o-1", Some("u-1"));
    let get = |secret: &str, code: &str| {
        let answer = send(
            "GET",
            &login::code2session_url(&fake.url(), "wx1", secret, code),
            &[],
            b"",
        );
        login::read_code2session(answer.status, &answer.body)
    };

    let user = get("secret-1", "js-1").unwrap();
    assert_eq!(
        (user.openid.as_str(), user.unionid.as_deref()),
        ("o-1", Some("u-1"))
    );
    assert!(matches!(
        get("secret-1", "js-x"),
        Err(LoginFailure::Refused { code: 40029, .. })
    ));
    assert!(matches!(
        get("wrong", "js-1"),
        Err(LoginFailure::Refused { code: 40125, .. })
    ));

    fake.set_mode(Mode::Status(503));
    assert!(matches!(
        get("secret-1", "js-1"),
        Err(LoginFailure::Unavailable(_))
    ));
    fake.set_mode(Mode::Garbage);
    assert!(matches!(
        get("secret-1", "js-1"),
        Err(LoginFailure::Malformed(_))
    ));
    fake.set_mode(Mode::Slow(Duration::from_millis(200)));
    assert!(get("secret-1", "js-1").is_ok());
}

#[test]
fn osmanthus_scores_both_ways_and_each_mode_fails_as_the_reader_expects() {
    let secret = b"city-secret";
    let fake = FakeOsmanthus::start("wangjie", secret).unwrap();
    fake.add_citizen("auth-1", "citizen-1", 130);
    let score = |secret: &[u8], code: &str| {
        let request = osmanthus::score_request("wangjie", secret, code, NOW_MS, "nonce-1");
        let answer = send(
            "POST",
            &format!("{}/v1/credit/score", fake.url()),
            &[
                ("content-type", "application/json"),
                ("x-osmanthus-signature", &request.signature),
            ],
            &request.body,
        );
        let signature = answer.header("x-osmanthus-signature").map(str::to_string);
        osmanthus::read_score(answer.status, signature.as_deref(), &answer.body, secret)
    };

    let answer = score(secret, "auth-1").unwrap();
    assert_eq!(answer.citizen_ref, "citizen-1");
    assert_eq!(answer.outcome, ProviderOutcome::Score(130));
    assert!(
        matches!(score(secret, "auth-x"), Err(OsmanthusFailure::Refused { ref code, .. }) if code == "AUTH_CODE_INVALID")
    );
    // Signed with another secret, our request is refused; its answer, read
    // with that same wrong secret, does not verify either.
    assert!(score(b"wrong", "auth-1").is_err());
    // Only correctly signed requests count.
    assert_eq!(fake.calls(), 2);

    fake.set_mode(Mode::Status(502));
    assert!(matches!(
        score(secret, "auth-1"),
        Err(OsmanthusFailure::Unavailable(_))
    ));
    fake.set_mode(Mode::Garbage);
    assert!(matches!(
        score(secret, "auth-1"),
        Err(OsmanthusFailure::Malformed(_))
    ));
    fake.set_mode(Mode::BadSignature);
    assert!(matches!(
        score(secret, "auth-1"),
        Err(OsmanthusFailure::BadSignature)
    ));
}
