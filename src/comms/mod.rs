//! Outgoing communication: email, webhooks, ntfy pushes and desktop notifications, plus the
//! outbox that records every attempt and enforces the rate limits. Nothing here knows MCP; the
//! tools in `tools/comms/` are thin adapters that add the user's confirmation.

pub mod desktop;
pub mod email;
pub mod outbox;
pub mod push;
pub mod webhook;

/// The session's comms state: the outbox (opened on first use).
#[derive(Default)]
pub struct CommsState {
    pub outbox: crate::support::LazyStore<outbox::Outbox>,
}

/// What a notification may show (`comms.max_title_chars`, `comms.max_notification_bytes`).
#[derive(Debug, Clone, Copy)]
pub struct NoticeCaps {
    pub title_chars: usize,
    pub body_bytes: usize,
}

/// Every notification title starts with it, so the person who reads one knows it came from
/// an agent through switchboard and not from the program it names.
pub const SENDER: &str = "switchboard: ";

/// Why a notification's text cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeRefusal {
    Empty(&'static str),
    TooLarge(String),
}

/// A title as shown: control characters, escapes and direction overrides removed, under the
/// cap, with the sender in front.
pub fn notice_title(title: &str, caps: NoticeCaps) -> Result<String, NoticeRefusal> {
    let t = crate::support::text::display_safe(title, false);
    let t = t.trim();
    if t.is_empty() {
        return Err(NoticeRefusal::Empty(
            "title is empty: give a short headline",
        ));
    }
    let n = t.chars().count();
    if n > caps.title_chars {
        return Err(NoticeRefusal::TooLarge(format!(
            "the title is {n} characters, over the {} a notification shows (comms.max_title_chars); shorten it",
            caps.title_chars
        )));
    }
    Ok(format!("{SENDER}{t}"))
}

/// A body as shown: control characters, escapes and direction overrides removed (line breaks
/// kept), under the cap.
pub fn notice_body(body: &str, caps: NoticeCaps) -> Result<String, NoticeRefusal> {
    let b = crate::support::text::display_safe(body, true);
    if b.len() > caps.body_bytes {
        return Err(NoticeRefusal::TooLarge(format!(
            "the text is {} bytes, over the {} a notification carries (comms.max_notification_bytes); shorten it, or send the details by email or into a file",
            b.len(),
            caps.body_bytes
        )));
    }
    Ok(b)
}
