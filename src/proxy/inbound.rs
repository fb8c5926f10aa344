//! What a child sends, checked before rmcp's client sees it, so no child can flood the host or
//! answer for another request. Responses must carry the id exactly as it was sent: switchboard
//! numbers its requests, so an answer with a string id (`"5"` for `5`, which rmcp would take)
//! is dropped. Notifications are rationed per child: log messages to `proxy.max_log_rate` a
//! second (the dropped ones counted and said in one message once the flood eases),
//! `list_changed` of each kind to one per `proxy.list_changed_debounce_ms` (with one more at the
//! window's end when more came, so the last state is always fetched), everything else,
//! requests included, to `proxy.max_message_rate` (a request over it is answered with an
//! error). Reading yields to the runtime every few messages, so a flood never starves the
//! host's link. Nothing is queued here: memory stays flat whatever a child writes.
// Logging is deprecated by the 2026-07-28 revision; children on older revisions still send it.
#![allow(deprecated)]

use std::time::{Duration, Instant};

use rmcp::RoleClient;
use rmcp::model::{
    ErrorCode, ErrorData, GetMeta, JsonRpcError, JsonRpcMessage, JsonRpcNotification,
    JsonRpcVersion2_0, LoggingLevel, LoggingMessageNotification, LoggingMessageNotificationParam,
    PromptListChangedNotification, RequestId, ResourceListChangedNotification, ServerNotification,
    ToolListChangedNotification,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;

/// What one child may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Log messages per second.
    pub log_rate: u32,
    /// Other notifications and requests per second.
    pub message_rate: u32,
    /// `list_changed` of one kind at most once per this window.
    pub debounce: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            log_rate: 50,
            message_rate: 500,
            debounce: Duration::from_millis(500),
        }
    }
}

/// Messages read between two yields to the runtime.
const YIELD_EVERY: u32 = 32;

/// A token bucket: `rate` a second, up to twice that at once.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            rate,
            tokens: rate * 2.0,
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate * 2.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The `list_changed` of one kind: when one last went through, and whether more came since.
#[derive(Debug, Default)]
struct Debounced {
    last: Option<Instant>,
    pending: bool,
}

/// The kinds of `list_changed`, in the order [`Inbound::lists`] keeps them.
const KINDS: usize = 3;

pub struct Inbound<T> {
    inner: T,
    child: String,
    limits: Limits,
    logs: Bucket,
    messages: Bucket,
    dropped_logs: u64,
    dropped_messages: u64,
    bad_ids: u64,
    lists: [Debounced; KINDS],
    /// A message read but not yet handed over (kept across a cancelled `receive`).
    held: Option<RxJsonRpcMessage<RoleClient>>,
    since_yield: u32,
}

impl<T> Inbound<T> {
    pub fn new(inner: T, child: &str, limits: Limits) -> Self {
        Self {
            inner,
            child: child.to_owned(),
            limits,
            logs: Bucket::new(limits.log_rate),
            messages: Bucket::new(limits.message_rate),
            dropped_logs: 0,
            dropped_messages: 0,
            bad_ids: 0,
            lists: Default::default(),
            held: None,
            since_yield: 0,
        }
    }

    fn list_changed(kind: usize) -> RxJsonRpcMessage<RoleClient> {
        let n = match kind {
            0 => ServerNotification::ToolListChangedNotification(
                ToolListChangedNotification::default(),
            ),
            1 => ServerNotification::PromptListChangedNotification(
                PromptListChangedNotification::default(),
            ),
            _ => ServerNotification::ResourceListChangedNotification(
                ResourceListChangedNotification::default(),
            ),
        };
        JsonRpcMessage::Notification(JsonRpcNotification {
            jsonrpc: JsonRpcVersion2_0,
            notification: n,
        })
    }

    /// A trailing `list_changed` whose window has ended.
    fn due(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let window = self.limits.debounce;
        let kind = self
            .lists
            .iter()
            .position(|d| d.pending && d.last.is_none_or(|l| l.elapsed() >= window))?;
        self.lists[kind] = Debounced {
            last: Some(Instant::now()),
            pending: false,
        };
        Some(Self::list_changed(kind))
    }

    /// When the next trailing `list_changed` is due.
    fn next_due(&self) -> Option<tokio::time::Instant> {
        self.lists
            .iter()
            .filter(|d| d.pending)
            .filter_map(|d| d.last)
            .min()
            .map(|l| tokio::time::Instant::from_std(l + self.limits.debounce))
    }

