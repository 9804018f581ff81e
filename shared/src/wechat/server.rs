//! *Server messages*: the XML that WeChat POSTs to our account's callback
//! URL when a reader writes to the account, follows or unfollows it, or
//! answers a subscription-message popup; and the passive text reply.
//!
//! WeChat retries a push it got no answer to (three times, five seconds
//! apart), so each [`Inbound`] names its [`Inbound::dedupe_key`]: the
//! `MsgId` of a message, `FromUserName` + `CreateTime` + event of an event,
//! as WeChat's documentation recommends.
//!
//! The XML is read with quick-xml, which expands no external entities and
//! loads no DTD; a document type declaration is refused outright, since
//! WeChat never sends one.

use crate::{Error, Result};
use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;

/// Deeper nesting than this is refused: WeChat's deepest push (the popup
/// event's `List`) has three levels.
const MAX_DEPTH: usize = 8;

/// An element: its name, its text (CDATA and escaped text joined) and its
/// children, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    fn required(&self, name: &str) -> Result<&str> {
        self.child_text(name)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::invalid(name, "missing from the message"))
    }
}

fn malformed(reason: impl std::fmt::Display) -> Error {
    Error::invalid("body", format!("malformed XML: {reason}"))
}

/// Closes the innermost open element: into its parent, or as the root.
fn close(stack: &mut Vec<Node>, root: &mut Option<Node>) -> Result<()> {
    let node = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => *root = Some(node),
    }
    Ok(())
}

/// Reads `xml` into its root element; anything but one well-formed root
/// element is [`Error::Invalid`].
pub(crate) fn parse_document(xml: &str) -> Result<Node> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            XmlEvent::Start(ref tag) | XmlEvent::Empty(ref tag) => {
                if root.is_some() {
                    return Err(malformed("content after the root element"));
                }
                if stack.len() == MAX_DEPTH {
                    return Err(malformed("nested too deep"));
                }
                let name = tag.name();
                let name = std::str::from_utf8(name.as_ref()).map_err(malformed)?;
                stack.push(Node {
                    name: name.to_string(),
                    ..Node::default()
                });
                if matches!(event, XmlEvent::Empty(_)) {
                    close(&mut stack, &mut root)?;
                }
            }
            // check_end_names has matched the end tag with its start.
            XmlEvent::End(_) => close(&mut stack, &mut root)?,
            XmlEvent::Text(text) => {
                let text = text.unescape().map_err(malformed)?;
                match stack.last_mut() {
                    Some(node) => node.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            XmlEvent::CData(data) => {
                let text = std::str::from_utf8(&data).map_err(malformed)?;
                let node = stack
                    .last_mut()
                    .ok_or_else(|| malformed("CDATA outside the root"))?;
                node.text.push_str(text);
            }
            XmlEvent::DocType(_) => {
                return Err(malformed("document type declarations are refused"))
            }
            XmlEvent::Decl(_) | XmlEvent::Comment(_) | XmlEvent::PI(_) => {}
            XmlEvent::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("unclosed element"));
    }
    root.ok_or_else(|| malformed("no root element"))
}

/// One reader's answer to one template in a subscription-message popup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionGrant {
    /// The template (`TemplateId`).
    pub template_id: String,
    /// Whether the reader accepted (`SubscribeStatusString` = `accept`).
    /// Anything else (`reject`, or a status WeChat adds later) is no grant:
    /// a notice sent on a grant we misread would fail anyway.
    pub accepted: bool,
}

/// An event pushed to the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The reader followed the account (`subscribe`).
    Subscribe,
    /// The reader unfollowed it (`unsubscribe`).
    Unsubscribe,
    /// The reader answered a subscription-message popup
    /// (`subscribe_msg_popup_event`), one grant per template.
    SubscribeMsgPopup {
        /// The answers, in WeChat's order.
        grants: Vec<SubscriptionGrant>,
    },
    /// Any other event, by its `Event` name; answered and otherwise ignored.
    Other(String),
}

/// A push from WeChat, as far as we act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A text message from a reader.
    Text {
        /// The reader's openid (`FromUserName`).
        from: String,
        /// Our account (`ToUserName`).
        to: String,
        /// What the reader wrote.
        content: String,
        /// WeChat's id of the message, unique: the dedupe key.
        msg_id: String,
        /// `CreateTime`, epoch seconds.
        created: i64,
    },
    /// An event; events carry no `MsgId`.
    Event {
        /// The reader's openid (`FromUserName`).
        from: String,
        /// Our account (`ToUserName`).
        to: String,
        /// `CreateTime`, epoch seconds.
        created: i64,
        /// What happened.
        event: Event,
    },
    /// Any other message type (image, voice, location..), by its
    /// `MsgType`; answered and otherwise ignored.
    Other {
        /// The reader's openid (`FromUserName`).
        from: String,
        /// `MsgType`.
        msg_type: String,
        /// `CreateTime`, epoch seconds.
        created: i64,
    },
}

