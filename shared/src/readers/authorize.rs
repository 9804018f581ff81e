//! *Web authorisation*: a reader on the web (the reader's app under `/m/`,
//! or a mini-program's `web-view`) signs in by being sent to the provider's
//! authorize page, which sends the browser back to the app with a one-use
//! code: Alipay's `auth_code` (`publicAppAuthorize.htm`), WeChat's `code`
//! (`connect/oauth2/authorize`), the city's Osmanthus `auth_code`. The app
//! hands the code to the existing exchanges (`POST /api/session/alipay`,
//! `/wechat`, `POST /api/me/credit`).
//!
//! Here: where each authorize page is and how its link is built, and the
//! one rule on where a provider may send the reader back ([`ReturnTo`]): to
//! the reader's app on the origin the request came to, never elsewhere, so
//! the links cannot be used to carry a reader's code to another site. The
//! `state` the app chose travels through unchanged; the app checks it on
//! return (CSRF).

use crate::{Error, Result};
use serde::Serialize;

/// Alipay's web authorisation page.
pub const ALIPAY_AUTHORIZE_URL: &str = "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm";
/// WeChat's web authorisation page (official accounts, snsapi_base).
pub const WECHAT_AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";

/// The longest `redirect_uri` accepted.
const MAX_RETURN_LEN: usize = 512;

/// Where the authorize pages are and which app they authorise; a provider
/// whose page or app id is empty is not offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeSettings {
    /// `alipay_authorize_url`.
    pub alipay_url: String,
    /// `alipay_app_id`.
    pub alipay_app_id: String,
    /// `wechat_authorize_url`.
    pub wechat_url: String,
    /// `wechat_official_appid`: the web page authorises for the official
    /// account, not the mini-program.
    pub wechat_appid: String,
    /// `osmanthus_authorize_url` (empty: the city offers no web page).
    pub osmanthus_url: String,
    /// `osmanthus_app_id`.
    pub osmanthus_app_id: String,
}

/// A `redirect_uri` that leads back to the reader's app on this origin:
/// `http(s)://<host>/m/...`, no user info, no fragment, nothing invisible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

impl ReturnTo {
    /// Accepts `uri` when it points into `/m/` on `host` (the `Host` the
    /// request came with).
    pub fn parse(uri: &str, host: &str) -> Result<Self> {
        let refuse = |reason: &str| Error::invalid("redirect_uri", reason.to_string());
        let uri = uri.trim();
        if uri.is_empty() {
            return Err(refuse("required"));
        }
        if uri.len() > MAX_RETURN_LEN || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(refuse("must be a URL of at most 512 visible characters"));
        }
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))
            .ok_or_else(|| refuse("must be an http or https URL"))?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if authority.contains('@') || !authority.eq_ignore_ascii_case(host.trim()) {
            return Err(refuse("must lead back to this site's reader app"));
        }
        if path.contains('#') {
            return Err(refuse("must not carry a fragment"));
        }
        let path_only = path.split('?').next().unwrap_or_default();
        if !(path_only == "/m" || path_only.starts_with("/m/")) || path_only.contains("..") {
            return Err(refuse("must lead back to the reader app under /m/"));
        }
        Ok(ReturnTo(uri.to_string()))
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The app's CSRF token for one round trip: 8 to 128 characters of
/// `A-Z a-z 0-9 - _ . ~` (unreserved, so it survives every provider).
pub fn parse_state(state: &str) -> Result<String> {
    let state = state.trim();
    let fine = (8..=128).contains(&state.len())
        && state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
    if !fine {
        return Err(Error::invalid(
            "state",
            "must be 8 to 128 letters, digits or - _ . ~",
        ));
    }
    Ok(state.to_string())
}

/// One provider's authorize link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizeLink {
    /// `alipay`, `wechat` or `osmanthus`.
    pub provider: &'static str,
    /// Which query parameter carries the code back: `auth_code` or `code`.
    pub code_param: &'static str,
    /// Where to send the reader's browser.
    pub authorize_url: String,
}

fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}{}", query.finish())
}