    /// One warning for the host about what was dropped, once messages flow again.
    fn summary(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        if self.dropped_logs == 0 && self.dropped_messages == 0 && self.bad_ids == 0 {
            return None;
        }
        let text = format!(
            "switchboard dropped from server `{}`: {} log messages over proxy.max_log_rate, {} other messages over proxy.max_message_rate, {} answers whose id did not match a request exactly",
            self.child, self.dropped_logs, self.dropped_messages, self.bad_ids
        );
        tracing::warn!(server = %self.child, dropped_logs = self.dropped_logs, dropped_messages = self.dropped_messages, bad_ids = self.bad_ids, "a child's messages were dropped");
        self.dropped_logs = 0;
        self.dropped_messages = 0;
        self.bad_ids = 0;
        Some(JsonRpcMessage::Notification(JsonRpcNotification {
            jsonrpc: JsonRpcVersion2_0,
            notification: ServerNotification::LoggingMessageNotification(
                LoggingMessageNotification::new(
                    LoggingMessageNotificationParam::new(
                        LoggingLevel::Warning,
                        serde_json::Value::String(text),
                    )
                    .with_logger("switchboard"),
                ),
            ),
        }))
    }

    /// What to do with one message: pass it, hold it back, or answer it here.
    fn sort(&mut self, msg: &RxJsonRpcMessage<RoleClient>) -> Sort {
        match msg {
            JsonRpcMessage::Response(r) if !exact(&r.id) => {
                self.bad_ids += 1;
                Sort::Drop
            }
            JsonRpcMessage::Error(e) if e.id.as_ref().is_some_and(|id| !exact(id)) => {
                self.bad_ids += 1;
                Sort::Drop
            }
            JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_) => Sort::Pass,
            JsonRpcMessage::Notification(n) => match &n.notification {
                ServerNotification::LoggingMessageNotification(_) => {
                    if self.logs.take() {
                        Sort::Pass
                    } else {
                        self.dropped_logs += 1;
                        Sort::Drop
                    }
                }
                ServerNotification::ToolListChangedNotification(_) => self.debounce(0),
                ServerNotification::PromptListChangedNotification(_) => self.debounce(1),
                ServerNotification::ResourceListChangedNotification(_) => self.debounce(2),
                _ => self.ration(),
            },
            JsonRpcMessage::Request(r) => match self.ration() {
                Sort::Pass => Sort::Pass,
                _ => Sort::Refuse(r.id.clone()),
            },
        }
    }

    fn ration(&mut self) -> Sort {
        if self.messages.take() {
            Sort::Pass
        } else {
            self.dropped_messages += 1;
            Sort::Drop
        }
    }

    fn debounce(&mut self, kind: usize) -> Sort {
        let d = &mut self.lists[kind];
        match d.last {
            Some(l) if l.elapsed() < self.limits.debounce => {
                d.pending = true;
                Sort::Drop
            }
            _ => {
                d.last = Some(Instant::now());
                d.pending = false;
                Sort::Pass
            }
        }
    }
}

enum Sort {
    Pass,
    Drop,
    /// A request over the rate: answered with an error, never handled.
    Refuse(RequestId),
}

/// The `_meta` key by which a request to a child keeps its progress token: set (and removed
/// again before the child sees it) when the host asked for progress on the call behind it.
pub const KEEP_PROGRESS: &str = "switchboard/keep-progress";

/// rmcp gives every request a progress token; a child that sees one may report progress,
/// which costs it and switchboard work nobody asked for. The token stays only on requests
/// marked [`KEEP_PROGRESS`]: no `_meta` the host did not send.
fn only_asked_progress(meta: &mut rmcp::model::RequestMetaObject) {
    let map = &mut meta.0.0;
    if map.remove(KEEP_PROGRESS).is_none() {
        map.remove("progressToken");
    }
}

/// switchboard's own requests to a child are numbered; an answer must carry a number.
fn exact(id: &RequestId) -> bool {
    matches!(id, RequestId::Number(_))
}

impl<T> Transport<RoleClient> for Inbound<T>
where
    T: Transport<RoleClient>,
{
    type Error = T::Error;

    fn send(
        &mut self,
        mut item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        if let JsonRpcMessage::Request(r) = &mut item {
            only_asked_progress(r.request.get_meta_mut());
        }
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            if let Some(m) = self.due() {
                return Some(m);
            }
            let msg = match self.held.take() {
                Some(m) => m,
                None => {
                    let wake = self.next_due();
                    tokio::select! {
                        m = self.inner.receive() => m?,
                        _ = tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)), if wake.is_some() => continue,
                    }
                }
            };
            self.since_yield += 1;
            if self.since_yield >= YIELD_EVERY {
                self.since_yield = 0;
                // Kept in `held` across the yield: a receive dropped there loses nothing.
                self.held = Some(msg);
                tokio::task::yield_now().await;
                continue;
            }
            match self.sort(&msg) {
                Sort::Pass => {
                    if let Some(s) = self.summary() {
                        self.held = Some(msg);
                        return Some(s);
                    }
                    return Some(msg);
                }
                Sort::Drop => {}
                Sort::Refuse(id) => {
                    let refusal = JsonRpcMessage::Error(JsonRpcError {
                        jsonrpc: JsonRpcVersion2_0,
                        id: Some(id),
                        error: ErrorData::new(
                            ErrorCode::INTERNAL_ERROR,
                            "too many requests: switchboard rations what one server sends (proxy.max_message_rate)",
                            None,
                        ),
                    });
                    let _ = self.inner.send(refusal).await;
                }
            }
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
