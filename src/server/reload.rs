//! Hot reload: the tool, prompt and resource folders are watched, reloaded after a burst of
//! changes, and the lists that changed are published on the change bus (each session tells
//! its client the way its protocol generation defines).
#![allow(deprecated)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::*;
use rmcp::{Peer, RoleServer};

use super::Switchboard;
use crate::folders::Folders;
use crate::mcp::changes::Change;

/// A burst of folder changes ends after this long without another.
pub(crate) const RELOAD_QUIET: Duration = Duration::from_millis(150);

impl Switchboard {
    /// Reloads the folders whenever they change and publishes which lists changed (every
    /// session of the profile tells its client), until the profile's background ends. A file
    /// that breaks keeps its previous version (see `folders`); `peer`, the session that
    /// started the watch, hears of it.
    pub(crate) async fn watch_folders(self, peer: Option<Peer<RoleServer>>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let s = &self.settings;
        let dirs: Vec<(PathBuf, bool)> = s
            .tools
            .dirs
            .iter()
            .chain(s.prompt_dirs.iter())
            .map(|d| (d.clone(), false))
            .chain(s.resource_dirs.iter().map(|d| (d.clone(), true)))
            .collect();
        let watched: Vec<PathBuf> = dirs.iter().map(|(d, _)| d.clone()).collect();
        // A few inotify calls: quick enough for the protocol thread.
        let watch = match crate::folders::FolderWatch::new(dirs, tx) {
            Ok(w) => Arc::new(Mutex::new(w)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the tool, prompt and resource folders; changes apply at the next start");
                return;
            }
        };
        // The first pass catches what changed between the start-up snapshot and the watch
        // (only when a file in the folders is that recent: a reload is not free).
        // A few dozen stat calls: quick enough for the protocol thread.
        let mut first = watched.iter().any(|d| changed_since(d, self.created, 4));
        loop {
            if !first {
                tokio::select! {
                    _ = self.background.cancelled() => return,
                    got = rx.recv() => if got.is_none() { return },
                }
                // One reload per burst of changes.
                loop {
                    match tokio::time::timeout(RELOAD_QUIET, rx.recv()).await {
                        Ok(Some(())) => continue,
                        Ok(None) => return,
                        Err(_) => break,
                    }
                }
            }
            first = false;
            let me = self.clone();
            let w = watch.clone();
            let swapped = tokio::task::spawn_blocking(move || {
                let before = me.folders();
                let after = Arc::new(Folders::load(
                    &me.settings,
                    Some(&before),
                    &crate::tools::is_built_in,
                ));
                *crate::support::lock(&me.folders) = Some(after.clone());
                crate::support::lock(&w).sync();
                (before, after)
            })
            .await;
            let Ok((before, after)) = swapped else {
                continue;
            };
            let tools = |f: &Folders| {
                serde_json::to_string(
                    &f.visible_tools(&self.settings)
                        .map(|t| &t.tool)
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default()
            };
            if tools(&before) != tools(&after) {
                tracing::info!("declarative tools changed; telling the host");
                self.changes.publish(Change::Tools);
            }
            let prompts =
                |f: &Folders| serde_json::to_string(&Self::prompt_list(f)).unwrap_or_default();
            if prompts(&before) != prompts(&after) {
                tracing::info!("prompts changed; telling the host");
                self.changes.publish(Change::Prompts);
            }
            let res =
                |f: &Folders| serde_json::to_string(&self.resource_list(f)).unwrap_or_default();
            if res(&before) != res(&after) {
                tracing::info!("resources changed; telling the host");
                self.changes.publish(Change::Resources);
            }
            let old: std::collections::HashSet<String> = before.problems().into_iter().collect();
            for p in after.problems().into_iter().filter(|p| !old.contains(p)) {
                self.tell(peer.as_ref(), LoggingLevel::Error, format!("skipped: {p}"))
                    .await;
            }
        }
    }
}

/// Whether `dir` or anything below it (down to `depth` levels) was modified at or after `since`.
fn changed_since(dir: &std::path::Path, since: std::time::SystemTime, depth: usize) -> bool {
    let recent = |p: &std::path::Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since)
    };
    if recent(dir) {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            depth > 0 && changed_since(&p, since, depth - 1)
        } else {
            recent(&p)
        }
    })
}
