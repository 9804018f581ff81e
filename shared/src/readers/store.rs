//! Readers in SQL: sign-in, linking, credit decisions and the virtual card.
//! Every write that must happen once is one conditional statement, so two
//! concurrent sign-ins of a new reader make one row, not two.

use super::standing::{self, Current, StandingName};
use crate::card::CardNumber;
use crate::credit::CreditDecision;
use crate::db::{Db, Row, Value};
use crate::{Error, Result};
use serde::Serialize;

/// An identity a provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// An Alipay user id (`alipay.system.oauth.token`).
    Alipay {
        /// Alipay's `user_id`.
        user_id: String,
    },
    /// A WeChat mini-program user (`jscode2session`).
    Wechat {
        /// The openid, unique to our app.
        openid: String,
        /// The unionid, shared across the library's WeChat apps, if any.
        unionid: Option<String>,
    },
    /// A WeChat user on the web, through the official account's
    /// authorisation (`sns/oauth2/access_token`): an openid of the official
    /// account, never equal to the same person's mini-program openid.
    WechatWeb {
        /// The openid in the official account (`readers.wechat_web_openid`,
        /// also the follower's openid in `wechat_followers`).
        openid: String,
        /// The unionid, shared across the library's WeChat apps, if known.
        unionid: Option<String>,
    },
}

impl Identity {
    fn provider(&self) -> &'static str {
        match self {
            Identity::Alipay { .. } => "alipay",
            Identity::Wechat { .. } | Identity::WechatWeb { .. } => "wechat",
        }
    }

    /// The column that holds this identity, and its value.
    fn column(&self) -> (&'static str, &str) {
        match self {
            Identity::Alipay { user_id } => ("alipay_user_id", user_id),
            Identity::Wechat { openid, .. } => ("wechat_openid", openid),
            Identity::WechatWeb { openid, .. } => ("wechat_web_openid", openid),
        }
    }

    /// The WeChat unionid, when this is a WeChat identity that has one.
    fn unionid(&self) -> Option<&str> {
        match self {
            Identity::Alipay { .. } => None,
            Identity::Wechat { unionid, .. } | Identity::WechatWeb { unionid, .. } => {
                unionid.as_deref()
            }
        }
    }
}

/// A reader as the API shows it to that reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reader {
    /// `readers.id`.
    pub id: i64,
    /// What the library calls the reader.
    pub display_name: String,
    /// Whether an Alipay identity is linked.
    pub alipay_linked: bool,
    /// Whether a WeChat identity is linked.
    pub wechat_linked: bool,
    /// The virtual card, once issued.
    pub card_number: Option<String>,
    /// The current standing, once decided.
    pub standing: Option<StandingName>,
    /// Which provider decided it (`sesame`, `osmanthus`), or `card` for a
    /// paid deposit.
    pub credit_source: Option<String>,
    /// Until when the standing is trusted.
    pub credit_valid_until_ms: Option<i64>,
    /// Books the reader may hold at once.
    pub loan_quota: i64,
    /// When the deposit was paid, if it was.
    pub deposit_paid_at_ms: Option<i64>,
    /// `active`, `suspended` or `blocked`.
    pub status: String,
    /// Since when a Sesame overdue of the reader's is reported and not
    /// settled: no deposit-free lending meanwhile (docs/credit.md).
    pub sesame_overdue_since_ms: Option<i64>,
}

impl Reader {
    /// Whether the reader may borrow without paying anything first, at
    /// `now_ms`: a trusted deposit-free standing, or a paid deposit.
    pub fn may_borrow(&self, now_ms: i64) -> bool {
        self.status == "active" && (self.deposit_paid_at_ms.is_some() || self.deposit_free(now_ms))
    }

    /// Whether the reader lends without a deposit at `now_ms`: a trusted
    /// deposit-free standing, and no reported Sesame overdue unsettled.
    pub fn deposit_free(&self, now_ms: i64) -> bool {
        let trusted = self.credit_valid_until_ms.is_some_and(|t| now_ms < t);
        trusted
            && self.standing.is_some_and(StandingName::is_deposit_free)
            && self.sesame_overdue_since_ms.is_none()
    }

