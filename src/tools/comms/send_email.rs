//! `send_email`: one message over SMTP from a configured account, to allowed recipients only,
//! with attachments read from inside the roots.

use std::io::Read;

use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResponse;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Ask, SendPlan};
use crate::tools::ask::{Round, digest, respond};
use crate::comms::email::{self, EmailError, FileAttachment, Outgoing};
use crate::comms::outbox::Attempt;
use crate::config::comms::{CommsSettings, EmailAccount};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "email mail send reply message smtp recipient inbox write an email";

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendEmailArgs {
    /// Recipients, `ann@example.com` or `Ann <ann@example.com>`; only addresses the config
    /// allows.
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Hidden recipients (in the envelope only).
    #[serde(default)]
    pub bcc: Vec<String>,
    pub subject: String,
    /// Plain-text body.
    pub text: Option<String>,
    /// HTML body; with text too, mail clients pick one.
    pub html: Option<String>,
    /// Files inside the roots to attach.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// The Message-ID being answered, for threading.
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first.
    #[serde(default)]
    pub references: Vec<String>,
    /// A configured account; the default one when omitted.
    pub account: Option<String>,
    /// Build the message and return it without sending or asking.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SendEmailOutput {
    /// True when the server accepted it; false for a dry run.
    pub sent: bool,
    /// The new message's Message-ID (for threading replies).
    pub message_id: String,
    pub account: String,
    pub from: String,
    /// Every envelope recipient (to, cc and bcc).
    pub recipients: Vec<String>,
    /// The exact message (dry run only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<EmailError> for ToolError {
    fn from(e: EmailError) -> Self {
        let code = match e {
            EmailError::TooManyRecipients { .. } => crate::error::reason::TOO_MANY_RECIPIENTS,
            EmailError::NotAllowed(_) => crate::error::reason::RECIPIENT_NOT_ALLOWED,
            EmailError::Send(_) => crate::error::reason::UPSTREAM_FAILED,
            EmailError::Invalid(_) => crate::error::reason::INVALID,
        };
        ToolError::refused(code, e.to_string())
    }
}

pub(crate) fn account<'a>(
    c: &'a CommsSettings,
    name: Option<&str>,
) -> Result<&'a EmailAccount, ToolError> {
    let names = || {
        c.accounts
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        None => c
            .accounts
            .first()
            .ok_or_else(|| ToolError::invalid("no email account is configured")),
        Some(n) => c.accounts.iter().find(|a| a.name == n).ok_or_else(|| {
            ToolError::invalid(format!(
                "no email account `{n}`; the accounts are: {}",
                names()
            ))
        }),
    }
}

/// Reads the attachments through the path policy, under the total size cap.
pub fn read_attachments(
    scope: &FileScope,
    paths: &[String],
    max_bytes: u64,
) -> Result<Vec<FileAttachment>, ToolError> {
    let mut total = 0u64;
    let mut out = Vec::new();
    for p in paths {
        let resolved = scope.existing(p)?;
        if !resolved.path.is_file() {
            return Err(ToolError::invalid(format!("`{p}` is not a file")));
        }
        let file = scope.open_read(&resolved.path, p)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        total += size;
        if total > max_bytes {
            return Err(ToolError::invalid(format!(
                "the attachments come to more than {} (comms.email.max_attachment_bytes); \
                 attach fewer or smaller files, or share a link instead",
                crate::support::text::human_bytes(max_bytes)
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ToolError::io(p, e))?;
        let name = resolved
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        let head = &bytes[..bytes.len().min(512)];
        let mime = crate::support::mime::detect(
            &resolved.path,
            head,
            !crate::support::text::looks_binary(head),
        );
        out.push(FileAttachment { name, mime, bytes });
    }
    Ok(out)
}

/// What the user is asked about a message.
fn question(
    account: &EmailAccount,
    a: &SendEmailArgs,
    files: &[FileAttachment],
    max_chars: usize,
) -> String {
    let mut q = format!(
        "Send an email from {} (account `{}`)\nTo: {}",
        account.account.from,
        account.name,
        a.to.join(", ")
    );
    if !a.cc.is_empty() {
        q.push_str(&format!("\nCc: {}", a.cc.join(", ")));
    }
    if !a.bcc.is_empty() {
        q.push_str(&format!("\nBcc: {}", a.bcc.join(", ")));
    }
    q.push_str(&format!("\nSubject: {}", a.subject));
    for f in files {
        q.push_str(&format!(
            "\nAttachment: {} ({})",
            f.name,
            crate::support::text::human_bytes(f.bytes.len() as u64)
        ));
    }
    let body = a.text.as_deref().or(a.html.as_deref()).unwrap_or_default();
    q.push_str(&format!("\n\n{}", super::preview(body, max_chars)));
    q
}

#[tool_router(router = send_email_router, vis = "pub(crate)")]
impl Switchboard {
    /// Send an email from a configured account to allowed recipients (text or HTML, attachments from the roots, replies). The user confirms each send. Returns the Message-ID; dry_run returns the message instead.
    #[tool(
        annotations(
            title = "Send email",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<SendEmailOutput>()
    )]
    pub async fn send_email(
        &self,
        Parameters(args): Parameters<SendEmailArgs>,
        state: RequestState,
        responses: InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let c = &self.settings.comms;
        let acc = account(c, args.account.as_deref())?.clone();
        let scope = self.file_scope(&ctx).await;
        let (paths, max) = (args.attachments.clone(), c.max_attachment_bytes);
        let files = crate::tools::blocking(move || read_attachments(&scope, &paths, max)).await?;
        let out = Outgoing {
            to: args.to.clone(),
            cc: args.cc.clone(),
            bcc: args.bcc.clone(),
            subject: args.subject.clone(),
            text: args.text.clone(),
            html: args.html.clone(),
            attachments: files,
            in_reply_to: args.in_reply_to.clone(),
            references: args.references.clone(),
        };
        let (msg, message_id) = email::build(&acc.account, &c.allow, &out)?;
        let recipients: Vec<String> = msg.envelope().to().iter().map(|a| a.to_string()).collect();
        let output = |sent, message| SendEmailOutput {
            sent,
            message_id: message_id.clone(),
            account: acc.name.clone(),
            from: acc.account.from.to_string(),
            recipients: recipients.clone(),
            message,
        };
        if args.dry_run {
            return respond(Ok(Ok(output(false, Some(email::render(&msg))))));
        }
        let content: Vec<&[u8]> = out.attachments.iter().map(|f| f.bytes.as_slice()).collect();
        let send = SendPlan {
            attempt: Attempt {
                tool: "send_email".into(),
                target: acc.name.clone(),
                recipients: recipients.clone(),
                subject: Some(args.subject.clone()),
                body: args.text.clone().or_else(|| args.html.clone()),
            },
            ask: Some(Ask {
                question: question(&acc, &args, &out.attachments, c.confirm_max_chars),
                digest: digest("send_email", &args, &content),
                round: Round::new(state, responses),
            }),
        };
        let sent = self
            .send_guarded(&ctx, send, || async {
                email::send(&acc.account, msg).await?;
                Ok((output(true, None), message_id.clone()))
            })
            .await;
        respond(sent)
    }
}
