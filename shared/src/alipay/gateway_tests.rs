use super::*;
use crate::alipay::sign::sign_content;
use crate::alipay::test_keys::{alipay_key, app_key};
use crate::alipay::{request_sign_content, verify_request};

const NOW: i64 = 1_795_000_000_000;

/// An answer as the gateway writes it, signed over the member's text.
fn answer(member_name: &str, member: &str) -> Vec<u8> {
    let signature = sign_content(member, &app_key()).unwrap();
    format!("{{\"{member_name}\":{member},\"sign\":\"{signature}\"}}").into_bytes()
}

#[test]
fn a_request_is_signed_over_its_canonical_string_in_beijing_time() {
    let call = oauth_token("code-1");
    let params = signed_params(&call, "2021001", NOW, &app_key()).unwrap();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(get("method"), "alipay.system.oauth.token");
    assert_eq!(get("code"), "code-1");
    assert_eq!(get("sign_type"), "RSA2");
    // 1_795_000_000_000 ms is 2026-11-18 11:06:40 UTC.
    assert_eq!(get("timestamp"), "2026-11-18 19:06:40");
    verify_request(&params, &alipay_key()).unwrap();
    assert!(request_sign_content(&params)
        .unwrap()
        .contains("&sign_type=RSA2&"));
    let form = request_form(&call, "2021001", NOW, &app_key()).unwrap();
    assert!(form.contains("grant_type=authorization_code"));
    assert!(form.contains("timestamp=2026-11-18+19%3A06%3A40"));
}

#[test]
fn sesame_calls_carry_the_token_and_the_product() {
    let score = sesame_score("token-1", "tx-1");
    assert_eq!(score.method, "zhima.credit.score.get");
    assert!(score
        .params
        .contains(&("auth_token".into(), "token-1".into())));
    let admit = sesame_admit("token-1", "tx-1", 600);
    let biz = &admit
        .params
        .iter()
        .find(|(k, _)| k == "biz_content")
        .unwrap()
        .1;
    let biz: serde_json::Value = serde_json::from_str(biz).unwrap();
    assert_eq!(biz["admittance_score"], 600);
    assert_eq!(biz["transaction_id"], "tx-1");
}

#[test]
fn a_signed_answer_is_read_with_its_member_text_as_sent() {
    // Spacing and key order as the gateway sent them: what is signed.
    let member = r#"{"user_id": "2088102150477652","access_token":"tok","expires_in":1296000}"#;
    let body = answer("alipay_system_oauth_token_response", member);
    let value = read_answer("alipay.system.oauth.token", 200, &body, &alipay_key()).unwrap();
    let user = read_oauth_token(&value).unwrap();
    assert_eq!(user.user_id, "2088102150477652");
    assert_eq!(user.access_token, "tok");
}

#[test]
fn a_changed_member_or_a_missing_signature_is_a_bad_signature() {
    let member = r#"{"code":"10000","zm_score":"720"}"#;
    let body = String::from_utf8(answer("zhima_credit_score_get_response", member)).unwrap();
    let tampered = body.replace("720", "920");
    let read = |body: &str| {
        read_answer(
            "zhima.credit.score.get",
            200,
            body.as_bytes(),
            &alipay_key(),
        )
    };
    assert_eq!(read(&tampered), Err(GatewayFailure::BadSignature));
    let unsigned = format!("{{\"zhima_credit_score_get_response\":{member}}}");
    assert_eq!(read(&unsigned), Err(GatewayFailure::BadSignature));
    let empty = format!("{{\"zhima_credit_score_get_response\":{member},\"sign\":\"\"}}");
    assert_eq!(read(&empty), Err(GatewayFailure::BadSignature));
    assert_eq!(
        read_sesame(&read(&body).unwrap()),
        Ok(ProviderOutcome::Score(720))
    );
}

#[test]
fn failures_are_told_apart() {
    let key = alipay_key();
    let read = |status, body: &[u8]| read_answer("zhima.credit.score.get", status, body, &key);
    assert!(matches!(
        read(502, b"<html>"),
        Err(GatewayFailure::Unavailable(_))
    ));
    assert!(matches!(
        read(200, b"<html>"),
        Err(GatewayFailure::Malformed(_))
    ));
    assert!(matches!(
        read(200, b"{}"),
        Err(GatewayFailure::Malformed(_))
    ));
    let refused = answer(
        "error_response",
        r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码无效"}"#,
    );
    assert_eq!(
        read(200, &refused),
        Err(GatewayFailure::Refused {
            code: "40002".into(),
            sub_code: "isv.code-invalid".into(),
            message: "授权码无效".into()
        })
    );
    let business = answer(
        "zhima_credit_score_get_response",
        r#"{"code":"40004","msg":"Business Failed","sub_code":"ZHIMA_NOT_AUTHORIZED"}"#,
    );
    assert!(matches!(
        read(200, &business),
        Err(GatewayFailure::Refused { .. })
    ));
}

