//! The client's roots: fetched when the client announces a change (or before the first file
//! operation), and the file scope every file operation uses.
#![allow(deprecated)]

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

use super::Switchboard;
use crate::policy::FileScope;

/// How long a tool call waits for the client's `roots/list` answer before going on without it.
pub(crate) const ROOTS_TIMEOUT: Duration = Duration::from_secs(5);

impl Switchboard {
    /// The policy snapshot for one file operation, after refreshing the client's roots when the
    /// client announced a change (or has not been asked yet).
    pub async fn file_scope(&self, ctx: &RequestContext<RoleServer>) -> FileScope {
        self.refresh_client_roots(&ctx.peer).await;
        self.policy.scope()
    }

    pub(crate) async fn refresh_client_roots(&self, peer: &Peer<RoleServer>) {
        if !self.roots_stale.load(Ordering::Acquire) {
            return;
        }
        let supports_roots = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !supports_roots {
            // Nothing to fetch, now or later (a roots change notification sets this again).
            self.roots_stale.store(false, Ordering::Release);
            return;
        }
        let _one_at_a_time = self.roots_fetch.lock().await;
        if !self.roots_stale.load(Ordering::Acquire) {
            return;
        }
        match tokio::time::timeout(ROOTS_TIMEOUT, peer.list_roots()).await {
            Ok(Ok(result)) => {
                let paths: Vec<PathBuf> = result
                    .roots
                    .iter()
                    .filter_map(|r| crate::support::uri::file_uri_to_path(&r.uri))
                    .map(PathBuf::from)
                    .collect();
                tracing::info!(count = paths.len(), "client roots received");
                self.policy.set_client_roots(paths);
            }
            Ok(Err(e)) => {
                let msg = format!(
                    "the client did not answer roots/list ({e}); the configured roots apply"
                );
                self.tell_client(peer, LoggingLevel::Warning, msg).await;
            }
            Err(_) => {
                let msg = format!(
                    "roots/list got no answer within {ROOTS_TIMEOUT:?}; the configured roots apply"
                );
                self.tell_client(peer, LoggingLevel::Warning, msg).await;
            }
        }
        self.roots_stale.store(false, Ordering::Release);
    }
}
