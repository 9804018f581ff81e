//! What we do with a server message once it is verified and parsed: record
//! it once, apply its effect (follow, unfollow, subscription grants) and
//! say what to answer (the loans list, help). The `webhooks` component
//! does the HTTP and the sealing; everything here is plain Rust.
//!
//! WeChat retries a push it got no answer to within 5 seconds, three times,
//! with the same `MsgId` (or, for events, the same sender, time and name).
//! [`receive`] inserts the push's [`Inbound::dedupe_key`] into
//! `wechat_messages` with `ON CONFLICT DO NOTHING` in the same transaction
//! as the effect: a retry, or the same push on two replicas at once,
//! inserts nothing and does nothing, and a failed effect leaves no row, so
//! the next retry tries again.

use super::server::{Event, Inbound};
use crate::db::{in_transaction, Db};
use crate::{Error, Result};

/// The official account's AppID: safe mode accepts only messages sealed
/// for it (the mini-program's `wechat_appid` is another app).
pub const VAR_OFFICIAL_APPID: &str = "wechat_official_appid";

/// A push whose signed `timestamp` is further than this from our clock is
/// refused: a captured push cannot be replayed later, once its dedupe row
/// may have been pruned. WeChat's retries all fall within 15 seconds.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

/// At most this many loans are listed in one reply, each title cut to
/// [`MAX_TITLE_CHARS`]: a passive reply's content is limited to 2048 bytes,
/// and 10 lines of 40 CJK characters (3 bytes each) stay under it.
const MAX_LISTED: usize = 10;

/// See [`MAX_LISTED`].
const MAX_TITLE_CHARS: usize = 40;

/// The commands; anything else gets [`SHORT_HELP`].
pub const HELP: &str = "网借公众号可以回复：\n\
    · 我的借阅（my loans）：在借的图书和应还日期\n\
    · 帮助（help）：本说明\n\
    借书、续借和预约请在网借小程序中操作。";

/// The answer to a message we do not understand.
pub const SHORT_HELP: &str =
    "没有看懂这条消息。回复“我的借阅”查看在借图书，回复“帮助”查看全部指令。";

/// The answer to a new follower.
pub const WELCOME: &str = "欢迎关注网借！用芝麻信用或桂花分免押借书，快递到家或到柜自取。\n\
    回复“我的借阅”查看在借图书，回复“帮助”查看全部指令。";

/// The answer to "my loans" from an openid no reader has signed in with.
pub const SIGN_IN_FIRST: &str =
    "还没有找到您的读者账号。请先用微信登录网借小程序，之后回复“我的借阅”即可查看在借图书。";

/// The answer to "my loans" from a reader with nothing on loan.
pub const NO_LOANS: &str = "您目前没有在借的图书。";

/// What a reader's text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// "我的借阅" / "my loans": the open loans.
    Loans,
    /// "帮助" / "help": the commands.
    Help,
    /// Anything else.
    Unknown,
}

impl Command {
    /// Reads a text message: surrounding and inner whitespace (full-width
    /// too), ASCII case and a trailing question mark do not matter.
    pub fn parse(content: &str) -> Command {
        let folded: String = content
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        match folded.trim_end_matches(['?', '？']) {
            "我的借阅" | "借阅" | "myloans" => Command::Loans,
            "帮助" | "help" => Command::Help,
            _ => Command::Unknown,
        }
    }
}

/// A loan still open, as the reply lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLoan {
    /// The record's title.
    pub title: String,
    /// When it is due.
    pub due_at_ms: i64,
}

/// `at_ms` as a date in Beijing time (UTC+8, no daylight saving), which is
/// how the library and its readers count days.
pub fn beijing_date(at_ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|t| t.with_timezone(&offset).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "?".into())
}

/// The reply listing `loans` (due first), marking those overdue at `now_ms`.
pub fn loans_text(loans: &[OpenLoan], now_ms: i64) -> String {
    if loans.is_empty() {
        return NO_LOANS.to_string();
    }
    let mut text = format!("您在借的图书（{} 本）：", loans.len());
    for (n, loan) in loans.iter().take(MAX_LISTED).enumerate() {
        let late = if loan.due_at_ms < now_ms {
            "，已逾期"
        } else {
            ""
        };
        let mut title: String = loan.title.chars().take(MAX_TITLE_CHARS).collect();
        if title.len() < loan.title.len() {
            title.push('…');
        }
        text.push_str(&format!(
            "\n{}.《{title}》应还 {}{late}",
            n + 1,
            beijing_date(loan.due_at_ms)
        ));
    }
    if loans.len() > MAX_LISTED {
        text.push_str(&format!(
            "\n……另有 {} 本，请在小程序中查看。",
            loans.len() - MAX_LISTED
        ));
    }
    text
}

