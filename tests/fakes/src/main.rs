//! `wangjie-fakes`: the three fake providers for a local run. Prints the
//! `export SPIN_VARIABLE_...` lines that point an app at them, then
//! `# ready`, and serves until killed. `scripts/up` uses it when no real
//! provider is configured.
//!
//! Demo users (codes are reusable here, unlike the real providers'):
//!
//! | provider | code | who |
//! | --- | --- | --- |
//! | Alipay | `demo-sesame-720` | Sesame 720: deposit-free, door delivery |
//! | Alipay | `demo-sesame-580` | Sesame 580: deposit |
//! | WeChat | `demo-wechat-1` | a WeChat reader (mini-program and web, one unionid) |
//! | Osmanthus | `demo-osmanthus-150` | Osmanthus 150: virtual card |
//! | Osmanthus | `demo-osmanthus-90` | Osmanthus 90: deposit |
//!
//! Each also serves its provider's web authorisation page
//! ([`wangjie_fakes::authorize`]), listing these users, for the reader's app.

use std::io::Write;
use wangjie_fakes::authorize;
use wangjie_fakes::keys::test_keys;
use wangjie_fakes::{FakeAlipay, FakeOsmanthus, FakeWechat};

const APP_ID: &str = "2021000000000000";
const WECHAT_APPID: &str = "wx0000000000000000";
const WECHAT_SECRET: &str = "local-wechat-secret";
const WECHAT_OFFICIAL_APPID: &str = "wx0000000000000002";
const WECHAT_OFFICIAL_SECRET: &str = "local-wechat-official-secret";
const OSMANTHUS_APP_ID: &str = "wangjie-local";
const OSMANTHUS_SECRET: &str = "local-osmanthus-secret";

fn main() -> anyhow::Result<()> {
    let alipay = FakeAlipay::start()?;
    alipay.add_user("demo-sesame-720", "2088000000000720");
    alipay.set_score("2088000000000720", Some(720));
    alipay.add_user("demo-sesame-580", "2088000000000580");
    alipay.set_score("2088000000000580", Some(580));
    let wechat = FakeWechat::start(WECHAT_APPID, WECHAT_SECRET)?;
    wechat.add_user("demo-wechat-1", "o-demo-wechat-1", Some("u-demo-1"));
    // The same person on the web: the official account's openid, joined to
    // the mini-program's by the unionid.
    wechat.set_official_account(WECHAT_OFFICIAL_APPID, WECHAT_OFFICIAL_SECRET);
    wechat.add_web_user("demo-wechat-1", "oa-demo-wechat-1", Some("u-demo-1"));
    let osmanthus = FakeOsmanthus::start(OSMANTHUS_APP_ID, OSMANTHUS_SECRET.as_bytes())?;
    osmanthus.add_citizen("demo-osmanthus-150", "citizen-150", 150);
    osmanthus.add_citizen("demo-osmanthus-90", "citizen-90", 90);

    let keys = test_keys();
    let one_line = |pem: &str| pem.trim().replace('\n', "\\n");
    let variables = [
        ("ALIPAY_ORIGIN", alipay.url()),
        ("ALIPAY_APP_ID", APP_ID.to_string()),
        ("ALIPAY_APP_PRIVATE_KEY", one_line(&keys.app_private_pem)),
        ("ALIPAY_PUBLIC_KEY", one_line(&keys.alipay_public_pem)),
        ("WECHAT_ORIGIN", wechat.url()),
        ("WECHAT_APPID", WECHAT_APPID.to_string()),
        ("WECHAT_SECRET", WECHAT_SECRET.to_string()),
        ("WECHAT_OFFICIAL_APPID", WECHAT_OFFICIAL_APPID.to_string()),
        ("WECHAT_OFFICIAL_SECRET", WECHAT_OFFICIAL_SECRET.to_string()),
        ("OSMANTHUS_ORIGIN", osmanthus.url()),
        ("OSMANTHUS_APP_ID", OSMANTHUS_APP_ID.to_string()),
        ("OSMANTHUS_SECRET", OSMANTHUS_SECRET.to_string()),
        (
            "ALIPAY_AUTHORIZE_URL",
            format!("{}{}", alipay.url(), authorize::ALIPAY_PATH),
        ),
        (
            "WECHAT_AUTHORIZE_URL",
            format!("{}{}", wechat.url(), authorize::WECHAT_PATH),
        ),
        (
            "OSMANTHUS_AUTHORIZE_URL",
            format!("{}{}", osmanthus.url(), authorize::OSMANTHUS_PATH),
        ),
    ];
    let mut out = std::io::stdout().lock();
    for (name, value) in variables {
        writeln!(out, "export SPIN_VARIABLE_{name}='{value}'")?;
    }
    writeln!(out, "# ready")?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
