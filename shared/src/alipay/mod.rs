//! *Alipay* speaks to us twice: the gateway answers our signed requests
//! (exchanging an `auth_code` for a user id, asking for Sesame credit), and
//! it posts *asynchronous notifications* (a deposit or delivery fee paid).
//! Both are signed *RSA2*: SHA256withRSA, PKCS#1 v1.5, over a *sign
//! content*: parameters with an empty value left out, sorted by key (byte
//! order), joined as `k=v&k=v`, with values as they are, not URL-encoded.
//!
//! Which parameters take part differs, and mixing the two up is the bug of
//! issue 15, which Alipay answers with `isv.invalid-signature`:
//!
//! - a *request* (a gateway call, or the `alipay.trade.app.pay` order
//!   string the mini-program pays with) is signed over every parameter but
//!   `sign`: `sign_type` is signed too ([`request_sign_content`], as the
//!   Java SDK's `getSignContent` and python-alipay-sdk's `sign_data`);
//! - a *notification* is signed over every parameter but `sign` and
//!   `sign_type` ([`notification_sign_content`], as the Java SDK's
//!   `rsaCheckV1`).
//!
//! Two keys take part: the *app key* is our private key, which signs our
//! requests; the *Alipay key* is Alipay's public key, which verifies what
//! Alipay sends. Gateway answers are signed over the raw JSON of the
//! `*_response` member instead; [`sign::verify_content`] checks those once
//! the caller has cut that member out of the body byte for byte.

pub mod gateway;
pub mod notify;
pub mod rent;
pub mod sign;
#[cfg(test)]
mod test_keys;

pub use sign::{
    sign_notification, sign_request, verify_notification, verify_request, AlipayKey, AppKey,
};

use crate::{Error, Result};

/// The parameter that carries the signature.
pub const SIGN: &str = "sign";
/// The parameter that names the signature algorithm.
pub const SIGN_TYPE: &str = "sign_type";
/// The only algorithm we accept or produce.
pub const RSA2: &str = "RSA2";

/// An amount in fen as Alipay writes `total_amount`: yuan with two
/// decimals ("100.00"). Every trade we open and every notification we check
/// goes through this one rendering, so a fee and its payment compare as text.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The sign content of a request or an order string: every parameter but
/// `sign` (so `sign_type` is signed), empty values left out, sorted by key.
/// A key given twice is refused: which value was signed would be a guess.
pub fn request_sign_content<K, V>(params: &[(K, V)]) -> Result<String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    joined_content(params, &[SIGN])
}

/// The sign content of an asynchronous notification: every parameter but
/// `sign` and `sign_type`, empty values left out, sorted by key. A key given
/// twice is refused: Alipay never sends one.
pub fn notification_sign_content<K, V>(params: &[(K, V)]) -> Result<String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    joined_content(params, &[SIGN, SIGN_TYPE])
}

/// `params` without the `excluded` keys and empty values, sorted, joined.
fn joined_content<K, V>(params: &[(K, V)], excluded: &[&str]) -> Result<String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut signed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| !excluded.contains(k) && !v.is_empty())
        .collect();
    signed.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(pair) = signed.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::invalid(pair[0].0, "given twice"));
    }
    let mut text = String::new();
    for (i, (key, value)) in signed.iter().enumerate() {
        if i > 0 {
            text.push('&');
        }
        text.push_str(key);
        text.push('=');
        text.push_str(value);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_as_alipay_writes_them() {
        assert_eq!(yuan(10000), "100.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(12345), "123.45");
    }

    fn notification() -> [(&'static str, &'static str); 7] {
        [
            ("trade_status", "TRADE_SUCCESS"),
            ("sign", "abc"),
            ("app_id", "2021000000000000"),
            ("sign_type", "RSA2"),
            ("buyer_logon_id", ""),
            ("total_amount", "5.00"),
            ("subject", "送书上门 a=b&c"),
        ]
    }

    #[test]
    fn a_notification_is_signed_without_sign_and_sign_type_sorted_and_skipping_empty_values() {
        assert_eq!(
            notification_sign_content(&notification()).unwrap(),
            "app_id=2021000000000000&subject=送书上门 a=b&c&total_amount=5.00&trade_status=TRADE_SUCCESS"
        );
    }

    #[test]
    fn a_request_is_signed_with_its_sign_type_issue_15() {
        // As Alipay's gateway rebuilds it (its isv.invalid-signature answer
        // quotes the string, sign_type included) and python-alipay-sdk signs it.
        let params = [
            ("timestamp", "2026-11-18 19:06:40"),
            ("method", "alipay.system.oauth.token"),
            ("sign", "abc"),
            ("app_id", "2021001"),
            ("sign_type", "RSA2"),
            ("code", "c+1%2"),
            ("refresh_token", ""),
        ];
        assert_eq!(
            request_sign_content(&params).unwrap(),
            "app_id=2021001&code=c+1%2&method=alipay.system.oauth.token&sign_type=RSA2\
             &timestamp=2026-11-18 19:06:40"
        );
        assert_eq!(
            request_sign_content(&notification()).unwrap(),
            "app_id=2021000000000000&sign_type=RSA2&subject=送书上门 a=b&c&total_amount=5.00\
             &trade_status=TRADE_SUCCESS"
        );
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let params = [("out_trade_no", "1"), ("out_trade_no", "2")];
        for content in [
            request_sign_content(&params),
            notification_sign_content(&params),
        ] {
            assert!(matches!(
                content,
                Err(Error::Invalid { ref field, .. }) if field == "out_trade_no"
            ));
        }
    }

    #[test]
    fn no_parameters_give_an_empty_string() {
        let params: [(&str, &str); 0] = [];
        assert_eq!(request_sign_content(&params).unwrap(), "");
        assert_eq!(notification_sign_content(&params).unwrap(), "");
    }
}