/// Refuses a push whose signed `timestamp` (epoch seconds) is more than
/// [`MAX_SKEW_MS`] away from `now_ms`, either way.
pub fn check_fresh(timestamp: &str, now_ms: i64) -> Result<()> {
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| Error::invalid("timestamp", "not epoch seconds"))?;
    if seconds.saturating_mul(1000).abs_diff(now_ms) > MAX_SKEW_MS as u64 {
        return Err(Error::invalid(
            "timestamp",
            "more than 5 minutes from now; a replayed push is refused",
        ));
    }
    Ok(())
}

/// Records `inbound` once and applies it; the text to answer the reader
/// with, or `None` for the bare `success` (an event, or a retry of a push
/// already handled).
pub fn receive(db: &dyn Db, inbound: &Inbound, now_ms: i64) -> Result<Option<String>> {
    in_transaction(db, |db| {
        if !record_once(db, inbound, now_ms)? {
            return Ok(None);
        }
        apply(db, inbound, now_ms)
    })
}

fn record_once(db: &dyn Db, inbound: &Inbound, now_ms: i64) -> Result<bool> {
    let (from, msg_type, created) = match inbound {
        Inbound::Text { from, created, .. } => (from, "text", *created),
        Inbound::Event { from, created, .. } => (from, "event", *created),
        Inbound::Other {
            from,
            msg_type,
            created,
        } => (from, msg_type.as_str(), *created),
    };
    let inserted = db.execute(
        "INSERT INTO wechat_messages (dedupe_key, openid, msg_type, created_at_ms, \
         received_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        &[
            inbound.dedupe_key().into(),
            from.as_str().into(),
            msg_type.into(),
            created.saturating_mul(1000).into(),
            now_ms.into(),
        ],
    )?;
    Ok(inserted > 0)
}

fn apply(db: &dyn Db, inbound: &Inbound, now_ms: i64) -> Result<Option<String>> {
    match inbound {
        Inbound::Text { from, content, .. } => Ok(Some(match Command::parse(content) {
            Command::Loans => loans_reply(db, from, now_ms)?,
            Command::Help => HELP.to_string(),
            Command::Unknown => SHORT_HELP.to_string(),
        })),
        Inbound::Event {
            from,
            created,
            event,
            ..
        } => {
            let at_ms = created.saturating_mul(1000);
            match event {
                Event::Subscribe => {
                    set_follower(db, from, true, at_ms)?;
                    Ok(Some(WELCOME.to_string()))
                }
                Event::Unsubscribe => {
                    set_follower(db, from, false, at_ms)?;
                    Ok(None)
                }
                Event::SubscribeMsgPopup { grants } => {
                    for grant in grants.iter().filter(|g| g.accepted) {
                        db.execute(
                            "INSERT INTO wechat_grants (openid, template_id, granted_at_ms) \
                             VALUES ($1, $2, $3)",
                            &[
                                from.as_str().into(),
                                grant.template_id.as_str().into(),
                                now_ms.into(),
                            ],
                        )?;
                    }
                    Ok(None)
                }
                Event::Other(_) => Ok(None),
            }
        }
        // An image or a voice note: recorded, answered with `success`.
        Inbound::Other { .. } => Ok(None),
    }
}

/// Follows or unfollows; the `WHERE` keeps the later of two pushes that
/// arrive out of order.
/// Whether the reply to `inbound` needs to know who the follower is: a
/// "my loans" command, or a new follower.
pub fn wants_unionid(inbound: &Inbound) -> bool {
    match inbound {
        Inbound::Text { content, .. } => Command::parse(content) == Command::Loans,
        Inbound::Event { event, .. } => matches!(event, Event::Subscribe),
        Inbound::Other { .. } => false,
    }
}

/// The unionid already learnt for follower `openid`, if any.
pub fn known_unionid(db: &dyn Db, openid: &str) -> Result<Option<String>> {
    let rows = db.query(
        "SELECT unionid FROM wechat_followers WHERE openid = $1",
        &[openid.into()],
    )?;
    Ok(match rows.first() {
        Some(row) => row.opt_text("unionid")?.map(str::to_string),
        None => None,
    })
}

/// Stores the unionid WeChat gave for follower `openid`. The row is made
/// with time 0 when the follow event has not been seen yet, so that the
/// event, when it comes, still sets the subscription.
pub fn learn_unionid(db: &dyn Db, openid: &str, unionid: &str) -> Result<()> {
    db.execute(
        "INSERT INTO wechat_followers (openid, subscribed, updated_at_ms, unionid) \
         VALUES ($1, 1, 0, $2) ON CONFLICT (openid) DO UPDATE SET unionid = excluded.unionid",
        &[openid.into(), unionid.into()],
    )?;
    Ok(())
}

