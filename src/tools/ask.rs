//! Asking the person at the host, in either protocol generation. Every tool that needs a
//! person's word (a send to confirm, a child server to approve) asks through here.
//!
//! Initialize-era sessions are asked with a plain `elicitation/create` request. On 2026-07-28
//! and later a server sends no requests of its own, so the tool answers `input_required` with
//! the question and a one-time handle bound to a digest of what is asked about; the host asks
//! the person and calls again with the answer and the handle, and only an answer to that exact
//! question counts (a handle about other arguments asks afresh).

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::model::{
    CallToolResponse, CallToolResult, ElicitRequest, ElicitRequestParams, ElicitResult,
    InputRequest, InputRequiredResult, ProtocolVersion,
};
use rmcp::service::RequestContext;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::server::Switchboard;
use crate::tools::ToolError;

/// The key of the one question a tool asks.
const QUESTION_KEY: &str = "confirm";

/// The answer of one round: the handle the host echoes back, and the person's answers.
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

/// What asking gave.
pub(crate) enum Asked {
    /// The person's answer.
    Answer(ElicitResult),
    /// The question, for the tool to answer its call with (2026-07-28).
    Ask(InputRequiredResult),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AskError {
    #[error("this host cannot ask the user (it does not support elicitation)")]
    CannotAsk,
    #[error("the host could not ask the user ({0})")]
    Host(String),
    #[error("the user did not answer within {0} s")]
    Timeout(u64),
    #[error("the host's answer is not an elicitation result ({0})")]
    Malformed(String),
}

/// What an answer approves: the tool, its exact arguments, and any content it read or shows
/// for them (attachments, what a server entry runs), so an answer approves exactly that.
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

impl Switchboard {
    /// Asks the person `params`' question, the way the session allows; `digest` says what the
    /// answer is about, `round` is this call's part of a 2026-07-28 exchange, and `timeout`
    /// how long a question stays open.
    pub(crate) async fn ask_user(
        &self,
        ctx: &RequestContext<RoleServer>,
        params: ElicitRequestParams,
        digest: String,
        round: Round,
        timeout: Duration,
    ) -> Result<Asked, AskError> {
        let can_ask = ctx
            .client_capabilities()
            .and_then(|caps| caps.elicitation)
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        if !can_ask {
            return Err(AskError::CannotAsk);
        }
        let stateless = ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        if !stateless {
            return match tokio::time::timeout(timeout, ctx.peer.create_elicitation(params)).await {
                Ok(Ok(r)) => Ok(Asked::Answer(r)),
                Ok(Err(e)) => Err(AskError::Host(e.to_string())),
                Err(_) => Err(AskError::Timeout(timeout.as_secs())),
            };
        }
        if let (Some(handle), Some(responses)) = (&round.state, &round.responses)
            && let Some(bound) = self.questions.take(handle, timeout)
            && bound == digest
            && let Some(answer) = responses.get(QUESTION_KEY)
        {
            return serde_json::from_value(answer.clone())
                .map(Asked::Answer)
                .map_err(|e| AskError::Malformed(e.to_string()));
        }
        let handle = self.questions.put(digest, timeout);
        let request = InputRequest::Elicitation(ElicitRequest::new(params));
        Ok(Asked::Ask(InputRequiredResult::new(
            Some([(QUESTION_KEY.to_owned(), request)].into()),
            Some(handle),
        )))
    }
}

/// A tool's answer: its data, or the question for the person.
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
