//! Outgoing communication: email, webhooks, ntfy pushes and desktop notifications, plus the
//! outbox that records every attempt and enforces the rate limits. Nothing here knows MCP; the
//! tools in `tools/comms/` are thin adapters that add the user's confirmation.

pub mod desktop;
pub mod email;
pub mod outbox;
pub mod push;
pub mod webhook;

/// The session's comms state: the outbox (opened on first use) and the questions put to the
/// user that await an answer.
#[derive(Default)]
pub struct CommsState {
    pub outbox: crate::support::LazyStore<outbox::Outbox>,
    /// handle → (digest of the arguments asked about, when asked).
    pub pending: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
}
