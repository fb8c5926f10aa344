//! `send_webhook`: a message to a webhook named in the config (Slack, Discord, Teams or a
//! signed generic one). The model names the webhook; it never supplies a URL.

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
use crate::comms::webhook::{self, Kind, WebhookError};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "webhook slack discord teams channel post message chat";

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendWebhookArgs {
    /// A configured webhook's name (the tool description lists them).
    pub webhook: String,
    /// The message; shown as plain text (no channel pings or mentions).
    pub text: String,
    /// A headline above the text.
    pub title: Option<String>,
    /// Extra JSON fields, for generic webhooks only.
    pub data: Option<serde_json::Map<String, Value>>,
    /// Return the exact payload without posting or asking.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SendWebhookOutput {
    /// True when the receiver accepted it; false for a dry run.
    pub sent: bool,
    pub webhook: String,
    /// `slack`, `discord`, `teams` or `generic`.
    pub kind: String,
    /// The receiver's HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Attempts made, retries included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The exact JSON body (dry run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Map<String, Value>>,
}

impl From<WebhookError> for ToolError {
    fn from(e: WebhookError) -> Self {
        ToolError::Invalid(e.to_string())
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Slack => "slack",
        Kind::Discord => "discord",
        Kind::Teams => "teams",
        Kind::Generic => "generic",
    }
}

#[tool_router(router = send_webhook_router, vis = "pub(crate)")]
impl Switchboard {
    /// Post a message to a webhook named in the config (Slack, Discord, Teams or JSON); URLs are never accepted. The user confirms each post; dry_run returns the payload.
    #[tool(
        annotations(
            title = "Post to a webhook",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<SendWebhookOutput>()
    )]
    pub async fn send_webhook(
        &self,
        Parameters(args): Parameters<SendWebhookArgs>,
        state: RequestState,
        responses: InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let c = &self.settings.comms;
        let Some(w) = c.webhooks.iter().find(|w| w.hook.name == args.webhook) else {
            let names: Vec<&str> = c.webhooks.iter().map(|w| w.hook.name.as_str()).collect();
            return Err(ToolError::invalid(format!(
                "no webhook `{}`; the configured ones are: {}. Webhook URLs cannot be given \
                 (http_request is for arbitrary URLs)",
                args.webhook,
                names.join(", ")
            )));
        };
        let hook = w.hook.clone();
        let body = webhook::payload(
            hook.kind,
            args.title.as_deref(),
            &args.text,
            args.data.clone().map(Value::Object).as_ref(),
        )?;
        let output = |sent, status, attempts, payload| SendWebhookOutput {
            sent,
            webhook: hook.name.clone(),
            kind: kind_name(hook.kind).into(),
            status,
            attempts,
            payload,
        };
        if args.dry_run {
            return respond(Ok(Ok(output(false, None, None, body.as_object().cloned()))));
        }
        let mut question = format!(
            "Post to the {} webhook `{}`",
            kind_name(hook.kind),
            hook.name
        );
        if let Some(d) = &w.description {
            question.push_str(&format!(" ({d})"));
        }
        if let Some(t) = &args.title {
            question.push_str(&format!("\nTitle: {t}"));
        }
        question.push_str(&format!(
            "\n\n{}",
            super::preview(&args.text, self.settings.comms.confirm_max_chars)
        ));
        let send = SendPlan {
            attempt: Attempt {
                tool: "send_webhook".into(),
                target: hook.name.clone(),
                recipients: Vec::new(),
                subject: args.title.clone(),
                body: Some(args.text.clone()),
            },
            ask: Some(Ask {
                question,
                digest: digest("send_webhook", &args, &[]),
                round: Round::new(state, responses),
            }),
        };
        let net = self.net()?;
        let retry = c.retry;
        let sent = self
            .send_guarded(&ctx, send, || async {
                let d = webhook::deliver(&net, &hook, &body, retry).await?;
                let detail = format!("HTTP {} after {} attempt(s)", d.status, d.attempts);
                Ok((output(true, Some(d.status), Some(d.attempts), None), detail))
            })
            .await;
        respond(sent)
    }
}
