//! Communication tools: email, webhooks, ntfy pushes, desktop notifications and the outbox
//! (`crate::comms` holds the logic). This file is the registry, plus the one path every send
//! takes: rate limit, the user's confirmation, a slot in the outbox, the send, its outcome.
//!
//! Confirmation asks the user through the host. On protocol 2026-07-28 and later a server may
//! not send requests of its own, so the tool answers `input_required` with the question and a
//! one-time handle bound to a digest of the exact arguments; the host asks the user and calls
//! again with the answer. Older sessions are asked with a plain `elicitation/create` request.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Comms);
    comms_outbox => comms_outbox_router,
    notify_desktop => notify_desktop_router,
    send_email => send_email_router,
    send_push => send_push_router,
    send_webhook => send_webhook_router,
}

use std::time::{Instant, SystemTime};

use rmcp::RoleServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::model::{
    CallToolResponse, CallToolResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, InputRequest, InputRequiredResult, ProtocolVersion,
};
use rmcp::service::RequestContext;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::comms::outbox::{Attempt, Outbox, OutboxError};
use crate::config::comms::Confirm;
use crate::server::Switchboard;
use crate::support::lock;
use crate::tools::ToolError;

/// The key of the one question a send asks.
const QUESTION_KEY: &str = "confirm";
/// Unanswered questions kept at once; the oldest is forgotten first.
const MAX_PENDING: usize = 64;

/// Which comms tools the config makes usable: a tool with nothing configured is not listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Configured {
    pub email: bool,
    pub webhooks: bool,
    pub ntfy: bool,
}

pub use crate::comms::CommsState;

pub fn router(c: Configured) -> ToolRouter<Switchboard> {
    // A sending tool with nothing configured to send to is not offered.
    let mut r = registered();
    for (configured, name) in [
        (c.email, "send_email"),
        (c.webhooks, "send_webhook"),
        (c.ntfy, "send_push"),
    ] {
        if !configured {
            r.remove_route(name);
        }
    }
    r
}

impl From<OutboxError> for ToolError {
    fn from(e: OutboxError) -> Self {
        ToolError::Invalid(e.to_string())
    }
}

/// One send, described for the outbox and for the user.
pub(crate) struct SendPlan {
    pub attempt: Attempt,
    /// What the user is asked first; `None` for desktop notifications, which reach only the
    /// person at this machine.
    pub ask: Option<Ask>,
}

/// A question for the user about one send.
pub(crate) struct Ask {
    /// Who gets what, as the user sees it.
    pub question: String,
    /// What the answer approves: see [`digest`].
    pub digest: String,
    /// The host's answer, when this call is the second round of the question.
    pub round: Round,
}

/// The digest a confirmation is bound to: the tool, its exact arguments, and any content it
/// read for them (attachments), so an answer approves exactly what is sent.
pub(crate) fn digest(tool: &str, args: &impl Serialize, content: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(args).unwrap_or_default());
    for c in content {
        h.update((c.len() as u64).to_le_bytes());
        h.update(c);
    }
    crate::support::text::hex(&h.finalize())
}

/// A message's text as the confirmation shows it: whole up to `max` characters; beyond that,
/// its start and a plain statement of how much is not shown, so the user knows what they
/// approve.
pub(crate) fn preview(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let shown: String = text.chars().take(max).collect();
    format!(
        "{shown}\n\n[{} more characters of the {total} are not shown here (comms.confirm_max_chars); approving sends the whole message]",
        total - max
    )
}

/// The answer of one MRTR round: the handle the host echoes back, and the user's answers.
pub(crate) struct Round {
    pub state: Option<String>,
    pub responses: Option<rmcp::model::InputResponses>,
}

impl Round {
    pub fn new(
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
    ) -> Self {
        Self { state, responses }
    }
}

