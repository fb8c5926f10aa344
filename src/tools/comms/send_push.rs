//! `send_push`: a push notification to the user's phone or browser through the configured
//! ntfy server and topic.

use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Ask, SendPlan};
use crate::tools::ask::{Round, digest, respond};
use crate::comms::outbox::Attempt;
use crate::comms::push::{self, Push, PushError, ViewAction};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "push notification phone mobile ntfy ping me alert";

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PushAction {
    /// The button's label.
    pub label: String,
    /// The http(s) URL it opens.
    pub url: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendPushArgs {
    pub message: String,
    pub title: Option<String>,
    /// 1 (min) to 5 (urgent); 3 when omitted.
    pub priority: Option<u8>,
    /// Emoji short codes or labels, e.g. `warning`, `white_check_mark`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// An http(s) URL opened when the notification is tapped.
    pub click: Option<String>,
    /// Up to 3 buttons that open URLs.
    #[serde(default)]
    pub actions: Vec<PushAction>,
    /// Return the exact payload without publishing or asking.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SendPushOutput {
    /// True when the server accepted it; false for a dry run.
    pub sent: bool,
    pub topic: String,
    /// ntfy's id for the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The exact JSON published (dry run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Map<String, Value>>,
}

impl From<PushError> for ToolError {
    fn from(e: PushError) -> Self {
        let code = match e {
            PushError::TooLarge(_) => crate::error::reason::MESSAGE_TOO_LARGE,
            PushError::Failed(_) => crate::error::reason::UPSTREAM_FAILED,
            PushError::Invalid(_) => crate::error::reason::INVALID,
        };
        ToolError::refused(code, e.to_string())
    }
}

#[tool_router(router = send_push_router, vis = "pub(crate)")]
impl Switchboard {
    /// Push a notification to the user's phone or browser through the configured ntfy topic. The user confirms each push; dry_run returns the payload.
    #[tool(
        annotations(
            title = "Send a push notification",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<SendPushOutput>()
    )]
    pub async fn send_push(
        &self,
        Parameters(args): Parameters<SendPushArgs>,
        state: RequestState,
        responses: InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let Some(ntfy) = self.settings.comms.ntfy.clone() else {
            return Err(ToolError::invalid("no ntfy server is configured"));
        };
        let p = Push {
            message: args.message.clone(),
            title: args.title.clone(),
            priority: args.priority,
            tags: args.tags.clone(),
            click: args.click.clone(),
            actions: args
                .actions
                .iter()
                .map(|a| ViewAction {
                    label: a.label.clone(),
                    url: a.url.clone(),
                })
                .collect(),
        };
        let p = push::prepare(&p, self.settings.comms.notice_caps())?;
        let payload = push::body(&ntfy, &p)?;
        if args.dry_run {
            return respond(Ok(Ok(SendPushOutput {
                sent: false,
                topic: ntfy.topic.clone(),
                id: None,
                payload: payload.as_object().cloned(),
            })));
        }
        let mut question = format!("Push to the ntfy topic `{}`", ntfy.topic);
        if let Some(t) = &p.title {
            question.push_str(&format!("\nTitle: {t}"));
        }
        question.push_str(&format!("\n\n{}", p.message));
        let send = SendPlan {
            attempt: Attempt {
                tool: "send_push".into(),
                target: ntfy.topic.clone(),
                recipients: Vec::new(),
                subject: args.title.clone(),
                body: Some(args.message.clone()),
            },
            ask: Some(Ask {
                question,
                digest: digest("send_push", &args, &[]),
                round: Round::new(state, responses),
            }),
        };
        let net = self.net()?;
        let sent = self
            .send_guarded(&ctx, send, || async {
                let id = push::publish(&net, &ntfy, &p).await?;
                let out = SendPushOutput {
                    sent: true,
                    topic: ntfy.topic.clone(),
                    id: Some(id.clone()),
                    payload: None,
                };
                Ok((out, id))
            })
            .await;
        respond(sent)
    }
}
