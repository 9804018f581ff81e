//! The providers' web authorisation pages, for a local run and the browser
//! tests: where the real Alipay (`/oauth2/publicAppAuthorize.htm`), WeChat
//! (`/connect/oauth2/authorize`) and Osmanthus pages ask the person to
//! consent, the fake lists its demo users; choosing one sends the browser
//! back to `redirect_uri` with that user's code and the `state` it was
//! given, as the real page does. No cookies, no JavaScript: plain links.

use crate::server::{Request, Response};

/// Where each fake serves its page (the path of the real one).
pub const ALIPAY_PATH: &str = "/oauth2/publicAppAuthorize.htm";
/// WeChat's page.
pub const WECHAT_PATH: &str = "/connect/oauth2/authorize";
/// The city's (made-up) Osmanthus page.
pub const OSMANTHUS_PATH: &str = "/oauth2/authorize";

/// One person the page offers: their code and how the page names them.
pub(crate) struct Choice {
    pub code: String,
    pub label: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The page of `provider`: who may consent, each a link back to the app
/// with `code_param` set to their code. `app_param` names the query
/// parameter that carries the app id (`app_id`, `appid`), which must be
/// there, as must `redirect_uri`.
pub(crate) fn page(
    provider: &str,
    app_param: &str,
    code_param: &str,
    mut choices: Vec<Choice>,
    request: &Request,
) -> Response {
    let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .into_owned()
        .collect();
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let (Some(redirect_uri), Some(app_id)) = (get("redirect_uri"), get(app_param)) else {
        return Response {
            status: 400,
            headers: vec![("content-type".into(), "text/plain;charset=utf-8".into())],
            body: format!("{app_param} and redirect_uri are required").into_bytes(),
        };
    };
    let state = get("state").unwrap_or_default();
    choices.sort_by(|a, b| a.code.cmp(&b.code));
    let mut items = String::new();
    for choice in &choices {
        let mut back = form_urlencoded::Serializer::new(String::new());
        back.append_pair(code_param, &choice.code);
        if !state.is_empty() {
            back.append_pair("state", &state);
        }
        let joiner = if redirect_uri.contains('?') { '&' } else { '?' };
        let href = format!("{redirect_uri}{joiner}{}", back.finish());
        items.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>{}</small></li>\n",
            escape(&href),
            escape(&choice.code),
            escape(&choice.label)
        ));
    }
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{provider} (local fake): authorise</title></head>\n<body>\
         <h1>{provider} (local fake)</h1>\n<p>App {} asks who you are. Choose a demo user:</p>\n\
         <ul>\n{items}</ul>\n</body></html>\n",
        escape(&app_id)
    );
    Response {
        status: 200,
        headers: vec![("content-type".into(), "text/html;charset=utf-8".into())],
        body: body.into_bytes(),
    }
}
