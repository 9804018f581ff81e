//! Alipay's asynchronous notifications (`POST /webhooks/alipay`): a form
//! body, decoded as the webhook decodes it, verified (RSA2) and read.
//!
//! Properties: nothing panics; a notification is read only from complete
//! fields; and the round trip: the same parameters signed as Alipay signs
//! a notification (`sign` replaced) verify, exactly when their sign
//! content can be formed and `sign_type`, if given, is RSA2.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_fuzz::alipay_keys;
use wangjie_shared::alipay::notify::Notification;
use wangjie_shared::alipay::{
    notification_sign_content, sign_notification, verify_notification, RSA2, SIGN, SIGN_TYPE,
};

fuzz_target!(|data: &[u8]| {
    let (app_key, alipay_key) = alipay_keys();
    let params: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let _ = verify_notification(&params, alipay_key);
    if let Ok(notification) = Notification::from_params(&params) {
        assert!(!notification.notify_id.is_empty());
        assert_eq!(notification.notify_id.trim(), notification.notify_id);
        let _ = notification.is_paid();
    }

    let mut unsigned: Vec<(String, String)> =
        params.into_iter().filter(|(k, _)| k != SIGN).collect();
    let content = notification_sign_content(&unsigned);
    let Ok(signature) = sign_notification(&unsigned, app_key) else {
        assert!(content.is_err());
        return;
    };
    unsigned.push((SIGN.to_string(), signature));
    let sign_type_ok = unsigned
        .iter()
        .find(|(k, _)| k == SIGN_TYPE)
        .is_none_or(|(_, v)| v == RSA2);
    assert_eq!(
        verify_notification(&unsigned, alipay_key).is_ok(),
        sign_type_ok,
        "{unsigned:?}"
    );
});
