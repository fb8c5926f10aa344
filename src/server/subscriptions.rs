//! Resource subscriptions, for both protocol generations. What a URI watches (files and
//! folders through one file watcher; the memory graph or a note by polling, or by PostgreSQL's
//! announcements when the memory is there; a database file by polling) is
//! decided once in [`Switchboard::watch_target`]; a watch is shared and counted, so the
//! `resources/subscribe` of an `initialize`-era client and the `subscriptions/listen` streams
//! of a 2026-07-28 client start and stop the same watchers. Changes go on the change bus
//! ([`crate::mcp::changes`]), and each session delivers them the way its revision defines.
#![allow(deprecated)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rmcp::model::SubscriptionFilter;
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, Peer, RoleServer};
use tokio_util::sync::CancellationToken;

use super::Switchboard;
use super::resource_reads::{resource_error, schema_connection};
use crate::mcp::changes::{self, Change};
use crate::resources::{self, ResourceError};

/// How often a subscribed resource that is not a file (the memory, a note) is checked.
const SUBSCRIPTION_POLL: Duration = Duration::from_millis(500);
/// With a memory that announces its changes (PostgreSQL), how often it is checked anyway.
const ANNOUNCED_RECHECK: Duration = Duration::from_secs(60);

/// What a subscription watches.
pub(crate) enum WatchTarget {
    /// A file or folder, through the shared file watcher.
    Path(PathBuf),
    /// Files' sizes and modification times (a database and its WAL), polled.
    Files(Vec<PathBuf>),
    /// The knowledge graph's change counter.
    Graph,
    /// One note.
    Note(i64),
    /// Something that never changes (a built-in resource): accepted, and quiet.
    Quiet,
    /// A child server's resource: the child sends its updates.
    Child,
}

/// One watch, shared by every subscription to its URI.
pub(crate) struct Watch {
    holders: usize,
    stop: CancellationToken,
}

impl Switchboard {
    /// What subscribing to `uri` watches, or why it cannot be subscribed to.
    pub(crate) fn watch_target(
        &self,
        uri: &str,
        scope: &crate::policy::FileScope,
    ) -> Result<WatchTarget, McpError> {
        if uri.starts_with(crate::proxy::names::URI_PREFIX) {
            return match self.hub() {
                Some(_) => Ok(WatchTarget::Child),
                None => Err(resource_error(ResourceError::NotFound(uri.to_owned()))),
            };
        }
        if uri == crate::memory::resources::GRAPH_URI {
            return Ok(WatchTarget::Graph);
        }
        if let Some(id) = crate::memory::resources::note_id(uri) {
            return Ok(WatchTarget::Note(id));
        }
        if let Some(p) = crate::support::uri::file_uri_to_path(uri) {
            let path = scope
                .existing(&p)
                .map_err(|e| McpError::invalid_params(e.to_string(), None))?
                .path;
            return Ok(WatchTarget::Path(path));
        }
        if resources::DYNAMIC.iter().any(|d| d.uri == uri) {
            return Err(McpError::invalid_params(
                format!(
                    "`{uri}` is computed when read and sends no updates; read it again when you need it"
                ),
                None,
            ));
        }
        if let Some(name) = schema_connection(uri) {
            return match self.databases().settings.get(name).map(|c| &c.target) {
                // A WAL database changes its -wal file first.
                Some(crate::config::Target::Sqlite(p)) => {
                    let wal = PathBuf::from(format!("{}-wal", p.display()));
                    Ok(WatchTarget::Files(vec![p.clone(), wal]))
                }
                Some(crate::config::Target::Postgres(_)) => Err(McpError::invalid_params(
                    format!(
                        "`{uri}`: change notifications work for SQLite connections only; read the resource again to see a PostgreSQL schema's changes"
                    ),
                    None,
                )),
                None => Err(resource_error(ResourceError::NotFound(uri.to_owned()))),
            };
        }
        match self.folders().resources.source_file(uri) {
            Some(Some(p)) => Ok(WatchTarget::Path(p)),
            Some(None) => Ok(WatchTarget::Quiet),
            None => Err(resource_error(ResourceError::NotFound(uri.to_owned()))),
        }
    }

