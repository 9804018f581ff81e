//! The providers as the components reach them: configuration from Spin
//! variables, the HTTP call with a timeout, and the provider's answer read
//! and verified by the pure protocol code (`alipay::gateway`,
//! `wechat::login`, `osmanthus`). Whatever fails is a domain error, and a
//! provider failure is always `CreditUnavailable` (503, retryable).

use crate::alipay::gateway::{self, AlipayUser, GatewayCall};
use crate::alipay::sign::{VAR_ALIPAY_PUBLIC_KEY, VAR_APP_PRIVATE_KEY};
use crate::alipay::{AlipayKey, AppKey};
use crate::credit::ProviderOutcome;
use crate::osmanthus::{self, OsmanthusAnswer};
use crate::spin::config;
use crate::spin::outbound::{self, Call};
use crate::wechat::login::{self, WechatApp, WechatUser};
use crate::{Error, Result};

/// How long a provider may take to connect, then to send each part of its
/// answer, in milliseconds.
pub const VAR_TIMEOUT_MS: &str = "provider_timeout_ms";
const DEFAULT_TIMEOUT_MS: u64 = 3000;

fn timeout_ms() -> Result<u64> {
    config::number(VAR_TIMEOUT_MS, DEFAULT_TIMEOUT_MS)
}

/// A variable that must be set for this provider to be used at all.
fn setting(name: &'static str) -> Result<String> {
    let value = config::required(name)?;
    if value.trim().is_empty() {
        return Err(Error::Config {
            name,
            reason: "empty: set it to use this provider (README, \"Providers\")".into(),
        });
    }
    Ok(value.trim().to_string())
}

/// Alipay's gateway, configured.
pub struct Alipay {
    gateway_url: String,
    app_id: String,
    app_key: AppKey,
    alipay_key: AlipayKey,
}

impl Alipay {
    /// Reads `alipay_origin`, `alipay_app_id` and both keys.
    pub fn from_variables() -> Result<Self> {
        Ok(Alipay {
            gateway_url: format!(
                "{}/gateway.do",
                setting("alipay_origin")?.trim_end_matches('/')
            ),
            app_id: setting("alipay_app_id")?,
            app_key: AppKey::parse(VAR_APP_PRIVATE_KEY, &setting(VAR_APP_PRIVATE_KEY)?)?,
            alipay_key: AlipayKey::parse(VAR_ALIPAY_PUBLIC_KEY, &setting(VAR_ALIPAY_PUBLIC_KEY)?)?,
        })
    }

    /// Our app id, which notifications must carry.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Our private key, for signing order strings.
    pub fn app_key(&self) -> &AppKey {
        &self.app_key
    }

    /// Alipay's public key, for verifying notifications.
    pub fn alipay_key(&self) -> &AlipayKey {
        &self.alipay_key
    }

    /// The signed `alipay.trade.app.pay` parameters that `my.tradePay({
    /// orderStr })` pays with: `amount_fen` for our trade `out_trade_no`,
    /// notified to `alipay_notify_url`.
    pub fn order_string(
        &self,
        out_trade_no: &str,
        amount_fen: i64,
        subject: &str,
        now_ms: i64,
    ) -> Result<String> {
        let biz = serde_json::json!({
            "out_trade_no": out_trade_no,
            "total_amount": crate::alipay::yuan(amount_fen),
            "subject": subject,
            "product_code": "QUICK_MSECURITY_PAY",
        });
        let mut params = vec![("biz_content".to_string(), biz.to_string())];
        if let Some(url) = config::optional("alipay_notify_url")?.filter(|u| !u.trim().is_empty()) {
            params.push(("notify_url".to_string(), url.trim().to_string()));
        }
        let call = GatewayCall {
            method: "alipay.trade.app.pay",
            params,
        };
        gateway::request_form(&call, &self.app_id, now_ms, &self.app_key)
    }

