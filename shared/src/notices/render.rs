//! The words of each notice kind, in Chinese, from the notice's payload and
//! the rows as they are when it is sent: one [`Message`] that every channel
//! reads (WeChat's `thingN`/`timeN` keywords, Alipay's `keywordN`, the SMS
//! text).

use crate::db::Db;
use crate::Result;
use chrono::{FixedOffset, TimeZone};

/// A rendered notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The kind (`ready_for_pickup`, ...), which picks the template.
    pub kind: String,
    /// The mini-program page the message opens.
    pub page: String,
    /// The template's keywords in order, as (WeChat key, value).
    pub fields: Vec<(String, String)>,
    /// The whole text, for SMS.
    pub text: String,
}

/// China Standard Time (UTC+8, no daylight saving).
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// `at_ms` as Beijing wall-clock time, `2026-11-28 18:00`.
pub fn beijing_time(at_ms: i64) -> String {
    match beijing().timestamp_millis_opt(at_ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        None => String::new(),
    }
}

/// WeChat's `thing` values take at most 20 characters.
fn thing(text: &str) -> String {
    text.chars().take(20).collect()
}

fn order_state_words(state: &str) -> &'static str {
    match state {
        "cancelled" => "已取消",
        "unfilled" => "无法满足，已关闭",
        "pickup_expired" => "超期未取，已关闭",
        "picked_up" => "已取书",
        "awaiting_pickup" => "待取书",
        "in_transit" => "配送中",
        // An order made for a hold: the copy the reader waited for came back.
        "picking" => "已为您留书，正在备书",
        _ => "状态已更新",
    }
}

fn point_name(db: &dyn Db, code: &str) -> Result<String> {
    let rows = db.query(
        "SELECT name FROM service_points WHERE code = $1",
        &[code.into()],
    )?;
    Ok(match rows.first() {
        Some(row) => row.text("name")?.to_string(),
        None => code.to_string(),
    })
}

fn loan_title(db: &dyn Db, loan_id: &str) -> Result<(String, i64)> {
    let rows = db.query(
        "SELECT r.title AS title, l.due_at_ms AS due FROM loans l \
         JOIN copies c ON c.barcode = l.copy_barcode JOIN records r ON r.id = c.record_id \
         WHERE CAST(l.id AS TEXT) = $1",
        &[loan_id.into()],
    )?;
    Ok(match rows.first() {
        Some(row) => (row.text("title")?.to_string(), row.i64("due")?),
        None => ("借阅图书".to_string(), 0),
    })
}