fn set_follower(db: &dyn Db, openid: &str, subscribed: bool, at_ms: i64) -> Result<()> {
    db.execute(
        "INSERT INTO wechat_followers (openid, subscribed, updated_at_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (openid) DO UPDATE SET subscribed = excluded.subscribed, \
         updated_at_ms = excluded.updated_at_ms \
         WHERE wechat_followers.updated_at_ms <= excluded.updated_at_ms",
        &[openid.into(), i64::from(subscribed).into(), at_ms.into()],
    )?;
    Ok(())
}

fn loans_reply(db: &dyn Db, openid: &str, now_ms: i64) -> Result<String> {
    // The account's openid is not the mini-program's: the unionid learnt
    // for the follower (webhooks component) finds the reader, as does the
    // openid itself when the reader signed in on the web (the same app).
    let readers = db.query(
        "SELECT id FROM readers WHERE wechat_openid = $1 OR wechat_web_openid = $1 \
         OR wechat_unionid = (SELECT unionid FROM wechat_followers WHERE openid = $1) \
         ORDER BY id LIMIT 1",
        &[openid.into()],
    )?;
    let Some(reader) = readers.first() else {
        return Ok(SIGN_IN_FIRST.to_string());
    };
    let loans: Vec<OpenLoan> = crate::loans::open_loans(db, reader.i64("id")?, now_ms)?
        .into_iter()
        .map(|loan| OpenLoan {
            title: loan.title,
            due_at_ms: loan.due_at_ms,
        })
        .collect();
    Ok(loans_text(&loans, now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-28 16:00 UTC = 2026-11-29 00:00 in Beijing.
    const NOW: i64 = 1_795_881_600_000;

    #[test]
    fn commands_are_read_loosely() {
        for text in ["我的借阅", " 我的 借阅？", "My Loans", "my loans?", "借阅"] {
            assert_eq!(Command::parse(text), Command::Loans, "{text}");
        }
        for text in ["帮助", "HELP", " help\n", "帮助?"] {
            assert_eq!(Command::parse(text), Command::Help, "{text}");
        }
        for text in ["", "你好", "续借", "my loans please"] {
            assert_eq!(Command::parse(text), Command::Unknown, "{text}");
        }
    }

    #[test]
    fn dates_are_beijing_days() {
        assert_eq!(beijing_date(NOW), "2026-11-29");
        assert_eq!(beijing_date(NOW - 1), "2026-11-28");
    }

    #[test]
    fn loans_are_listed_with_due_dates_and_overdue_marks() {
        let loans = [
            OpenLoan {
                title: "三体".into(),
                due_at_ms: NOW - 86_400_000,
            },
            OpenLoan {
                title: "活着".into(),
                due_at_ms: NOW + 86_400_000,
            },
        ];
        assert_eq!(
            loans_text(&loans, NOW),
            "您在借的图书（2 本）：\n1.《三体》应还 2026-11-28，已逾期\n2.《活着》应还 2026-11-30"
        );
        assert_eq!(loans_text(&[], NOW), NO_LOANS);
    }

    #[test]
    fn a_long_list_is_cut_short() {
        let loans: Vec<_> = (0..13)
            .map(|n| OpenLoan {
                title: format!("第{n}册{}", "长".repeat(100)),
                due_at_ms: NOW + n,
            })
            .collect();
        let text = loans_text(&loans, NOW);
        assert_eq!(text.lines().count(), 1 + MAX_LISTED + 1);
        assert!(text.ends_with("另有 3 本，请在小程序中查看。"), "{text}");
        assert!(text.contains("长…》应还"), "{text}");
        assert!(text.len() < 2048, "{}", text.len());
    }

    #[test]
    fn only_fresh_timestamps_pass() {
        let now_s = NOW / 1000;
        assert!(check_fresh(&now_s.to_string(), NOW).is_ok());
        assert!(check_fresh(&(now_s - 299).to_string(), NOW).is_ok());
        assert!(check_fresh(&(now_s + 299).to_string(), NOW).is_ok());
        for stale in [now_s - 301, now_s + 301, 0, i64::MAX] {
            assert!(
                matches!(
                    check_fresh(&stale.to_string(), NOW),
                    Err(Error::Invalid { .. })
                ),
                "{stale}"
            );
        }
        assert!(check_fresh("yesterday", NOW).is_err());
    }

    #[test]
    fn every_reply_fits_a_passive_reply() {
        for text in [HELP, SHORT_HELP, WELCOME, SIGN_IN_FIRST, NO_LOANS] {
            assert!(text.len() < 2048);
        }
    }
}