    /// Calls the gateway; `provider` names who failed in the error.
    fn call(
        &self,
        call: &GatewayCall,
        provider: &'static str,
        now_ms: i64,
    ) -> Result<serde_json::Value> {
        let form = gateway::request_form(call, &self.app_id, now_ms, &self.app_key)?;
        let answer = outbound::send(&Call {
            method: "POST",
            url: &self.gateway_url,
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8".into(),
            )],
            body: form.as_bytes(),
            timeout_ms: timeout_ms()?,
        })
        .map_err(|reason| unavailable(provider, reason))?;
        gateway::read_answer(call.method, answer.status, &answer.body, &self.alipay_key)
            .map_err(|failure| failure.into_error(provider))
    }

    /// Makes one Sesame credit-borrowing call (`alipay::rent`) and gives
    /// its verified response member; failures are Sesame's
    /// (`credit-unavailable`).
    pub fn rent(&self, call: &GatewayCall, now_ms: i64) -> Result<serde_json::Value> {
        self.call(call, "sesame", now_ms)
    }

    /// Exchanges a mini-program `auth_code` for the Alipay user; `provider`
    /// is "alipay" for a sign-in, "sesame" when it is the first step of a
    /// credit check, and names the failure.
    pub fn user(&self, auth_code: &str, provider: &'static str, now_ms: i64) -> Result<AlipayUser> {
        let member = self.call(&gateway::oauth_token(auth_code), provider, now_ms)?;
        gateway::read_oauth_token(&member).map_err(|failure| failure.into_error(provider))
    }

    /// Asks Sesame about the user behind `access_token`: the score, or the
    /// admit decision at `threshold` when `admit` (the library's contract).
    pub fn sesame(
        &self,
        access_token: &str,
        transaction_id: &str,
        admit: Option<u16>,
        now_ms: i64,
    ) -> Result<ProviderOutcome> {
        let call = match admit {
            Some(threshold) => gateway::sesame_admit(access_token, transaction_id, threshold),
            None => gateway::sesame_score(access_token, transaction_id),
        };
        let member = self.call(&call, "sesame", now_ms)?;
        gateway::read_sesame(&member).map_err(|failure| failure.into_error("sesame"))
    }
}

/// Exchanges a WeChat mini-program `code` for the user.
pub fn wechat_user(code: &str) -> Result<WechatUser> {
    wechat_user_of(WechatApp::MiniProgram, code)
}

/// Exchanges a `code` of `app` (the mini-program's `wx.login`, or the
/// official account's web authorisation) for the user in that app.
pub fn wechat_user_of(app: WechatApp, code: &str) -> Result<WechatUser> {
    let url = login::exchange_url(
        app,
        setting("wechat_origin")?.trim_end_matches('/'),
        &setting(app.appid_variable())?,
        &setting(app.secret_variable())?,
        code,
    );
    let answer = outbound::send(&Call {
        method: "GET",
        url: &url,
        headers: Vec::new(),
        body: &[],
        timeout_ms: timeout_ms()?,
    })
    .map_err(|reason| unavailable("wechat", reason))?;
    login::read_exchange(app, answer.status, &answer.body)
        .map_err(|failure| failure.into_error_for(app, "wechat"))
}

/// Asks the city's credit service for the citizen behind `auth_code`.
pub fn osmanthus_score(auth_code: &str, nonce: &str, now_ms: i64) -> Result<OsmanthusAnswer> {
    let url = format!(
        "{}/v1/credit/score",
        setting("osmanthus_origin")?.trim_end_matches('/')
    );
    let secret = setting("osmanthus_secret")?;
    let request = osmanthus::score_request(
        &setting("osmanthus_app_id")?,
        secret.as_bytes(),
        auth_code,
        now_ms,
        nonce,
    );
    let answer = outbound::send(&Call {
        method: "POST",
        url: &url,
        headers: vec![
            ("content-type", "application/json".into()),
            ("x-osmanthus-signature", request.signature.clone()),
        ],
        body: &request.body,
        timeout_ms: timeout_ms()?,
    })
    .map_err(|reason| unavailable("osmanthus", reason))?;
    osmanthus::read_score(
        answer.status,
        answer.header("x-osmanthus-signature"),
        &answer.body,
        secret.as_bytes(),
    )
    .map_err(|failure| failure.into_error("osmanthus"))
}

fn unavailable(provider: &'static str, reason: String) -> Error {
    Error::provider_unavailable(provider, reason)
}