/// Renders notice `kind` about `subject_id` with `payload`.
pub fn render(
    db: &dyn Db,
    kind: &str,
    subject_id: &str,
    payload: &serde_json::Value,
) -> Result<Message> {
    let text_of = |name: &str| payload[name].as_str().unwrap_or_default().to_string();
    let order_page = format!("pages/orders/detail?id={subject_id}");
    let (page, fields, text) = match kind {
        "ready_for_pickup" => {
            let point = point_name(db, &text_of("point"))?;
            let cell = payload["cell"]
                .as_i64()
                .map(|c| format!("{c}号格口"))
                .unwrap_or_else(|| "服务台".to_string());
            let deadline = beijing_time(payload["deadline_at_ms"].as_i64().unwrap_or_default());
            let text = format!(
                "【网借】您的订单{subject_id}已到{point}（{cell}），请于{deadline}前取书。"
            );
            let fields = vec![
                ("character_string1", subject_id.to_string()),
                ("thing2", thing(&point)),
                ("thing3", thing(&cell)),
                ("time4", deadline),
            ];
            (order_page, fields, text)
        }
        "due_soon" | "overdue_1" | "overdue_2" | "overdue_3" => {
            let (title, due) = loan_title(db, subject_id)?;
            let due = beijing_time(due);
            let (status, text) = if kind == "due_soon" {
                (
                    "即将到期".to_string(),
                    format!("【网借】您借阅的《{title}》将于{due}到期，请按时归还或续借。"),
                )
            } else {
                let step = &kind[kind.len() - 1..];
                (
                    format!("已逾期（第{step}次提醒）"),
                    format!(
                        "【网借】您借阅的《{title}》已于{due}到期，请尽快归还（第{step}次提醒）。"
                    ),
                )
            };
            let fields = vec![
                ("thing1", thing(&title)),
                ("time2", due),
                ("phrase3", thing(&status)),
            ];
            ("pages/loans/index".to_string(), fields, text)
        }
        "suggestion_decided" => {
            let title = text_of("title");
            let title = if title.is_empty() {
                "荐购图书".to_string()
            } else {
                title
            };
            let (words, text) = if text_of("state") == "approved" {
                (
                    "已通过",
                    format!("【网借】您荐购的《{title}》已通过审核，到馆编目后将自动为您借阅。"),
                )
            } else {
                let reason = text_of("reason");
                (
                    "未通过",
                    format!("【网借】很抱歉，您荐购的《{title}》未通过审核：{reason}。"),
                )
            };
            let fields = vec![("thing1", thing(&title)), ("phrase2", thing(words))];
            ("pages/suggestions/index".to_string(), fields, text)
        }
        "line_unfilled" => {
            let title = text_of("title");
            let title = if title.is_empty() {
                "所借图书".to_string()
            } else {
                title
            };
            let text = format!(
                "【网借】很抱歉，订单{subject_id}中的《{title}》暂无可借馆藏，已从订单中移除。"
            );
            let fields = vec![
                ("character_string1", subject_id.to_string()),
                ("thing2", thing(&title)),
                ("thing3", "暂无可借馆藏".to_string()),
            ];
            (order_page, fields, text)
        }
        _ => {
            let words = order_state_words(&text_of("state"));
            let text = format!("【网借】您的订单{subject_id}{words}。");
            let fields = vec![
                ("character_string1", subject_id.to_string()),
                ("phrase2", thing(words)),
            ];
            (order_page, fields, text)
        }
    };
    Ok(Message {
        kind: kind.to_string(),
        page,
        fields: fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        text,
    })
}

/// When `now_ms` falls in the quiet period `start`..`end` (Beijing
/// `HH:MM`, may wrap midnight; empty = none), the end of that period.
pub fn quiet_until(now_ms: i64, start: &str, end: &str) -> Option<i64> {
    let minutes = |t: &str| -> Option<i64> {
        let (h, m) = t.trim().split_once(':')?;
        Some(h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
    };
    let (start, end) = (minutes(start)?, minutes(end)?);
    if start == end {
        return None;
    }
    let day_ms = 86_400_000;
    let local = now_ms + 8 * 3_600_000;
    let into_day = local.rem_euclid(day_ms);
    let now_min = into_day / 60_000;
    let inside = if start < end {
        now_min >= start && now_min < end
    } else {
        now_min >= start || now_min < end
    };
    if !inside {
        return None;
    }
    let midnight_utc = now_ms - into_day;
    let mut until = midnight_utc + end * 60_000;
    if until <= now_ms {
        until += day_ms;
    }
    Some(until)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-28 14:30 UTC = 22:30 in Beijing.
    const AT_2230: i64 = 1_795_876_200_000;

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        assert_eq!(beijing_time(AT_2230), "2026-11-28 22:30");
    }

    #[test]
    fn quiet_hours_wrap_midnight_and_end_in_the_morning() {
        let until = quiet_until(AT_2230, "22:00", "08:00").expect("quiet");
        assert_eq!(beijing_time(until), "2026-11-29 08:00");
        let morning = AT_2230 + 8 * 3_600_000; // 06:30
        assert_eq!(
            beijing_time(quiet_until(morning, "22:00", "08:00").unwrap()),
            "2026-11-29 08:00"
        );
        let noon = AT_2230 - 10 * 3_600_000; // 12:30
        assert_eq!(quiet_until(noon, "22:00", "08:00"), None);
        assert_eq!(quiet_until(AT_2230, "", ""), None);
        assert_eq!(
            quiet_until(AT_2230, "12:00", "23:00")
                .map(beijing_time)
                .as_deref(),
            Some("2026-11-28 23:00")
        );
    }
}