impl Inbound {
    /// Parses a plain message (or a safe-mode one once opened with
    /// [`super::crypto::SafeMode::open`]).
    pub fn parse(xml: &str) -> Result<Inbound> {
        let doc = parse_document(xml)?;
        if doc.name != "xml" {
            return Err(malformed("the root element is not <xml>"));
        }
        let from = doc.required("FromUserName")?.to_string();
        let to = doc.required("ToUserName")?.to_string();
        let created = doc
            .required("CreateTime")?
            .parse::<i64>()
            .map_err(|_| Error::invalid("CreateTime", "not an integer"))?;
        let msg_type = doc.required("MsgType")?;
        Ok(match msg_type {
            "text" => Inbound::Text {
                from,
                to,
                content: doc.child_text("Content").unwrap_or("").to_string(),
                msg_id: doc.required("MsgId")?.to_string(),
                created,
            },
            "event" => Inbound::Event {
                from,
                to,
                created,
                event: parse_event(&doc)?,
            },
            other => Inbound::Other {
                from,
                msg_type: other.to_string(),
                created,
            },
        })
    }

    /// Who sent it: the follower's openid (of the official account).
    pub fn from(&self) -> &str {
        match self {
            Inbound::Text { from, .. }
            | Inbound::Event { from, .. }
            | Inbound::Other { from, .. } => from,
        }
    }

    /// The key-value key under which to remember this push so that a
    /// retry of it is answered and not acted on twice.
    pub fn dedupe_key(&self) -> String {
        match self {
            Inbound::Text { msg_id, .. } => format!("wechat:msg:{msg_id}"),
            Inbound::Event {
                from,
                created,
                event,
                ..
            } => {
                let name = match event {
                    Event::Subscribe => "subscribe",
                    Event::Unsubscribe => "unsubscribe",
                    Event::SubscribeMsgPopup { .. } => "subscribe_msg_popup_event",
                    Event::Other(name) => name,
                };
                format!("wechat:event:{from}:{created}:{name}")
            }
            Inbound::Other {
                from,
                created,
                msg_type,
            } => {
                format!("wechat:other:{from}:{created}:{msg_type}")
            }
        }
    }
}