enum Gate {
    Go,
    Ask(InputRequiredResult),
    Declined(&'static str),
}

fn question_params(question: &str) -> ElicitRequestParams {
    let schema = ElicitationSchema::builder()
        .optional_bool_with("send", |b| {
            b.with_default(true)
                .title("Send it")
                .description("Untick, or decline, to send nothing")
        })
        .build_unchecked();
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("{question}\n\nSend it?"),
        requested_schema: schema,
    }
}

fn judge(r: &ElicitResult) -> Gate {
    match r.action {
        ElicitationAction::Accept
            if r.content.as_ref().and_then(|c| c.get("send")) == Some(&false.into()) =>
        {
            Gate::Declined("the user unticked `Send it`")
        }
        ElicitationAction::Accept => Gate::Go,
        ElicitationAction::Decline => Gate::Declined("the user declined"),
        _ => Gate::Declined("the user dismissed the question"),
    }
}

const CANNOT_ASK: &str = "nothing was sent: comms.confirm is `elicit`, which asks the user to \
     confirm each send, and this host cannot ask (it does not support elicitation). Tell the \
     user; they can allow sending without confirmation by setting `comms.confirm: never` in \
     switchboard's config.yaml";

impl Switchboard {
    /// Runs `f` on the profile's outbox (see [`Switchboard::with_store`]).
    async fn with_outbox<T, F>(&self, f: F) -> Result<T, ToolError>
    where
        F: FnOnce(&mut Outbox) -> Result<T, OutboxError> + Send + 'static,
        T: Send + 'static,
    {
        self.with_store(
            |inner| &inner.comms.outbox,
            |s| Outbox::open(&s.comms.outbox, s.comms.outbox_keep).map_err(|e| e.to_string()),
            move |o| Ok(f(o)?),
        )
        .await
    }

    /// Asks the user, the way the config and the session allow.
    async fn confirm(
        &self,
        ctx: &RequestContext<RoleServer>,
        Ask {
            question,
            digest,
            round,
        }: Ask,
    ) -> Result<Gate, ToolError> {
        let c = &self.settings.comms;
        if c.confirm == Confirm::Never {
            return Ok(Gate::Go);
        }
        // The user reads the question: nothing in it may hide or reorder what it says.
        let question = crate::support::text::display_safe(&question, true);
        let can_ask = ctx
            .client_capabilities()
            .and_then(|caps| caps.elicitation)
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        if !can_ask {
            return Err(ToolError::invalid(CANNOT_ASK));
        }
        let stateless = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        if !stateless {
            let asked = tokio::time::timeout(
                c.confirm_timeout,
                ctx.peer.create_elicitation(question_params(&question)),
            )
            .await;
            return match asked {
                Ok(Ok(r)) => Ok(judge(&r)),
                Ok(Err(e)) => Err(ToolError::invalid(format!(
                    "nothing was sent: the host could not ask the user to confirm ({e})"
                ))),
                Err(_) => Err(ToolError::invalid(format!(
                    "nothing was sent: the user did not answer within {} s",
                    c.confirm_timeout.as_secs()
                ))),
            };
        }
        let mut pending = lock(&self.comms.pending);
        pending.retain(|_, (_, at)| at.elapsed() < c.confirm_timeout);
        if let (Some(handle), Some(responses)) = (&round.state, &round.responses) {
            // One answer per question, and only for the arguments it asked about; a handle
            // that is unknown, used, expired or about other arguments asks afresh.
            if let Some((bound, _)) = pending.remove(handle)
                && bound == digest
                && let Some(answer) = responses.get(QUESTION_KEY)
            {
                let r: ElicitResult = serde_json::from_value(answer.clone()).map_err(|e| {
                    ToolError::invalid(format!(
                        "nothing was sent: the host's answer is not an elicitation result ({e})"
                    ))
                })?;
                return Ok(judge(&r));
            }
        }
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
        {
            pending.remove(&oldest);
        }
        let handle = crate::support::unique_hex();
        pending.insert(handle.clone(), (digest, Instant::now()));
        let request = InputRequest::Elicitation(ElicitRequest::new(question_params(&question)));
        Ok(Gate::Ask(InputRequiredResult::new(
            Some([(QUESTION_KEY.to_owned(), request)].into()),
            Some(handle),
        )))
    }

