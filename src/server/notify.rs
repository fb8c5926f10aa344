//! Telling the client: log messages at the level it asked for.
#![allow(deprecated)]

use rmcp::model::*;
use rmcp::{Peer, RoleServer};

use super::Switchboard;

impl Switchboard {
    /// [`Self::tell_client`] when there is a client to tell; the log alone otherwise.
    pub(crate) async fn tell(
        &self,
        peer: Option<&Peer<RoleServer>>,
        level: LoggingLevel,
        message: String,
    ) {
        match peer {
            Some(peer) => self.tell_client(peer, level, message).await,
            None => tracing::warn!("{message}"),
        }
    }

    /// Tells the client's user about something worth seeing in the host's log, when the client
    /// asked for that level. Also logged locally.
    pub(crate) async fn tell_client(
        &self,
        peer: &Peer<RoleServer>,
        level: LoggingLevel,
        message: String,
    ) {
        tracing::warn!("{message}");
        let wanted = *self
            .client_log_level
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if crate::mcp::rank(level) < crate::mcp::rank(wanted) || peer.peer_info().is_none() {
            return;
        }
        let mut param =
            LoggingMessageNotificationParam::new(level, serde_json::Value::String(message));
        param.logger = Some("switchboard".into());
        let _ = peer.notify_logging_message(param).await;
    }
}
