//! Alipay's asynchronous notifications once their signature has verified:
//! the fields every flow needs, and the ledger that makes a replay change
//! nothing. Alipay repeats a notification until it reads the literal
//! `success`, so that answer is given only once the effect is stored.

use crate::db::Db;
use crate::{Error, Result};

/// The literal acknowledgement Alipay waits for.
pub const ACK: &str = "success";

/// A verified notification's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Alipay's id for this notification; the same on every retry.
    pub notify_id: String,
    /// `trade_status_sync` for payments.
    pub notify_type: String,
    /// The app the trade belongs to; must be ours.
    pub app_id: String,
    /// Our trade number, which tells which flow owns the trade.
    pub out_trade_no: String,
    /// Alipay's trade number.
    pub trade_no: String,
    /// `WAIT_BUYER_PAY`, `TRADE_SUCCESS`, `TRADE_FINISHED`, `TRADE_CLOSED`.
    pub trade_status: String,
    /// The amount paid, yuan with two decimals.
    pub total_amount: String,
}

impl Notification {
    /// Reads the fields out of the form parameters; a missing one is a bad
    /// request (after the signature verified, so Alipay really sent it so).
    pub fn from_params(params: &[(String, String)]) -> Result<Self> {
        let field = |name: &'static str| -> Result<String> {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::invalid(name, "missing from the notification"))
        };
        Ok(Notification {
            notify_id: field("notify_id")?,
            notify_type: field("notify_type")?,
            app_id: field("app_id")?,
            out_trade_no: field("out_trade_no")?,
            trade_no: field("trade_no")?,
            trade_status: field("trade_status")?,
            total_amount: field("total_amount")?,
        })
    }

    /// Whether the buyer has paid.
    pub fn is_paid(&self) -> bool {
        matches!(
            self.trade_status.as_str(),
            "TRADE_SUCCESS" | "TRADE_FINISHED"
        )
    }
}

/// Writes the notification to the ledger; `false` when it was there
/// already (a replay), in which case the caller must change nothing. Run it
/// in the same transaction as the effect, so a failed effect leaves no
/// ledger row and Alipay's retry is processed again.
pub fn record_once(
    db: &dyn Db,
    notification: &Notification,
    outcome: &str,
    now_ms: i64,
) -> Result<bool> {
    let inserted = db.execute(
        "INSERT INTO alipay_notifications (notify_id, notify_type, out_trade_no, trade_status, \
         outcome, received_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        &[
            notification.notify_id.as_str().into(),
            notification.notify_type.as_str().into(),
            notification.out_trade_no.as_str().into(),
            notification.trade_status.as_str().into(),
            outcome.into(),
            now_ms.into(),
        ],
    )?;
    Ok(inserted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_complete_notification_is_read_and_paid_statuses_recognised() {
        let mut pairs = params(&[
            ("notify_id", "n1"),
            ("notify_type", "trade_status_sync"),
            ("app_id", "2021"),
            ("out_trade_no", "WJDEP1T2"),
            ("trade_no", "2026"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "100.00"),
        ]);
        assert!(Notification::from_params(&pairs).unwrap().is_paid());
        pairs[5].1 = "WAIT_BUYER_PAY".into();
        assert!(!Notification::from_params(&pairs).unwrap().is_paid());
        pairs.remove(0);
        let error = Notification::from_params(&pairs).unwrap_err();
        assert!(matches!(error, Error::Invalid { ref field, .. } if field == "notify_id"));
    }
}