    /// Starts watching `uri` for one more holder (the watch starts with the first).
    pub(crate) async fn hold_watch(&self, uri: &str, target: WatchTarget) -> Result<(), McpError> {
        // A polled watch tells when it has taken its first stamp: the subscription is answered
        // only then, so a change made right after the answer is always seen as one.
        let mut first_stamp = None;
        {
            let mut watches = crate::support::lock(&self.watches);
            if let Some(w) = watches.get_mut(uri) {
                w.holders += 1;
                return Ok(());
            }
            let max = self.settings.max_subscriptions;
            if watches.len() >= max {
                return Err(McpError::invalid_params(
                    format!(
                        "too many subscriptions (at most {max}, resources.max_subscriptions); unsubscribe from some first"
                    ),
                    None,
                ));
            }
            let stop = self.shutdown.child_token();
            match target {
                WatchTarget::Path(path) => self.watch_path(uri, path)?,
                WatchTarget::Quiet | WatchTarget::Child => {}
                target => first_stamp = Some(self.poll(uri.to_owned(), target, stop.clone())),
            }
            watches.insert(uri.to_owned(), Watch { holders: 1, stop });
        }
        if let Some(taken) = first_stamp {
            let _ = taken.await;
        }
        // The first holder of a child's resource subscribes at the child.
        if uri.starts_with(crate::proxy::names::URI_PREFIX)
            && let Some(hub) = self.hub()
        {
            match hub.subscribe(uri, true).await {
                Some(Ok(())) => {}
                other => {
                    self.release_watch(uri);
                    return Err(match other {
                        Some(Err(e)) => e,
                        _ => resource_error(ResourceError::NotFound(uri.to_owned())),
                    });
                }
            }
        }
        Ok(())
    }

    /// One holder of `uri`'s watch is done; the last one stops it.
    pub(crate) fn release_watch(&self, uri: &str) {
        let last = {
            let mut watches = crate::support::lock(&self.watches);
            match watches.get_mut(uri) {
                Some(w) if w.holders > 1 => {
                    w.holders -= 1;
                    false
                }
                Some(_) => {
                    if let Some(w) = watches.remove(uri) {
                        w.stop.cancel();
                    }
                    true
                }
                None => false,
            }
        };
        if !last {
            return;
        }
        if let Some(w) = crate::support::lock(&self.file_watch).as_mut() {
            w.remove(uri);
        }
        if uri.starts_with(crate::proxy::names::URI_PREFIX)
            && let Some(hub) = self.hub().cloned()
        {
            let uri = uri.to_owned();
            tokio::spawn(async move {
                let _ = hub.subscribe(&uri, false).await;
            });
        }
    }

    /// `resources/subscribe` (`initialize`-era sessions): one hold per URI, however often the
    /// client subscribes.
    pub(crate) async fn subscribe_legacy(
        &self,
        uri: String,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if crate::support::lock(&self.legacy_subscribed).contains(&uri) {
            return Ok(());
        }
        let scope = self.file_scope(ctx).await;
        let target = self.watch_target(&uri, &scope)?;
        self.hold_watch(&uri, target).await?;
        if !crate::support::lock(&self.legacy_subscribed).insert(uri.clone()) {
            // Subscribed twice at once: keep one hold.
            self.release_watch(&uri);
        }
        Ok(())
    }

    /// `resources/unsubscribe`.
    pub(crate) fn unsubscribe_legacy(&self, uri: &str) {
        if crate::support::lock(&self.legacy_subscribed).remove(uri) {
            self.release_watch(uri);
        }
    }