#[test]
fn an_unsigned_refusal_is_read_but_a_badly_signed_one_is_not() {
    let member = r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}"#;
    let read = |body: String| {
        read_answer(
            "alipay.system.oauth.token",
            200,
            body.as_bytes(),
            &alipay_key(),
        )
    };
    for body in [
        format!("{{\"error_response\":{member}}}"),
        format!("{{\"error_response\":{member},\"sign\":\"\"}}"),
    ] {
        let failure = read(body).unwrap_err();
        assert!(
            matches!(failure, GatewayFailure::Refused { ref sub_code, .. } if sub_code == "isv.invalid-signature")
        );
    }
    let forged = format!("{{\"error_response\":{member},\"sign\":\"AAAA\"}}");
    assert_eq!(read(forged), Err(GatewayFailure::BadSignature));
}

#[test]
fn sesame_members_give_scores_or_decisions() {
    let read = |json: &str| read_sesame(&serde_json::from_str(json).unwrap());
    assert_eq!(
        read(r#"{"zm_score":"600"}"#),
        Ok(ProviderOutcome::Score(600))
    );
    assert_eq!(read(r#"{"zm_score":599}"#), Ok(ProviderOutcome::Score(599)));
    assert_eq!(
        read(r#"{"is_admittance":"Y"}"#),
        Ok(ProviderOutcome::Admit(true))
    );
    assert_eq!(
        read(r#"{"is_admittance":"N"}"#),
        Ok(ProviderOutcome::Admit(false))
    );
    assert!(matches!(
        read(r#"{"zm_score":"high"}"#),
        Err(GatewayFailure::Malformed(_))
    ));
    assert!(matches!(
        read(r#"{"code":"10000"}"#),
        Err(GatewayFailure::Malformed(_))
    ));
}

#[test]
fn every_failure_but_a_refusal_is_a_retryable_credit_failure() {
    for failure in [
        GatewayFailure::Unavailable("answered 502".into()),
        GatewayFailure::Malformed("x".into()),
        GatewayFailure::BadSignature,
    ] {
        assert!(matches!(
            failure.into_error("sesame"),
            Error::CreditUnavailable {
                provider: "sesame",
                ..
            }
        ));
    }
    let refused = GatewayFailure::Refused {
        code: "40002".into(),
        sub_code: "isv.code-invalid".into(),
        message: String::new(),
    };
    assert!(
        matches!(refused.into_error("alipay"), Error::Invalid { ref field, .. } if field == "auth_code")
    );
}

#[test]
fn a_refusal_of_our_own_signature_or_app_is_a_configuration_error_not_the_readers_issue_15() {
    let refused = |code: &str, sub_code: &str| GatewayFailure::Refused {
        code: code.into(),
        sub_code: sub_code.into(),
        message: "验签出错, 网关生成的验签字符串为 app_id=..&code=secret-code".into(),
    };
    for (code, sub_code, variable) in [
        ("40002", "isv.invalid-signature", "alipay_app_private_key"),
        ("40001", "isv.missing-signature", "alipay_app_private_key"),
        (
            "40002",
            "isv.invalid-signature-type",
            "alipay_app_private_key",
        ),
        (
            "40001",
            "isv.missing-signature-key",
            "alipay_app_private_key",
        ),
        ("40002", "isv.invalid-app-id", "alipay_app_id"),
        ("40001", "isv.missing-app-id", "alipay_app_id"),
        ("40006", "isv.insufficient-isv-permissions", "alipay_app_id"),
        ("40002", "ISV.INVALID-SIGNATURE", "alipay_app_private_key"),
    ] {
        for provider in ["alipay", "sesame"] {
            match refused(code, sub_code).into_error(provider) {
                Error::Config { name, reason } => {
                    assert_eq!(name, variable, "{sub_code}");
                    assert!(reason.contains(sub_code), "{reason}");
                    // The gateway's message stays in the operator's log.
                    assert!(!reason.contains("secret-code"), "{reason}");
                }
                other => panic!("{sub_code} for {provider} gave {other:?}"),
            }
        }
    }
    // The reader's own code, token or Sesame consent stay the reader's.
    for sub_code in [
        "isv.code-invalid",
        "aop.invalid-auth-token",
        "isv.insufficient-user-permissions",
    ] {
        assert_eq!(refused("40002", sub_code).misconfigured(), None);
    }
    assert_eq!(GatewayFailure::BadSignature.misconfigured(), None);
}
