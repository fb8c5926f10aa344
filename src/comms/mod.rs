//! Outgoing communication (issue 8, in progress): email, webhooks and ntfy pushes first. Nothing here knows MCP; the
//! tools will be thin adapters, and every send will go through the recipient allowlists and
//! confirmation the config sets.

pub mod email;
pub mod push;
pub mod webhook;
