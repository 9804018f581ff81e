//! WeChat server messages in plain mode (`/webhooks/wechat`): the query's
//! `signature`, `timestamp`, `nonce` and `echostr`, then the XML body.
//!
//! Input: those four lines, then the body.
//!
//! Properties: nothing panics (handshake, freshness, XML, the reader's
//! text command); a handshake that passes carries the SHA1 signature of
//! token, timestamp and nonce; and our passive reply to a text message,
//! whatever the reader wrote, is XML that reads back with the same
//! parties and content (less the characters XML 1.0 forbids).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wangjie_fuzz::{lines, text};
use wangjie_shared::wechat::crypto::{sha1_signature, verify_handshake};
use wangjie_shared::wechat::inbox::{check_fresh, Command};
use wangjie_shared::wechat::server::{text_reply, Inbound};

const TOKEN: &str = "wangjie-token";
const NOW_MS: i64 = 1_700_000_000_000;

/// What survives a CDATA section: XML 1.0 characters, then trimmed as
/// the parser's `child_text` trims.
fn cleaned(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || *c >= ' ')
        .collect::<String>()
        .trim()
        .to_string()
}

fuzz_target!(|data: &[u8]| {
    let (fields, body) = lines(data, 4);
    let [signature, timestamp, nonce, echostr] = &fields[..] else {
        unreachable!()
    };
    if let Ok(echo) = verify_handshake(TOKEN, signature, timestamp, nonce, echostr) {
        assert_eq!(echo, echostr);
        let expected = sha1_signature(&[TOKEN, timestamp, nonce]);
        assert!(expected.eq_ignore_ascii_case(signature));
    }
    let _ = check_fresh(timestamp, NOW_MS);
    let Some(xml) = text(body) else {
        return;
    };
    let Ok(inbound) = Inbound::parse(xml) else {
        return;
    };
    assert!(inbound.dedupe_key().starts_with("wechat:"));
    assert!(!inbound.from().is_empty());
    if let Inbound::Text {
        from,
        to,
        content,
        created,
        ..
    } = &inbound
    {
        let _ = Command::parse(content);
        let reply = text_reply(from, to, content, *created);
        // Our reply has no MsgId; give it one so it reads as a message.
        let reply = format!(
            "{}<MsgId>1</MsgId></xml>",
            reply.strip_suffix("</xml>").unwrap()
        );
        let (reader, account) = (cleaned(from), cleaned(to));
        if reader.is_empty() || account.is_empty() {
            return;
        }
        match Inbound::parse(&reply) {
            Ok(Inbound::Text {
                from: f,
                to: t,
                content: c,
                created: when,
                ..
            }) => {
                assert_eq!((f, t, when), (account, reader, *created));
                assert_eq!(c, cleaned(content));
            }
            other => panic!("our reply {reply:?} reads as {other:?}"),
        }
    }
});