fn parse_event(doc: &Node) -> Result<Event> {
    Ok(match doc.required("Event")? {
        "subscribe" => Event::Subscribe,
        "unsubscribe" => Event::Unsubscribe,
        "subscribe_msg_popup_event" => {
            let popup = doc.child("SubscribeMsgPopupEvent").ok_or_else(|| {
                Error::invalid("SubscribeMsgPopupEvent", "missing from the event")
            })?;
            let grants = popup
                .children
                .iter()
                .filter(|c| c.name == "List")
                .map(|item| {
                    Ok(SubscriptionGrant {
                        template_id: item.required("TemplateId")?.to_string(),
                        accepted: item.child_text("SubscribeStatusString") == Some("accept"),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Event::SubscribeMsgPopup { grants }
        }
        other => Event::Other(other.to_string()),
    })
}

/// `text` as CDATA content: a `]]>` inside is split across two sections,
/// and characters XML 1.0 forbids are dropped.
fn cdata(text: &str) -> String {
    let allowed = |c: &char| matches!(c, '\t' | '\n' | '\r') || *c >= ' ';
    let clean: String = text.chars().filter(allowed).collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply to a reader's message: `to` is the reader's
/// openid, `from` our account, `created` the epoch seconds of now.
pub fn text_reply(to: &str, from: &str, content: &str, created: i64) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
         <CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content>{}</Content></xml>",
        cdata(to),
        cdata(from),
        cdata(content)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "<xml><ToUserName><![CDATA[gh_library]]></ToUserName>\
        <FromUserName><![CDATA[oReader1]]></FromUserName><CreateTime>1700000000</CreateTime>\
        <MsgType><![CDATA[text]]></MsgType><Content><![CDATA[续借 <all> & more]]></Content>\
        <MsgId>24000000000000001</MsgId></xml>";

    const POPUP: &str = r#"<?xml version="1.0"?>
        <xml><ToUserName><![CDATA[gh_library]]></ToUserName>
        <FromUserName><![CDATA[oReader1]]></FromUserName>
        <CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType>
        <Event><![CDATA[subscribe_msg_popup_event]]></Event>
        <SubscribeMsgPopupEvent>
          <List><TemplateId><![CDATA[tpl-due]]></TemplateId>
            <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
            <PopupScene>2</PopupScene></List>
          <List><TemplateId><![CDATA[tpl-ready]]></TemplateId>
            <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
            <PopupScene>2</PopupScene></List>
        </SubscribeMsgPopupEvent></xml>"#;

    fn event(name: &str) -> String {
        format!(
            "<xml><ToUserName>gh_library</ToUserName><FromUserName>oReader1</FromUserName>\
             <CreateTime>1700000001</CreateTime><MsgType>event</MsgType>\
             <Event><![CDATA[{name}]]></Event><EventKey><![CDATA[]]></EventKey></xml>"
        )
    }

    #[test]
    fn a_text_message_is_read_with_its_dedupe_key() {
        let inbound = Inbound::parse(TEXT).unwrap();
        assert_eq!(
            inbound,
            Inbound::Text {
                from: "oReader1".into(),
                to: "gh_library".into(),
                content: "续借 <all> & more".into(),
                msg_id: "24000000000000001".into(),
                created: 1_700_000_000,
            }
        );
        assert_eq!(inbound.dedupe_key(), "wechat:msg:24000000000000001");
    }

    #[test]
    fn escaped_text_is_unescaped() {
        let xml = TEXT.replace("<![CDATA[续借 <all> & more]]>", "a &lt;b&gt; &amp; c");
        let Inbound::Text { content, .. } = Inbound::parse(&xml).unwrap() else {
            panic!("not text")
        };
        assert_eq!(content, "a <b> & c");
    }

    #[test]
    fn a_popup_answer_lists_each_templates_grant() {
        let inbound = Inbound::parse(POPUP).unwrap();
        let Inbound::Event { event, created, .. } = &inbound else {
            panic!("not an event")
        };
        assert_eq!(*created, 1_610_969_440);
        assert_eq!(
            *event,
            Event::SubscribeMsgPopup {
                grants: vec![
                    SubscriptionGrant {
                        template_id: "tpl-due".into(),
                        accepted: true
                    },
                    SubscriptionGrant {
                        template_id: "tpl-ready".into(),
                        accepted: false
                    },
                ]
            }
        );
        assert_eq!(
            inbound.dedupe_key(),
            "wechat:event:oReader1:1610969440:subscribe_msg_popup_event"
        );
    }

    #[test]
    fn follow_unfollow_and_other_events_are_told_apart() {
        let read = |name: &str| match Inbound::parse(&event(name)).unwrap() {
            Inbound::Event { event, .. } => event,
            other => panic!("{other:?}"),
        };
        assert_eq!(read("subscribe"), Event::Subscribe);
        assert_eq!(read("unsubscribe"), Event::Unsubscribe);
        assert_eq!(read("CLICK"), Event::Other("CLICK".into()));
    }

    #[test]
    fn other_message_types_are_kept_by_name() {
        let xml = TEXT.replace("<![CDATA[text]]>", "image");
        let inbound = Inbound::parse(&xml).unwrap();
        assert!(matches!(&inbound, Inbound::Other { msg_type, .. } if msg_type == "image"));
        assert_eq!(
            inbound.dedupe_key(),
            "wechat:other:oReader1:1700000000:image"
        );
    }

    #[test]
    fn malformed_or_incomplete_messages_are_invalid() {
        let doctype = format!("<!DOCTYPE xml [<!ENTITY e \"x\">]>{TEXT}");
        let bad = [
            "",
            "not xml",
            "<xml><ToUserName>a</xml>",
            "<xml></xml><xml></xml>",
            &doctype,
            &TEXT.replace("<MsgId>24000000000000001</MsgId>", ""),
            &TEXT.replace("1700000000", "yesterday"),
            &TEXT.replace("<xml>", "<msg>").replace("</xml>", "</msg>"),
            &event("subscribe_msg_popup_event"),
            &"<a>".repeat(20),
        ];
        for xml in bad {
            assert!(
                matches!(Inbound::parse(xml), Err(Error::Invalid { .. })),
                "{xml}"
            );
        }
    }

    #[test]
    fn a_text_reply_survives_cdata_breakers() {
        let reply = text_reply("oReader1", "gh_library", "a]]>b\u{1}c", 1_700_000_002);
        assert!(reply.contains("<Content><![CDATA[a]]]]><![CDATA[>bc]]></Content>"));
        let back = parse_document(&reply).unwrap();
        assert_eq!(back.child_text("Content"), Some("a]]>bc"));
        assert_eq!(back.child_text("ToUserName"), Some("oReader1"));
        assert_eq!(back.child_text("CreateTime"), Some("1700000002"));
        assert_eq!(back.child_text("MsgType"), Some("text"));
    }
}