/// The links of every configured provider, for a reader coming back to
/// `to` with `state`.
pub fn links(settings: &AuthorizeSettings, to: &ReturnTo, state: &str) -> Vec<AuthorizeLink> {
    let configured = |url: &str, id: &str| !url.trim().is_empty() && !id.trim().is_empty();
    let mut links = Vec::new();
    if configured(&settings.alipay_url, &settings.alipay_app_id) {
        links.push(AuthorizeLink {
            provider: "alipay",
            code_param: "auth_code",
            authorize_url: with_query(
                settings.alipay_url.trim(),
                &[
                    ("app_id", settings.alipay_app_id.trim()),
                    ("scope", "auth_user"),
                    ("redirect_uri", to.as_str()),
                    ("state", state),
                ],
            ),
        });
    }
    if configured(&settings.wechat_url, &settings.wechat_appid) {
        // WeChat reads its parameters in this order and needs the fragment.
        let url = with_query(
            settings.wechat_url.trim(),
            &[
                ("appid", settings.wechat_appid.trim()),
                ("redirect_uri", to.as_str()),
                ("response_type", "code"),
                ("scope", "snsapi_base"),
                ("state", state),
            ],
        );
        links.push(AuthorizeLink {
            provider: "wechat",
            code_param: "code",
            authorize_url: format!("{url}#wechat_redirect"),
        });
    }
    if configured(&settings.osmanthus_url, &settings.osmanthus_app_id) {
        links.push(AuthorizeLink {
            provider: "osmanthus",
            code_param: "auth_code",
            authorize_url: with_query(
                settings.osmanthus_url.trim(),
                &[
                    ("app_id", settings.osmanthus_app_id.trim()),
                    ("response_type", "code"),
                    ("redirect_uri", to.as_str()),
                    ("state", state),
                ],
            ),
        });
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AuthorizeSettings {
        AuthorizeSettings {
            alipay_url: ALIPAY_AUTHORIZE_URL.into(),
            alipay_app_id: "2021000000000000".into(),
            wechat_url: WECHAT_AUTHORIZE_URL.into(),
            wechat_appid: "wx0000000000000000".into(),
            osmanthus_url: String::new(),
            osmanthus_app_id: "wangjie".into(),
        }
    }

    #[test]
    fn a_return_into_the_reader_app_on_this_host_is_accepted() {
        for uri in [
            "https://lib.example/m/",
            "https://LIB.example/m",
            "http://lib.example/m/?a=1",
        ] {
            assert!(ReturnTo::parse(uri, "lib.example").is_ok(), "{uri}");
        }
        assert!(ReturnTo::parse("http://127.0.0.1:3000/m/", "127.0.0.1:3000").is_ok());
    }

    #[test]
    fn a_return_anywhere_else_is_refused() {
        for uri in [
            "",
            "https://evil.example/m/",
            "https://lib.example.evil.example/m/",
            "https://lib.example@evil.example/m/",
            "https://lib.example/console/",
            "https://lib.example/m/#/x",
            "https://lib.example/m/../admin",
            "javascript:alert(1)",
            "//lib.example/m/",
            "https://lib.example/mm/",
            "https://lib.example/m/ x",
        ] {
            assert!(ReturnTo::parse(uri, "lib.example").is_err(), "{uri}");
        }
    }

    #[test]
    fn a_state_must_be_a_plain_token() {
        assert!(parse_state("abcdEFGH1234").is_ok());
        assert!(parse_state("short").is_err());
        assert!(parse_state("has space in it").is_err());
        assert!(parse_state(&"x".repeat(129)).is_err());
    }

    #[test]
    fn links_carry_each_providers_own_parameter_names() {
        let to = ReturnTo::parse("https://lib.example/m/", "lib.example").unwrap();
        let links = links(&settings(), &to, "state123");
        assert_eq!(links.len(), 2, "no osmanthus page configured");
        assert_eq!(
            links[0].authorize_url,
            "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm?app_id=2021000000000000\
             &scope=auth_user&redirect_uri=https%3A%2F%2Flib.example%2Fm%2F&state=state123"
        );
        assert_eq!(
            links[1].authorize_url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0000000000000000\
             &redirect_uri=https%3A%2F%2Flib.example%2Fm%2F&response_type=code&scope=snsapi_base\
             &state=state123#wechat_redirect"
        );
        assert_eq!(links[1].code_param, "code");
    }

    #[test]
    fn a_provider_without_an_app_id_is_not_offered() {
        let to = ReturnTo::parse("https://lib.example/m/", "lib.example").unwrap();
        let mut settings = settings();
        settings.alipay_app_id = String::new();
        settings.osmanthus_url = "http://127.0.0.1:9/authorize?x=1".into();
        let links = links(&settings, &to, "state123");
        let names: Vec<_> = links.iter().map(|l| l.provider).collect();
        assert_eq!(names, ["wechat", "osmanthus"]);
        assert!(links[1]
            .authorize_url
            .starts_with("http://127.0.0.1:9/authorize?x=1&app_id="));
    }
}