    /// The one path of every send: the rate limit, the user's confirmation, a slot in the
    /// outbox, the send itself (`go`, which returns the result and the outbox's detail), and
    /// its outcome recorded.
    pub(crate) async fn send_guarded<T, Fut>(
        &self,
        ctx: &RequestContext<RoleServer>,
        mut send: SendPlan,
        go: impl FnOnce() -> Fut,
    ) -> Result<Result<T, InputRequiredResult>, ToolError>
    where
        Fut: Future<Output = Result<(T, String), ToolError>>,
    {
        let c = &self.settings.comms;
        let rate = c.rate(&send.attempt.tool);
        if !c.keep_bodies {
            send.attempt.body = None;
        }
        let tool = send.attempt.tool.clone();
        self.with_outbox(move |o| o.check(&tool, rate.max, rate.per, SystemTime::now()))
            .await?;
        let gate = match send.ask {
            Some(ask) => self.confirm(ctx, ask).await?,
            None => Gate::Go,
        };
        match gate {
            Gate::Go => {}
            Gate::Ask(r) => return Ok(Err(r)),
            Gate::Declined(why) => {
                let attempt = send.attempt;
                self.with_outbox(move |o| o.record(&attempt, "declined", Some(why)))
                    .await?;
                return Err(ToolError::invalid(format!(
                    "nothing was sent: {why}. Do not send it again unless the user asks"
                )));
            }
        }
        let attempt = send.attempt;
        let id = self
            .with_outbox(move |o| o.reserve(&attempt, rate.max, rate.per, SystemTime::now()))
            .await?;
        let outcome = go().await;
        let (status, detail) = match &outcome {
            Ok((_, detail)) => ("sent", detail.clone()),
            Err(e) => ("failed", e.to_string()),
        };
        self.with_outbox(move |o| o.finish(id, status, &detail))
            .await?;
        outcome.map(|(t, _)| Ok(t))
    }
}

/// A tool's answer: its data, or the question for the user.
pub(crate) fn respond<T: Serialize>(
    r: Result<Result<T, InputRequiredResult>, ToolError>,
) -> Result<CallToolResponse, ToolError> {
    match r? {
        Ok(data) => {
            let v = serde_json::to_value(data)
                .map_err(|e| ToolError::Internal(format!("the result is not JSON: {e}")))?;
            Ok(CallToolResponse::Complete(CallToolResult::structured(v)))
        }
        Err(ask) => Ok(CallToolResponse::InputRequired(ask)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_judged_strictly() {
        let r = |v: serde_json::Value| judge(&serde_json::from_value(v).unwrap());
        assert!(matches!(
            r(json!({"action": "accept", "content": {"send": true}})),
            Gate::Go
        ));
        assert!(matches!(
            r(json!({"action": "accept", "content": {}})),
            Gate::Go
        ));
        assert!(matches!(
            r(json!({"action": "accept", "content": {"send": false}})),
            Gate::Declined(_)
        ));
        assert!(matches!(r(json!({"action": "decline"})), Gate::Declined(_)));
        assert!(matches!(r(json!({"action": "cancel"})), Gate::Declined(_)));
    }

    #[test]
    fn the_digest_covers_the_tool_and_every_argument() {
        let args = json!({"to": ["a@x"], "subject": "s"});
        let a = digest("send_email", &args, &[b"file"]);
        assert_eq!(a, digest("send_email", &args, &[b"file"]));
        assert_ne!(a, digest("send_email", &args, &[b"filE"]));
        assert_ne!(
            a,
            digest(
                "send_email",
                &json!({"to": ["b@x"], "subject": "s"}),
                &[b"file"]
            )
        );
        assert_ne!(a, digest("send_push", &args, &[b"file"]));
    }
}
