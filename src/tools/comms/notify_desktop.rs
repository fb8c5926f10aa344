//! `notify_desktop`: a native notification on this machine's desktop.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SendPlan;
use crate::tools::ask::respond;
use crate::comms::desktop::{self, Desktop, DesktopError, Urgency};
use crate::comms::outbox::Attempt;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "desktop notification popup pop up alert toast screen local computer";

/// How long the notification service may take to answer.
const SERVICE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UrgencyArg {
    Low,
    Normal,
    Critical,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyDesktopArgs {
    /// A short headline.
    pub title: String,
    /// The text under it, shown as written (no markup).
    #[serde(default)]
    pub body: String,
    /// `normal` when omitted; `critical` stays until dismissed on most desktops.
    pub urgency: Option<UrgencyArg>,
    /// How long it stays up, in seconds; the desktop decides when omitted.
    pub timeout_secs: Option<u32>,
    /// Return exactly what would be shown, without showing it.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotifyDesktopOutput {
    pub shown: bool,
    /// The notification service's id for it, where it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// What the notification service is sent (dry run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<DesktopError> for ToolError {
    fn from(e: DesktopError) -> Self {
        let code = match e {
            DesktopError::TooLarge(_) => crate::error::reason::MESSAGE_TOO_LARGE,
            DesktopError::Unavailable(_) => crate::error::reason::UPSTREAM_FAILED,
            DesktopError::Invalid(_) => crate::error::reason::INVALID,
        };
        ToolError::refused(code, e.to_string())
    }
}

#[tool_router(router = notify_desktop_router, vis = "pub(crate)")]
impl Switchboard {
    /// Pop up a notification on this computer's desktop, e.g. when a long task finishes (needs a desktop session). dry_run shows what would be sent.
    #[tool(
        annotations(
            title = "Desktop notification",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<NotifyDesktopOutput>()
    )]
    pub async fn notify_desktop(
        &self,
        Parameters(args): Parameters<NotifyDesktopArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let n = Desktop {
            title: args.title.clone(),
            body: args.body.clone(),
            urgency: match args.urgency {
                Some(UrgencyArg::Low) => Urgency::Low,
                Some(UrgencyArg::Critical) => Urgency::Critical,
                _ => Urgency::Normal,
            },
            timeout: args
                .timeout_secs
                .map(|s| std::time::Duration::from_secs(u64::from(s))),
        };
        let n = desktop::prepare(&n, self.settings.comms.notice_caps())?;
        if args.dry_run {
            let preview = serde_json::json!({
                "app_name": "switchboard",
                "summary": n.title,
                "body": desktop::escape_markup(&n.body),
                "urgency": format!("{:?}", n.urgency).to_lowercase(),
                "timeout_ms": n.timeout.map(|t| t.as_millis() as u64),
            });
            return respond(Ok(Ok(NotifyDesktopOutput {
                shown: false,
                id: None,
                notification: preview.as_object().cloned(),
            })));
        }
        let send = SendPlan {
            attempt: Attempt {
                tool: "notify_desktop".into(),
                target: "desktop".into(),
                recipients: Vec::new(),
                subject: Some(args.title.clone()),
                body: Some(args.body.clone()),
            },
            ask: None,
        };
        let shown = self
            .send_guarded(&ctx, send, || async {
                let id = desktop::show(&n, SERVICE_WAIT).await?;
                let detail = id.map_or_else(|| "shown".to_owned(), |i| format!("id {i}"));
                Ok((
                    NotifyDesktopOutput {
                        shown: true,
                        id,
                        notification: None,
                    },
                    detail,
                ))
            })
            .await;
        respond(shown)
    }
}
