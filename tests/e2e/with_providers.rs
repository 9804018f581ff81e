//! Apps wired to local fake providers: Alipay's gateway, WeChat's
//! `jscode2session` and the city's Osmanthus service, each a real HTTP
//! server on loopback speaking the documented shapes and signatures, with
//! keys generated for the test run (`wangjie-fakes`).

use crate::{spawn_unmigrated, Answer, Backend, Options, TestApp};
use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use wangjie_fakes::keys::test_keys;
use wangjie_fakes::{FakeAlipay, FakeOsmanthus, FakeWechat};

/// Our app id at Alipay, in tests.
pub const ALIPAY_APP_ID: &str = "2021000000000001";
/// Our mini-program's WeChat credentials, in tests.
pub const WECHAT_APPID: &str = "wx0000000000000001";
/// See [`WECHAT_APPID`].
pub const WECHAT_SECRET: &str = "e2e-wechat-secret";
/// Our official account's WeChat credentials (web sign-in), in tests.
pub const WECHAT_OFFICIAL_APPID: &str = "wx0000000000000009";
/// See [`WECHAT_OFFICIAL_APPID`].
pub const WECHAT_OFFICIAL_SECRET: &str = "e2e-wechat-official-secret";
/// Our app at the city's credit service, in tests.
pub const OSMANTHUS_APP_ID: &str = "wangjie-e2e";
/// See [`OSMANTHUS_APP_ID`].
pub const OSMANTHUS_SECRET: &str = "e2e-osmanthus-secret-0123456789";
/// A short provider timeout, so the slow-provider tests stay quick.
pub const PROVIDER_TIMEOUT_MS: u64 = 700;

/// The three fake providers of one test.
pub struct Providers {
    /// Alipay's gateway (sign-in and Sesame) and notification signer.
    pub alipay: FakeAlipay,
    /// WeChat's sign-in.
    pub wechat: FakeWechat,
    /// The city's Osmanthus credit.
    pub osmanthus: FakeOsmanthus,
}

impl Providers {
    /// Starts all three.
    pub fn start() -> Result<Self> {
        let wechat = FakeWechat::start(WECHAT_APPID, WECHAT_SECRET)?;
        wechat.set_official_account(WECHAT_OFFICIAL_APPID, WECHAT_OFFICIAL_SECRET);
        Ok(Providers {
            alipay: FakeAlipay::start()?,
            wechat,
            osmanthus: FakeOsmanthus::start(OSMANTHUS_APP_ID, OSMANTHUS_SECRET.as_bytes())?,
        })
    }