    fn from_row(row: &Row<'_>) -> Result<Self> {
        Ok(Reader {
            id: row.i64("id")?,
            display_name: row.text("display_name")?.to_string(),
            alipay_linked: row.opt_text("alipay_user_id")?.is_some(),
            wechat_linked: row.opt_text("wechat_openid")?.is_some()
                || row.opt_text("wechat_web_openid")?.is_some(),
            card_number: row.opt_text("card_number")?.map(str::to_string),
            standing: row
                .opt_text("standing")?
                .map(StandingName::parse)
                .transpose()?,
            credit_source: row.opt_text("credit_source")?.map(str::to_string),
            credit_valid_until_ms: row.opt_i64("credit_valid_until_ms")?,
            loan_quota: row.i64("loan_quota")?,
            deposit_paid_at_ms: row.opt_i64("deposit_paid_at_ms")?,
            status: row.text("status")?.to_string(),
            sesame_overdue_since_ms: row.opt_i64("sesame_overdue_since_ms")?,
        })
    }
}

const COLUMNS: &str = "id, display_name, alipay_user_id, wechat_openid, wechat_web_openid, \
     card_number, standing, \
     credit_source, credit_valid_until_ms, loan_quota, deposit_paid_at_ms, status, \
     sesame_overdue_since_ms";

/// The reader `id`, or `NotFound`.
pub fn get(db: &dyn Db, id: i64) -> Result<Reader> {
    let sql = format!("SELECT {COLUMNS} FROM readers WHERE id = $1");
    let rows = db.query(&sql, &[id.into()])?;
    rows.first()
        .map(|row| Reader::from_row(&row))
        .transpose()?
        .ok_or(Error::NotFound { what: "reader" })
}

/// The Alipay user id linked to reader `id`, if any; not part of [`Reader`]
/// so that it never reaches an API answer.
pub fn alipay_user_id(db: &dyn Db, id: i64) -> Result<Option<String>> {
    let rows = db.query(
        "SELECT alipay_user_id FROM readers WHERE id = $1",
        &[id.into()],
    )?;
    let row = rows.first().ok_or(Error::NotFound { what: "reader" })?;
    Ok(row.opt_text("alipay_user_id")?.map(str::to_string))
}

fn find(db: &dyn Db, column: &str, value: &str) -> Result<Option<Reader>> {
    let sql = format!("SELECT {COLUMNS} FROM readers WHERE {column} = $1 ORDER BY id LIMIT 1");
    let rows = db.query(&sql, &[value.into()])?;
    rows.first().map(|row| Reader::from_row(&row)).transpose()
}

