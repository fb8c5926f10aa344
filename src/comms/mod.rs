//! Outgoing communication (issue 8, in progress): email and webhooks first. Nothing here knows MCP; the
//! tools will be thin adapters, and every send will go through the recipient allowlists and
//! confirmation the config sets.

pub mod email;
pub mod webhook;
