//! Outgoing communication: email, webhooks, ntfy pushes and desktop notifications, plus the
//! outbox that records every attempt and enforces the rate limits. Nothing here knows MCP; the
//! tools in `tools/comms/` are thin adapters that add the user's confirmation.

pub mod desktop;
pub mod email;
pub mod outbox;
pub mod push;
pub mod webhook;