/// The reader behind `identity`, created on first sign-in with no standing
/// and a quota of zero (credit sets both); the flag says whether it was
/// created now. A WeChat user seen first through another of the library's
/// WeChat apps (the mini-program, the official account's web page) is
/// found by unionid, and this app's openid is recorded on them when they
/// have none for it yet.
pub fn sign_in(db: &dyn Db, identity: &Identity, now_ms: i64) -> Result<(Reader, bool)> {
    let (column, value) = identity.column();
    if let Some(reader) = find(db, column, value)? {
        return Ok((reader, false));
    }
    // The same person through another of the library's WeChat apps: the
    // unionid finds them. An openid already on record for this app stays
    // (the first one wins); a missing one is filled in, so that what needs
    // it (subscription messages, the account's "my loans") finds the reader.
    if let Some(unionid) = identity.unionid() {
        if let Some(reader) = find(db, "wechat_unionid", unionid)? {
            let sql = format!(
                "UPDATE readers SET {column} = $1, updated_at_ms = $2 \
                 WHERE id = $3 AND {column} IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM readers other WHERE other.{column} = $1)"
            );
            db.execute(&sql, &[value.into(), now_ms.into(), reader.id.into()])?;
            return Ok((get(db, reader.id)?, false));
        }
    }
    let value_in = |name: &str| (column == name).then_some(value);
    // ON CONFLICT: a second sign-in racing this one inserts nothing and
    // both read the one row back.
    let sql = format!(
        "INSERT INTO readers (alipay_user_id, wechat_openid, wechat_web_openid, wechat_unionid, \
         display_name, loan_quota, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $6) ON CONFLICT ({column}) DO NOTHING"
    );
    let name = format!("{}读者", display_prefix(identity));
    let inserted = db.execute(
        &sql,
        &[
            value_in("alipay_user_id").into(),
            value_in("wechat_openid").into(),
            value_in("wechat_web_openid").into(),
            identity.unionid().into(),
            name.into(),
            now_ms.into(),
        ],
    )?;
    let reader = find(db, column, value)?.ok_or(Error::NotFound { what: "reader" })?;
    if inserted > 0 {
        log(
            db,
            now_ms,
            &format!("reader:{}", reader.id),
            reader.id,
            "reader_registered",
            serde_json::json!({ "via": identity.provider() }),
        )?;
    }
    Ok((reader, inserted > 0))
}

fn display_prefix(identity: &Identity) -> &'static str {
    match identity {
        Identity::Alipay { .. } => "支付宝",
        Identity::Wechat { .. } | Identity::WechatWeb { .. } => "微信",
    }
}

/// Adds `identity` to reader `reader_id`. Linking what the reader already
/// has changes nothing; an identity that belongs to another reader, or a
/// second different identity of the same provider, is a conflict.
pub fn link(db: &dyn Db, reader_id: i64, identity: &Identity, now_ms: i64) -> Result<Reader> {
    let (column, value) = identity.column();
    if let Some(owner) = find(db, column, value)? {
        return if owner.id == reader_id {
            Ok(owner)
        } else {
            Err(Error::Conflict(format!(
                "this {} account belongs to another reader",
                identity.provider()
            )))
        };
    }
    let unionid = identity.unionid();
    let wechat = matches!(
        identity,
        Identity::Wechat { .. } | Identity::WechatWeb { .. }
    );
    let unionid_set = if wechat {
        ", wechat_unionid = COALESCE(wechat_unionid, $4)"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE readers SET {column} = $1, updated_at_ms = $2{unionid_set} \
         WHERE id = $3 AND {column} IS NULL \
         AND NOT EXISTS (SELECT 1 FROM readers other WHERE other.{column} = $1)"
    );
    let mut params: Vec<Value> = vec![value.into(), now_ms.into(), reader_id.into()];
    if wechat {
        params.push(unionid.into());
    }
    if db.execute(&sql, &params)? == 0 {
        return Err(Error::Conflict(format!(
            "another {} account is already linked",
            identity.provider()
        )));
    }
    log(
        db,
        now_ms,
        &format!("reader:{reader_id}"),
        reader_id,
        "identity_linked",
        serde_json::json!({ "provider": identity.provider() }),
    )?;
    get(db, reader_id)
}

