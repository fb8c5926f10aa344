//! Progress of one tool call: every notification for a call's progress token goes through one
//! [`CallProgress`], so values only ever increase whoever reports (the tool, a child server,
//! the heartbeat), and a call that runs longer than the heartbeat interval keeps telling the
//! client it is alive (elapsed time and the last output) even when it prints nothing, so
//! clients that reset their timeout on progress do not give up on work still running.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};
use tokio_util::sync::CancellationToken;

/// The progress channel of one call, found in its request context's extensions.
pub struct CallProgress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    /// The last value sent (values must increase).
    last: f64,
    /// The last message a reporter sent: the heartbeat repeats it as "so far".
    message: Option<String>,
    sent: Instant,
    /// Set once the client went away; nothing more is sent.
    closed: bool,
}

impl CallProgress {
    /// Progress for the call `ctx` belongs to, when its client asked for it (a token).
    pub fn for_request(ctx: &RequestContext<RoleServer>) -> Option<Arc<Self>> {
        let token = ctx.meta.get_progress_token()?;
        let now = Instant::now();
        Some(Arc::new(Self {
            peer: ctx.peer.clone(),
            token,
            started: now,
            state: Mutex::new(State {
                last: 0.0,
                message: None,
                sent: now,
                closed: false,
            }),
        }))
    }

    /// `ctx` for a call made on behalf of this one (by `ai_agent`, a workflow): without the
    /// progress token and channel, so the inner call reports nothing under the outer token,
    /// but with the rest of the request's `_meta` (on 2026-07-28 it carries the client's
    /// capabilities, which say whether the user can be asked).
    pub fn detach(ctx: &mut RequestContext<RoleServer>) {
        ctx.meta.remove("progressToken");
        ctx.extensions.remove::<Arc<Self>>();
    }

    /// The call's progress, as the dispatcher put it in the context (none without a token).
    pub fn of(ctx: &RequestContext<RoleServer>) -> Option<Arc<Self>> {
        ctx.extensions.get::<Arc<Self>>().cloned()
    }

    /// Sends one progress notification. A value not above the last one sent is raised just
    /// above it (a total it would pass is dropped). Returns false once the client is gone.
    pub async fn report(&self, value: f64, total: Option<f64>, message: Option<String>) -> bool {
        self.send(value, total, message, true).await
    }

    /// Sends one notification; `remember` keeps its message as the output so far (the
    /// heartbeat's own message is not output).
    async fn send(
        &self,
        value: f64,
        total: Option<f64>,
        message: Option<String>,
        remember: bool,
    ) -> bool {
        let param = {
            let mut s = crate::support::lock(&self.state);
            if s.closed {
                return false;
            }
            let value = if value > s.last { value } else { s.last + 1.0 };
            s.last = value;
            s.sent = Instant::now();
            if remember && message.is_some() {
                s.message.clone_from(&message);
            }
            let mut p = ProgressNotificationParam::new(self.token.clone(), value);
            p.total = total.filter(|t| *t >= value);
            p.message = message;
            p
        };
        let ok = self.peer.notify_progress(param).await.is_ok();
        if !ok {
            crate::support::lock(&self.state).closed = true;
        }
        ok
    }

    /// Sends a heartbeat every `every` in which nothing else was reported, until `stop`.
    pub fn heartbeat(self: &Arc<Self>, every: Duration, stop: CancellationToken) {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let due = crate::support::lock(&me.state).sent + every;
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep_until(due.into()) => {}
                }
                let (quiet, last, so_far) = {
                    let s = crate::support::lock(&me.state);
                    (s.sent.elapsed() >= every, s.last, s.message.clone())
                };
                if !quiet {
                    continue;
                }
                let secs = me.started.elapsed().as_secs();
                let text = match so_far {
                    Some(m) => format!("still running after {secs} s; so far: {m}"),
                    None => format!("still running after {secs} s"),
                };
                if !me.send(last + 1.0, None, Some(text), false).await {
                    return;
                }
            }
        });
    }
}
