//! The client's roots: fetched when the client announces a change (or before the first file
//! operation), and the file scope every file operation uses. The roots are the session's own:
//! two hosts of one profile over `serve --http` never narrow each other's files.
#![allow(deprecated)]

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

use super::Switchboard;
use crate::policy::{ClientRoots, FileScope, Policy, Root};

/// How long a tool call waits for the client's `roots/list` answer before going on without it.
pub(crate) const ROOTS_TIMEOUT: Duration = Duration::from_secs(5);

impl Switchboard {
    /// The policy snapshot for one file operation, after refreshing the client's roots when the
    /// client announced a change (or has not been asked yet).
    pub async fn file_scope(&self, ctx: &RequestContext<RoleServer>) -> FileScope {
        self.refresh_client_roots(&ctx.peer).await;
        self.current_scope()
    }

    /// This session's client roots (`Unknown` until its client answers `roots/list`).
    pub fn client_roots(&self) -> ClientRoots {
        self.client_roots
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The roots in force for this session: the configured ones narrowed by its client's.
    pub fn effective_roots(&self) -> Vec<Root> {
        self.policy.effective_roots(&self.client_roots())
    }

    /// The file scope in force for this session now, without asking the client again.
    pub fn current_scope(&self) -> FileScope {
        self.policy.scope(&self.client_roots())
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
                let roots = Policy::canonical_client_roots(paths);
                // The child servers are the profile's: they see the roots a client told last.
                *self
                    .latest_client_roots
                    .write()
                    .unwrap_or_else(|e| e.into_inner()) = roots.clone();
                *self.client_roots.write().unwrap_or_else(|e| e.into_inner()) = roots;
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
