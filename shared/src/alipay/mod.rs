//! *Alipay* speaks to us twice: the gateway answers our signed requests
//! (exchanging an `auth_code` for a user id, asking for Sesame credit), and
//! it posts *asynchronous notifications* (a deposit or delivery fee paid).
//! Both are signed *RSA2*: SHA256withRSA, PKCS#1 v1.5, over the
//! *canonical string* of the parameters.
//!
//! The *canonical string*, as Alipay documents it for gateway requests and
//! for notifications: every parameter except `sign` and `sign_type`, those
//! with an empty value left out, sorted by key (byte order), joined as
//! `k=v&k=v`, with values as they are, not URL-encoded.
//!
//! Two keys take part: the *app key* is our private key, which signs our
//! requests; the *Alipay key* is Alipay's public key, which verifies what
//! Alipay sends. Gateway answers are signed over the raw JSON of the
//! `*_response` member instead; [`sign::verify_content`] checks those once
//! the caller has cut that member out of the body byte for byte.

pub mod gateway;
pub mod notify;
pub mod sign;
#[cfg(test)]
mod test_keys;

pub use sign::{sign, verify, verify_notification, AlipayKey, AppKey};

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

/// The string Alipay signs for `params`. A key given twice is refused:
/// Alipay never sends one, and which value was signed would be a guess.
pub fn canonical_string<K, V>(params: &[(K, V)]) -> Result<String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut signed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, v)| *k != SIGN && *k != SIGN_TYPE && !v.is_empty())
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

    #[test]
    fn the_canonical_string_is_sorted_and_skips_sign_and_empty_values() {
        let params = [
            ("trade_status", "TRADE_SUCCESS"),
            ("sign", "abc"),
            ("app_id", "2021000000000000"),
            ("sign_type", "RSA2"),
            ("buyer_logon_id", ""),
            ("total_amount", "5.00"),
            ("subject", "送书上门 a=b&c"),
        ];
        assert_eq!(
            canonical_string(&params).unwrap(),
            "app_id=2021000000000000&subject=送书上门 a=b&c&total_amount=5.00&trade_status=TRADE_SUCCESS"
        );
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let params = [("out_trade_no", "1"), ("out_trade_no", "2")];
        assert!(matches!(
            canonical_string(&params),
            Err(Error::Invalid { ref field, .. }) if field == "out_trade_no"
        ));
    }

    #[test]
    fn no_parameters_give_an_empty_string() {
        let params: [(&str, &str); 0] = [];
        assert_eq!(canonical_string(&params).unwrap(), "");
    }
}
