//! The three channels over Spin's outbound HTTP: WeChat subscription
//! messages (with the access token cached in the key-value store), Alipay
//! mini-program template messages through the signed gateway, and the SMS
//! gateway (docs/providers.md). Each answers an [`Outcome`] with the
//! provider's code and answer; none of them fails the run.

use std::collections::HashMap;
use wangjie_shared::alipay::gateway::{self, GatewayCall, GatewayFailure};
use wangjie_shared::notices::{Channels, Message, Outcome};
use wangjie_shared::spin::config;
use wangjie_shared::spin::outbound::{self, Call};
use wangjie_shared::spin::providers::Alipay;
use wangjie_shared::spin::wechat_api::{self, TokenFailure};
use wangjie_shared::{now_ms, osmanthus, Result};

/// Where the WeChat access token is cached.
const TOKEN_KEY: &str = "wechat:access_token";

fn var(name: &'static str) -> Result<String> {
    Ok(config::optional(name)?
        .unwrap_or_default()
        .trim()
        .to_string())
}

/// The configured providers.
pub struct Providers {
    timeout_ms: u64,
    wechat_origin: String,
    wechat_appid: String,
    wechat_secret: String,
    templates: HashMap<String, String>,
    alipay_origin: String,
    alipay_templates: HashMap<String, String>,
    sms_origin: String,
    sms_app_id: String,
    sms_secret: String,
}

fn template_map(name: &'static str) -> Result<HashMap<String, String>> {
    let text = var(name)?;
    if text.is_empty() {
        return Ok(HashMap::new());
    }
    serde_json::from_str(&text).map_err(|e| wangjie_shared::Error::Config {
        name,
        reason: format!("not a JSON object of kind to template id: {e}"),
    })
}

impl Providers {
    /// Reads the variables; an unset provider is simply not tried.
    pub fn from_variables() -> Result<Self> {
        Ok(Providers {
            timeout_ms: config::number("provider_timeout_ms", 3000)?,
            wechat_origin: var("wechat_origin")?.trim_end_matches('/').to_string(),
            wechat_appid: var("wechat_appid")?,
            wechat_secret: var("wechat_secret")?,
            templates: template_map("wechat_templates")?,
            alipay_origin: var("alipay_origin")?.trim_end_matches('/').to_string(),
            alipay_templates: template_map("alipay_templates")?,
            sms_origin: var("sms_origin")?.trim_end_matches('/').to_string(),
            sms_app_id: var("sms_app_id")?,
            sms_secret: var("sms_secret")?,
        })
    }

    fn call(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(&str, String)>,
        body: &[u8],
    ) -> std::result::Result<outbound::Answer, String> {
        outbound::send(&Call {
            method,
            url,
            headers,
            body,
            timeout_ms: self.timeout_ms,
        })
    }

    /// The mini-program's access token (`wechat_api`), as an outcome on failure.
    fn wechat_token(&self, refresh: bool) -> std::result::Result<String, Outcome> {
        let app = wechat_api::App {
            origin: &self.wechat_origin,
            appid: &self.wechat_appid,
            secret: &self.wechat_secret,
            cache_key: TOKEN_KEY,
            timeout_ms: self.timeout_ms,
        };
        wechat_api::access_token(&app, refresh).map_err(|failure| match failure {
            TokenFailure::Unreached(why) => Outcome::unreached(why),
            TokenFailure::Refused { code, answer } => Outcome {
                sent: false,
                code,
                answer,
                unreached: false,
            },
        })
    }

    fn wechat_once(&self, token: &str, body: &[u8]) -> Outcome {
        let url = format!(
            "{}/cgi-bin/message/subscribe/send?access_token={token}",
            self.wechat_origin
        );
        let answer = match self.call(
            "POST",
            &url,
            vec![("content-type", "application/json".into())],
            body,
        ) {
            Ok(answer) => answer,
            Err(reason) => return Outcome::unreached(reason),
        };
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let code = match json["errcode"].as_i64() {
            Some(code) => code.to_string(),
            None => format!("http {}", answer.status),
        };
        Outcome {
            sent: answer.status == 200 && code == "0",
            code,
            answer: text,
            unreached: false,
        }
    }
}

impl Channels for Providers {
    fn wechat_template(&self, kind: &str) -> Option<String> {
        if self.wechat_origin.is_empty() || self.wechat_appid.is_empty() {
            return None;
        }
        self.templates.get(kind).cloned()
    }

