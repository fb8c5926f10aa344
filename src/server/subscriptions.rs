//! Resource subscriptions: what a URI watches (files, the memory graph, a note, a database
//! file) and the updates sent while it changes.
#![allow(deprecated)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rmcp::model::*;
use rmcp::{ErrorData as McpError, Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::Switchboard;

/// How often a subscribed resource that is not a file (the memory, a note) is checked.
pub(crate) const SUBSCRIPTION_POLL: Duration = Duration::from_millis(500);

impl Switchboard {
    pub(crate) fn room_for_one_more(&self, held: usize) -> Result<(), McpError> {
        let max = self.settings.max_subscriptions;
        if held >= max {
            return Err(McpError::invalid_params(
                format!(
                    "too many subscriptions (at most {max}, resources.max_subscriptions); unsubscribe from some first"
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Subscribes to a file or folder: the shared watcher reports its changes.
    pub(crate) fn subscribe_path(
        &self,
        uri: String,
        path: PathBuf,
        peer: &Peer<RoleServer>,
    ) -> Result<(), McpError> {
        let mut subs = crate::support::lock(&self.subscriptions);
        if subs.contains_key(&uri) {
            return Ok(());
        }
        self.room_for_one_more(subs.len())?;
        self.watch_path(&uri, path, peer)?;
        subs.insert(uri, CancellationToken::new());
        Ok(())
    }

    /// Starts watching a file or folder for a subscription (one watcher per session).
    pub(crate) fn watch_path(
        &self,
        uri: &str,
        path: PathBuf,
        peer: &Peer<RoleServer>,
    ) -> Result<(), McpError> {
        let is_dir = path.is_dir();
        if is_dir {
            let limit = self.settings.max_watched_folders;
            let count = walkdir_count(&path, limit + 1);
            if count > limit {
                return Err(McpError::invalid_params(
                    format!(
                        "`{uri}` has more than {limit} folders below it (resources.max_watched_folders); subscribe to a smaller folder or to single files"
                    ),
                    None,
                ));
            }
        }
        let mut slot = crate::support::lock(&self.file_watch);
        if slot.is_none() {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let w = crate::support::watch::PathWatch::new(tx)
                .map_err(|e| McpError::internal_error(format!("cannot watch files: {e}"), None))?;
            tokio::spawn(forward_updates(rx, peer.clone(), self.shutdown.clone()));
            *slot = Some(w);
        }
        let Some(w) = slot.as_mut() else {
            return Err(McpError::internal_error("no file watcher", None));
        };
        w.add(uri, path, is_dir)
            .map_err(|e| McpError::invalid_params(format!("`{uri}` cannot be watched: {e}"), None))
    }

    pub(crate) fn watch(
        &self,
        uri: String,
        target: WatchTarget,
        peer: Peer<RoleServer>,
    ) -> CancellationToken {
        let token = self.shutdown.child_token();
        let stop = token.clone();
        let me = self.clone();
        tokio::spawn(async move {
            let mut last = target.stamp(&me).await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(SUBSCRIPTION_POLL) => {}
                }
                let now = target.stamp(&me).await;
                if now != last {
                    last = now;
                    let param = ResourceUpdatedNotificationParam::new(uri.clone());
                    if peer.notify_resource_updated(param).await.is_err() {
                        break;
                    }
                }
            }
        });
        token
    }
}

/// Counts the folders at and below `dir`, stopping at `stop`.
pub(crate) fn walkdir_count(dir: &std::path::Path, stop: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        count += 1;
        if count >= stop {
            break;
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.filter_map(Result::ok) {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                }
            }
        }
    }
    count
}

/// Sends `notifications/resources/updated` for the URIs the file watcher reports, once per
/// URI per short burst.
pub(crate) async fn forward_updates(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    peer: Peer<RoleServer>,
    stop: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            _ = stop.cancelled() => return,
            got = rx.recv() => match got { Some(u) => u, None => return },
        };
        let mut uris = vec![first];
        while let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            if !uris.contains(&u) {
                uris.push(u);
            }
        }
        for uri in uris {
            let param = ResourceUpdatedNotificationParam::new(uri);
            if peer.notify_resource_updated(param).await.is_err() {
                return;
            }
        }
    }
}

/// What a subscription watches: files' sizes and modification times (or their absence), the
/// knowledge graph's change counter, or one note.
pub(crate) enum WatchTarget {
    Files(Vec<PathBuf>),
    Graph,
    Note(i64),
}

impl WatchTarget {
    pub(crate) async fn stamp(&self, sb: &Switchboard) -> String {
        use crate::memory::resources::{graph_stamp, note_stamp};
        match self {
            WatchTarget::Files(paths) => {
                let stamps: Vec<Option<(u64, SystemTime)>> = paths
                    .iter()
                    .map(|p| crate::support::file_stamp(p))
                    .collect();
                format!("{stamps:?}")
            }
            WatchTarget::Graph => sb
                .with_notes(|m| Ok(graph_stamp(m)))
                .await
                .unwrap_or_default(),
            WatchTarget::Note(id) => {
                let id = *id;
                sb.with_notes(move |m| Ok(note_stamp(m, id)))
                    .await
                    .unwrap_or_default()
            }
        }
    }
}