/// Stores `decision` for `reader_id`: always in the history, and as the
/// reader's standing when it [`standing::replaces`] the current one. An
/// Osmanthus decision carries the citizen it was made for, which may back
/// one reader only.
pub fn record_decision(
    db: &dyn Db,
    reader_id: i64,
    decision: &CreditDecision,
    citizen_ref: Option<&str>,
    now_ms: i64,
) -> Result<Reader> {
    let reader = get(db, reader_id)?;
    if let Some(citizen) = citizen_ref {
        if let Some(owner) = find(db, "osmanthus_ref", citizen)? {
            if owner.id != reader_id {
                return Err(Error::Conflict(
                    "this citizen's Osmanthus credit backs another reader".into(),
                ));
            }
        }
        db.execute(
            "UPDATE readers SET osmanthus_ref = $1 WHERE id = $2 AND osmanthus_ref IS NULL",
            &[citizen.into(), reader_id.into()],
        )?;
    }
    let name = StandingName::of(&decision.standing);
    let reason = match &decision.standing {
        crate::credit::Standing::Deposit { reason }
        | crate::credit::Standing::Refused { reason } => Some(reason.clone()),
        _ => None,
    };
    let score = decision.score.map(|s| i64::from(s.value()));
    db.execute(
        "INSERT INTO credit_decisions (reader_id, source, standing, score, reason, loan_quota, \
         decided_at_ms, valid_until_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            reader_id.into(),
            decision.source.as_str().into(),
            name.as_str().into(),
            score.into(),
            reason.into(),
            i64::from(decision.loan_quota).into(),
            decision.decided_at_ms.into(),
            decision.valid_until_ms.into(),
        ],
    )?;
    let current = Current {
        standing: reader.standing,
        valid_until_ms: reader.credit_valid_until_ms,
    };
    // A paid deposit keeps its own quota whatever credit says later.
    if standing::replaces(current, decision, now_ms) && reader.deposit_paid_at_ms.is_none() {
        db.execute(
            "UPDATE readers SET standing = $1, credit_source = $2, credit_score = $3, \
             credit_decided_at_ms = $4, credit_valid_until_ms = $5, loan_quota = $6, \
             updated_at_ms = $7 WHERE id = $8",
            &[
                name.as_str().into(),
                decision.source.as_str().into(),
                score.into(),
                decision.decided_at_ms.into(),
                decision.valid_until_ms.into(),
                i64::from(decision.loan_quota).into(),
                now_ms.into(),
                reader_id.into(),
            ],
        )?;
    }
    log(
        db,
        now_ms,
        "system",
        reader_id,
        "credit_decided",
        serde_json::json!({
            "source": decision.source,
            "standing": name,
            "valid_until_ms": decision.valid_until_ms,
        }),
    )?;
    get(db, reader_id)
}

/// Issues the reader's virtual card, or returns the one already issued. A
/// card needs a trusted deposit-free standing or a paid deposit.
pub fn issue_card(db: &dyn Db, reader_id: i64, now_ms: i64) -> Result<(Reader, bool)> {
    let reader = get(db, reader_id)?;
    if reader.card_number.is_some() {
        return Ok((reader, false));
    }
    if !reader.may_borrow(now_ms) {
        return Err(Error::Conflict(
            "a virtual card needs Sesame or Osmanthus credit at the threshold, or a paid deposit; \
             check credit first"
                .into(),
        ));
    }
    // A random 13-digit serial collides with an issued one about never;
    // the NOT EXISTS makes a collision a retry rather than a failed insert.
    for _ in 0..3 {
        let card = CardNumber::issue()?;
        let updated = db.execute(
            "UPDATE readers SET card_number = $1, updated_at_ms = $2 \
             WHERE id = $3 AND card_number IS NULL \
             AND NOT EXISTS (SELECT 1 FROM readers other WHERE other.card_number = $1)",
            &[card.as_str().into(), now_ms.into(), reader_id.into()],
        )?;
        let reader = get(db, reader_id)?;
        if updated > 0 {
            log(
                db,
                now_ms,
                &format!("reader:{reader_id}"),
                reader_id,
                "card_issued",
                serde_json::json!({}),
            )?;
            return Ok((reader, true));
        }
        if reader.card_number.is_some() {
            return Ok((reader, false));
        }
    }
    Err(Error::Internal(anyhow::anyhow!(
        "three card numbers in a row were taken"
    )))
}

/// Appends to the event log, with the reader as the subject.
pub(crate) fn log(
    db: &dyn Db,
    at_ms: i64,
    actor: &str,
    reader_id: i64,
    event: &str,
    detail: serde_json::Value,
) -> Result<()> {
    crate::events::append(
        db,
        at_ms,
        crate::events::Event {
            actor,
            subject_kind: "reader",
            subject_id: reader_id.to_string(),
            event,
            detail,
        },
    )
}