    /// The variables that point an app at these providers.
    pub fn variables(&self) -> HashMap<String, String> {
        let keys = test_keys();
        [
            ("alipay_origin", self.alipay.url()),
            ("alipay_app_id", ALIPAY_APP_ID.to_string()),
            ("alipay_app_private_key", keys.app_private_pem.clone()),
            ("alipay_public_key", keys.alipay_public_pem.clone()),
            ("wechat_origin", self.wechat.url()),
            ("wechat_appid", WECHAT_APPID.to_string()),
            ("wechat_secret", WECHAT_SECRET.to_string()),
            ("wechat_official_appid", WECHAT_OFFICIAL_APPID.to_string()),
            ("wechat_official_secret", WECHAT_OFFICIAL_SECRET.to_string()),
            ("osmanthus_origin", self.osmanthus.url()),
            ("osmanthus_app_id", OSMANTHUS_APP_ID.to_string()),
            ("osmanthus_secret", OSMANTHUS_SECRET.to_string()),
            ("provider_timeout_ms", PROVIDER_TIMEOUT_MS.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// Starts fake providers and an app wired to them, migrated; `extra`
/// variables override the defaults (a short decision lifetime, say).
pub async fn spawn_with_providers(
    backend: Backend,
    extra: &[(&str, &str)],
) -> Result<(TestApp, Providers)> {
    spawn_with_providers_and_config(backend, extra, None).await
}

/// [`spawn_with_providers`] with a runtime config file's text.
pub async fn spawn_with_providers_and_config(
    backend: Backend,
    extra: &[(&str, &str)],
    runtime_config: Option<String>,
) -> Result<(TestApp, Providers)> {
    let providers = Providers::start()?;
    let mut variables = providers.variables();
    variables.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let app = spawn_unmigrated(
        backend,
        Options {
            variables,
            runtime_config,
        },
    )
    .await?;
    app.admin(Method::POST, "/admin/migrate")
        .await?
        .expect_ok()?;
    Ok((app, providers))
}

/// A signed-in reader.
pub struct SignedIn {
    /// The session token.
    pub token: String,
    /// `readers.id`.
    pub id: i64,
}

impl TestApp {
    /// A WeChat reader with Osmanthus credit (150: a virtual card) who may
    /// borrow online.
    pub async fn borrower(&self, providers: &Providers, name: &str) -> Result<SignedIn> {
        let reader = self
            .sign_in_wechat(providers, &format!("openid-{name}"), None)
            .await?;
        let code = format!("city-{name}");
        providers
            .osmanthus
            .add_citizen(&code, &format!("citizen-{name}"), 150);
        self.check_credit(&reader, "osmanthus", Some(&code))
            .await?
            .expect_ok()?;
        Ok(reader)
    }

    /// A request with a JSON body and, optionally, a session token.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Result<Answer> {
        self.send(Method::POST, path, token, Some(serde_json::to_vec(&body)?))
            .await
    }

    /// Registers a new Alipay user with the fake gateway (Sesame `score`,
    /// if any) and signs them in.
    pub async fn sign_in_alipay(
        &self,
        providers: &Providers,
        user_id: &str,
        score: Option<i64>,
    ) -> Result<SignedIn> {
        let code = format!("code-{user_id}");
        providers.alipay.add_user(&code, user_id);
        providers.alipay.set_score(user_id, score);
        let answer = self
            .post_json(
                "/api/session/alipay",
                None,
                serde_json::json!({ "auth_code": code }),
            )
            .await?;
        signed_in(answer)
    }

    /// Registers a WeChat user with the fake and signs them in.
    pub async fn sign_in_wechat(
        &self,
        providers: &Providers,
        openid: &str,
        unionid: Option<&str>,
    ) -> Result<SignedIn> {
        let code = format!("code-{openid}");
        providers.wechat.add_user(&code, openid, unionid);
        let answer = self
            .post_json(
                "/api/session/wechat",
                None,
                serde_json::json!({ "code": code }),
            )
            .await?;
        signed_in(answer)
    }

    /// `POST /api/me/credit` for `source` with `auth_code`.
    pub async fn check_credit(
        &self,
        reader: &SignedIn,
        source: &str,
        auth_code: Option<&str>,
    ) -> Result<Answer> {
        let mut body = serde_json::json!({ "source": source });
        if let Some(code) = auth_code {
            body["auth_code"] = code.into();
        }
        self.post_json("/api/me/credit", Some(&reader.token), body)
            .await
    }
}

fn signed_in(answer: Answer) -> Result<SignedIn> {
    let answer = answer.expect_ok()?;
    Ok(SignedIn {
        token: answer.json["token"]
            .as_str()
            .context("no token in the sign-in answer")?
            .to_string(),
        id: answer.json["reader"]["id"]
            .as_i64()
            .context("no reader id in the sign-in answer")?,
    })
}

/// Runs a test body once on SQLite and once on PostgreSQL, each with its
/// own fake providers: `with_providers!(name, |app, providers| { ... })`,
/// or with extra variables over the defaults:
/// `with_providers!(name, [("pickup_hold_ms", "1000")], |app, providers| { ... })`.
#[macro_export]
macro_rules! with_providers {
    ($name:ident, |$app:ident, $providers:ident| $body:block) => {
        $crate::with_providers!($name, [], |$app, $providers| $body);
    };
    ($name:ident, [$(($var:expr, $value:expr)),* $(,)?], |$app:ident, $providers:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(
                $app: &$crate::TestApp,
                $providers: &$crate::with_providers::Providers,
            ) -> anyhow::Result<()> $body

            async fn on(backend: $crate::Backend) -> anyhow::Result<()> {
                let (app, providers) =
                    $crate::with_providers::spawn_with_providers(backend, &[$(($var, $value)),*])
                        .await?;
                let outcome = run(&app, &providers).await;
                app.stop().await?;
                outcome
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                on($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                on($crate::Backend::Postgres).await
            }
        }
    };
}
