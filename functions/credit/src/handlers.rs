//! `POST /decisions`: the reader's standing from one source, from the cache
//! when it is still trusted, else from the provider.

use crate::cache;
use serde::{Deserialize, Serialize};
use wangjie_shared::credit::{decide_outcome, CreditDecision, CreditPolicy, CreditSource};
use wangjie_shared::db::Db;
use wangjie_shared::readers::{store, Reader};
use wangjie_shared::reply::Reply;
use wangjie_shared::request::Request;
use wangjie_shared::spin::providers::{self, Alipay};
use wangjie_shared::spin::{config, db};
use wangjie_shared::{now_ms, random, Error, Result};

/// What the calling component asks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    reader_id: i64,
    source: String,
    /// The reader's fresh authorisation for this provider; needed only when
    /// the provider must be asked.
    #[serde(default)]
    auth_code: Option<String>,
    /// Ask the provider even when a trusted decision is cached.
    #[serde(default)]
    refresh: bool,
}

#[derive(Serialize)]
struct Answer {
    decision: CreditDecision,
    /// Whether the decision came from the cache, without a provider call.
    cached: bool,
    reader: Reader,
}

/// Decides, or answers from the cache.
pub fn decide(request: &Request) -> Result<Reply> {
    let ask: Ask = request.json()?;
    let source = CreditSource::parse(&ask.source)?;
    // Checked before the cache is asked, so the same request is refused
    // whether or not a trusted decision is cached.
    let auth_code = ask
        .auth_code
        .as_deref()
        .map(str::trim)
        .filter(|code| !code.is_empty());
    if auth_code.is_some_and(|code| code.len() > 256) {
        return Err(Error::invalid("auth_code", "longer than 256 characters"));
    }
    let now = now_ms();
    let db = db::connect()?;
    // Also proves the reader exists before anything is cached for them.
    let reader = store::get(db.as_ref(), ask.reader_id)?;
    if !ask.refresh {
        if let Some(decision) = cache::fresh(ask.reader_id, source, now)? {
            return Ok(Reply::json(
                200,
                &Answer {
                    decision,
                    cached: true,
                    reader,
                },
            ));
        }
    }
    let auth_code = auth_code.ok_or_else(|| {
        Error::invalid(
            "auth_code",
            "no trusted decision is cached: the reader must authorise a credit check",
        )
    })?;
    let policy = CreditPolicy::from_settings(config::optional)?;
    let (outcome, citizen) = match source {
        CreditSource::Sesame => (
            sesame(db.as_ref(), &policy, ask.reader_id, auth_code, now)?,
            None,
        ),
        CreditSource::Osmanthus => {
            let answer = providers::osmanthus_score(auth_code, &random::hex_id(16)?, now)?;
            (answer.outcome, Some(answer.citizen_ref))
        }
    };
    // A failed provider is an error here: nothing is cached or stored, and
    // the reader keeps whatever standing they had.
    let decision = decide_outcome(&policy, source, outcome, now)?;
    let reader = store::record_decision(
        db.as_ref(),
        ask.reader_id,
        &decision,
        citizen.as_deref(),
        now,
    )?;
    cache::store(ask.reader_id, &decision)?;
    Ok(Reply::json(
        200,
        &Answer {
            decision,
            cached: false,
            reader,
        },
    ))
}

/// Sesame through Alipay: the `auth_code` must belong to the reader's own
/// linked Alipay account, or anyone could borrow on someone else's score.
fn sesame(
    db: &dyn Db,
    policy: &CreditPolicy,
    reader_id: i64,
    auth_code: &str,
    now: i64,
) -> Result<wangjie_shared::credit::ProviderOutcome> {
    let alipay = Alipay::from_variables()?;
    let user = alipay.user(auth_code, "sesame", now)?;
    let linked = store::alipay_user_id(db, reader_id)?.ok_or_else(|| {
        Error::Conflict("link an Alipay account before checking Sesame credit".into())
    })?;
    if linked != user.user_id {
        return Err(Error::Forbidden(
            "the authorisation is for another Alipay account".into(),
        ));
    }
    let admit = match config::optional("sesame_product")?
        .as_deref()
        .map(str::trim)
    {
        None | Some("") | Some("score") => None,
        Some("admit") => Some(policy.sesame_threshold.value()),
        Some(other) => {
            return Err(Error::Config {
                name: "sesame_product",
                reason: format!("{other:?} is not score or admit"),
            })
        }
    };
    let transaction = format!("WJCR{reader_id}T{now}");
    alipay.sesame(&user.access_token, &transaction, admit, now)
}