    /// What a `subscriptions/listen` request is granted: the list changes it asked for, and
    /// the resources it named that can be watched (the others are left out of the
    /// acknowledgment, which is how the revision says no to one of them).
    pub(crate) fn grant(&self, requested: &SubscriptionFilter) -> SubscriptionFilter {
        let scope = self.current_scope();
        let mut granted = requested.clone();
        granted.resource_subscriptions = requested.resource_subscriptions.as_ref().map(|uris| {
            uris.iter()
                .filter(|u| match self.watch_target(u, &scope) {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::info!(uri = %crate::support::text::quote(u, 200), why = %e.message, "not subscribed");
                        false
                    }
                })
                .take(self.settings.max_subscriptions)
                .cloned()
                .collect()
        });
        granted
    }

    /// Serves one `subscriptions/listen` stream until the client cancels it or the session
    /// ends: list changes and updates of the granted resources, from the change bus.
    pub(crate) async fn serve_listen(&self, sub: SubscriptionContext) -> Result<(), McpError> {
        let mut bus = self.changes.listen();
        let scope = self.file_scope(sub.request_context()).await;
        let mut held = Vec::new();
        for uri in sub.accepted().resource_subscriptions.iter().flatten() {
            let target = self.watch_target(uri, &scope)?;
            match self.hold_watch(uri, target).await {
                Ok(()) => held.push(uri.clone()),
                Err(e) => tracing::info!(uri, why = %e.message, "subscription not watched"),
            }
        }
        let accepted = sub.accepted().clone();
        let sink = sub.sink().clone();
        let wants = |c: &Change| match c {
            Change::Tools => accepted.tools_list_changed == Some(true),
            Change::Prompts => accepted.prompts_list_changed == Some(true),
            Change::Resources => accepted.resources_list_changed == Some(true),
            Change::Updated(u) => held.contains(u),
        };
        loop {
            let got = tokio::select! {
                _ = sub.cancelled() => break,
                _ = self.shutdown.cancelled() => break,
                got = changes::next(&mut bus) => got,
            };
            let Some(list) = got else { break };
            let mut gone = false;
            for change in list.into_iter().filter(|c| wants(c)) {
                let sent = match change {
                    Change::Tools => sink.notify_tool_list_changed().await,
                    Change::Prompts => sink.notify_prompt_list_changed().await,
                    Change::Resources => sink.notify_resource_list_changed().await,
                    Change::Updated(uri) => sink.notify_resource_updated(uri).await,
                };
                gone |= sent.is_err();
            }
            if gone {
                break;
            }
        }
        for uri in &held {
            self.release_watch(uri);
        }
        Ok(())
    }

    /// Delivers the change bus to an `initialize`-era client as plain notifications: list
    /// changes once it has initialized, and updates of the resources it subscribed to. A
    /// 2026-07-28 session gets them through its listen streams instead.
    pub(crate) async fn forward_changes(self, peer: Peer<RoleServer>) {
        let mut bus = self.changes.listen();
        loop {
            let got = tokio::select! {
                _ = self.shutdown.cancelled() => return,
                got = changes::next(&mut bus) => got,
            };
            let Some(list) = got else { return };
            if peer.peer_info().is_none() {
                continue;
            }
            for change in list {
                let sent = match change {
                    Change::Tools => peer.notify_tool_list_changed().await,
                    Change::Prompts => peer.notify_prompt_list_changed().await,
                    Change::Resources => peer.notify_resource_list_changed().await,
                    Change::Updated(uri) => {
                        if !crate::support::lock(&self.legacy_subscribed).contains(&uri) {
                            continue;
                        }
                        let param = rmcp::model::ResourceUpdatedNotificationParam::new(uri);
                        peer.notify_resource_updated(param).await
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    }

    /// Starts watching a file or folder (one file watcher per session).
    fn watch_path(&self, uri: &str, path: PathBuf) -> Result<(), McpError> {
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
            tokio::spawn(publish_updates(
                rx,
                self.changes.clone(),
                self.shutdown.clone(),
            ));
            *slot = Some(w);
        }
        let Some(w) = slot.as_mut() else {
            return Err(McpError::internal_error("no file watcher", None));
        };
        w.add(uri, path, is_dir)
            .map_err(|e| McpError::invalid_params(format!("`{uri}` cannot be watched: {e}"), None))
    }

    /// Polls a target that has no file watcher, publishing an update when its stamp changes.
    fn poll(
        &self,
        uri: String,
        target: WatchTarget,
        stop: CancellationToken,
    ) -> tokio::sync::oneshot::Receiver<()> {
        let me = self.clone();
        let (taken, first_stamp) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut events = match target {
                WatchTarget::Graph | WatchTarget::Note(_) => me.memory_events(),
                _ => None,
            };
            let mut last = target.stamp(&me).await;
            let _ = taken.send(());
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = target.next_check(&mut events) => {}
                }
                let now = target.stamp(&me).await;
                if now != last {
                    last = now;
                    me.changes.publish(Change::Updated(uri.clone()));
                }
            }
        });
        first_stamp
    }
}

/// Counts the folders at and below `dir`, stopping at `stop`.
fn walkdir_count(dir: &std::path::Path, stop: usize) -> usize {
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

/// Publishes the URIs the file watcher reports, once per URI per short burst.
async fn publish_updates(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    bus: crate::mcp::changes::Changes,
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
            bus.publish(Change::Updated(uri));
        }
    }
}

impl Switchboard {
    /// The changes a PostgreSQL memory announces (listening starts on first use, once per
    /// session); `None` for the SQLite store, whose changes are found by polling.
    fn memory_events(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.memory_events
            .get_or_init(|| match &self.settings.memory.store {
                crate::config::StoreTarget::Postgres { url, schema } => {
                    Some(crate::memory::postgres::listen::start(
                        url.clone(),
                        schema.clone(),
                        self.background.clone(),
                    ))
                }
                crate::config::StoreTarget::Sqlite(_) => None,
            })
            .as_ref()
            .map(|tx| tx.subscribe())
    }
}

impl WatchTarget {
    /// Waits until this target should be compared again: the next poll, or, with a memory
    /// that announces its changes, an announcement about it (a missed stretch counts; the
    /// stamp comparison after it decides whether anything changed).
    async fn next_check(&self, events: &mut Option<tokio::sync::broadcast::Receiver<String>>) {
        use tokio::sync::broadcast::error::RecvError;
        let Some(rx) = events else {
            return tokio::time::sleep(SUBSCRIPTION_POLL).await;
        };
        loop {
            match tokio::time::timeout(ANNOUNCED_RECHECK, rx.recv()).await {
                Err(_) | Ok(Err(RecvError::Lagged(_))) => return,
                Ok(Err(RecvError::Closed)) => {
                    *events = None;
                    return;
                }
                Ok(Ok(payload)) => {
                    let about_this = match self {
                        WatchTarget::Graph => payload == "graph",
                        WatchTarget::Note(id) => payload == format!("note:{id}"),
                        _ => false,
                    };
                    if about_this || payload == crate::memory::postgres::listen::LAPSE {
                        return;
                    }
                }
            }
        }
    }

    async fn stamp(&self, sb: &Switchboard) -> String {
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
            WatchTarget::Path(_) | WatchTarget::Quiet | WatchTarget::Child => String::new(),
        }
    }
}
