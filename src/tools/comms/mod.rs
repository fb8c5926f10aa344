//! Communication tools: email, webhooks, ntfy pushes, desktop notifications and the outbox
//! (`crate::comms` holds the logic). This file is the registry, plus the one path every send
//! takes: rate limit, the user's confirmation, a slot in the outbox, the send, its outcome.
//!
//! Confirmation asks the user through the host (`crate::tools::ask`), bound to a digest of the
//! exact arguments and any attachment read for them.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Comms);
    comms_outbox => comms_outbox_router,
    notify_desktop => notify_desktop_router,
    send_email => send_email_router,
    send_push => send_push_router,
    send_webhook => send_webhook_router,
}

use std::time::SystemTime;

use rmcp::RoleServer;
use rmcp::model::{
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, InputRequiredResult,
};
use rmcp::service::RequestContext;

use crate::comms::outbox::{Attempt, Outbox, OutboxError};
use crate::config::comms::Confirm;
use crate::server::Switchboard;
use crate::tools::ToolError;
use crate::tools::ask::{AskError, Asked, Round};

/// Which comms tools the config makes usable: a tool with nothing configured is not listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Configured {
    pub email: bool,
    pub webhooks: bool,
    pub ntfy: bool,
}

pub use crate::comms::CommsState;

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
    /// What the answer approves: see [`crate::tools::ask::digest`].
    pub digest: String,
    /// The host's answer, when this call is the second round of the question.
    pub round: Round,
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
     switchboard's config.yaml and restarting switchboard";

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
        let asked = self
            .ask_user(
                ctx,
                question_params(&question),
                digest,
                round,
                c.confirm_timeout,
            )
            .await;
        match asked {
            Ok(Asked::Answer(r)) => Ok(judge(&r)),
            Ok(Asked::Ask(question)) => Ok(Gate::Ask(question)),
            Err(AskError::CannotAsk) => Err(ToolError::invalid(CANNOT_ASK)),
            Err(e) => Err(ToolError::invalid(format!("nothing was sent: {e}"))),
        }
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