    fn wechat(&self, openid: &str, template_id: &str, message: &Message) -> Outcome {
        let data: serde_json::Map<String, serde_json::Value> = message
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!({ "value": v })))
            .collect();
        let body = serde_json::json!({
            "touser": openid, "template_id": template_id, "page": message.page, "data": data,
        })
        .to_string();
        let token = match self.wechat_token(false) {
            Ok(token) => token,
            Err(outcome) => return outcome,
        };
        let outcome = self.wechat_once(&token, body.as_bytes());
        // 40001: token invalid, 42001: token expired: refresh once.
        if outcome.code == "40001" || outcome.code == "42001" {
            return match self.wechat_token(true) {
                Ok(token) => self.wechat_once(&token, body.as_bytes()),
                Err(outcome) => outcome,
            };
        }
        outcome
    }

    fn alipay(&self, user_id: &str, message: &Message) -> Outcome {
        let Some(template) = self.alipay_templates.get(&message.kind) else {
            return Outcome::unreached("no alipay template for this kind");
        };
        let alipay = match Alipay::from_variables() {
            Ok(alipay) => alipay,
            Err(e) => return Outcome::unreached(e.to_string()),
        };
        let data: serde_json::Map<String, serde_json::Value> = message
            .fields
            .iter()
            .enumerate()
            .map(|(i, (_, v))| {
                (
                    format!("keyword{}", i + 1),
                    serde_json::json!({ "value": v }),
                )
            })
            .collect();
        let biz = serde_json::json!({
            "to_user_id": user_id, "user_template_id": template, "page": message.page,
            "data": serde_json::Value::Object(data).to_string(),
        });
        let call = GatewayCall {
            method: "alipay.open.app.mini.templatemessage.send",
            params: vec![("biz_content".to_string(), biz.to_string())],
        };
        let form = match gateway::request_form(&call, alipay.app_id(), now_ms(), alipay.app_key()) {
            Ok(form) => form,
            Err(e) => return Outcome::unreached(e.to_string()),
        };
        let url = format!("{}/gateway.do", self.alipay_origin);
        let headers = vec![(
            "content-type",
            "application/x-www-form-urlencoded;charset=utf-8".to_string(),
        )];
        let answer = match self.call("POST", &url, headers, form.as_bytes()) {
            Ok(answer) => answer,
            Err(reason) => return Outcome::unreached(reason),
        };
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        let read = gateway::read_answer(
            call.method,
            answer.status,
            &answer.body,
            alipay.alipay_key(),
        );
        if let Err(failure) = &read {
            // Our key or app id, not the reader's: an operator must act.
            failure.log_if_misconfigured("template message");
        }
        match read {
            Ok(_) => Outcome {
                sent: true,
                code: "10000".into(),
                answer: text,
                unreached: false,
            },
            Err(GatewayFailure::Refused { code, sub_code, .. }) => Outcome {
                sent: false,
                code: format!("{code}/{sub_code}"),
                answer: text,
                unreached: false,
            },
            Err(other) => Outcome {
                sent: false,
                code: "invalid".into(),
                answer: format!("{other:?}: {text}"),
                unreached: false,
            },
        }
    }

    fn sms(&self, phone: &str, message: &Message) -> Outcome {
        if self.sms_origin.is_empty() || self.sms_app_id.is_empty() {
            return Outcome::unreached("sms_origin/sms_app_id not set");
        }
        let body = serde_json::json!({
            "app_id": self.sms_app_id, "phone": phone, "text": message.text,
            "template": message.kind, "timestamp": now_ms(),
        })
        .to_string();
        let signature = osmanthus::signature(self.sms_secret.as_bytes(), body.as_bytes());
        let headers = vec![
            ("content-type", "application/json".to_string()),
            ("x-sms-signature", signature),
        ];
        let url = format!("{}/v1/sms", self.sms_origin);
        let answer = match self.call("POST", &url, headers, body.as_bytes()) {
            Ok(answer) => answer,
            Err(reason) => return Outcome::unreached(reason),
        };
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let code = json["code"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("http {}", answer.status));
        Outcome {
            sent: answer.status == 200 && code == "OK",
            code,
            answer: text,
            unreached: false,
        }
    }
}
