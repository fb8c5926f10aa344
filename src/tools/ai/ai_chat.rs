//! `ai_chat`: a conversation sent to a local model, with sampling options, structured output
//! (`format`), images read from the roots, streaming as progress notifications, and
//! cancellation that stops the generation upstream.

use std::time::Instant;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{GenerationOutput, Streamer, cancellable, generation_output};
use crate::ai::backend::{ChatRequest, Message, Role};
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "ask chat local llm model ollama question talk conversation second opinion explain";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    /// Image files (inside the roots) for a vision model.
    #[serde(default)]
    pub images: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiChatArgs {
    /// The conversation, oldest first; usually ends with a user message.
    pub messages: Vec<ChatMessage>,
    /// `model` on the default backend or `backend/model` (ai_list_models); the backend's default_model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// A system prompt put before the messages.
    #[serde(default)]
    pub system: Option<String>,
    /// 0 (deterministic) to 2.
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Fixed seed for repeatable output.
    #[serde(default)]
    pub seed: Option<i64>,
    /// Most tokens to generate.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Strings that end the generation.
    #[serde(default)]
    pub stop: Vec<String>,
    #[serde(default)]
    #[schemars(schema_with = "super::format_schema")]
    pub format: Option<Value>,
}

/// Runs the chat; `sink` hears the text as it is generated.
pub async fn ai_chat(
    ai: &crate::ai::Ai,
    args: AiChatArgs,
    images: Vec<Vec<crate::ai::backend::Image>>,
    sink: &mut (dyn FnMut(&str) + Send),
    ctx: &RequestContext<RoleServer>,
) -> Result<GenerationOutput, ToolError> {
    if args.messages.is_empty() {
        return Err(ToolError::invalid(
            "messages is empty: send at least one {\"role\": \"user\", \"content\": ...}",
        ));
    }
    let started = Instant::now();
    let options = super::options(
        args.temperature,
        args.top_p,
        args.seed,
        args.max_tokens,
        args.stop,
    )?;
    let format = super::format(args.format)?;
    let json_wanted = format.is_some();
    let target = ai.resolve(args.model.as_deref()).await?;
    let mut messages = Vec::new();
    if let Some(s) = args.system {
        messages.push(Message::new(Role::System, s));
    }
    for (m, imgs) in args.messages.into_iter().zip(images) {
        let mut msg = Message::new(m.role, m.content);
        msg.images = imgs;
        messages.push(msg);
    }
    let req = ChatRequest {
        model: target.model.clone(),
        messages,
        options,
        format,
    };
    let reply = cancellable(ctx, target.backend.chat(&req, sink)).await?;
    Ok(generation_output(
        &target,
        &ai.settings.default_backend,
        reply,
        json_wanted,
        started,
    ))
}

#[tool_router(router = ai_chat_router, vis = "pub(crate)")]
impl Switchboard {
    /// Chat with a local model (Ollama or OpenAI-compatible): private and offline. Supports JSON output, images from the roots and streamed progress. Returns the reply, token counts and timings.
    #[tool(annotations(
        title = "Chat with a local model",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn ai_chat(
        &self,
        Parameters(args): Parameters<AiChatArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<GenerationOutput>, ToolError> {
        let ai = self.ai()?;
        let paths: Vec<Vec<String>> = args.messages.iter().map(|m| m.images.clone()).collect();
        let images = if paths.iter().any(|p| !p.is_empty()) {
            let scope = self.file_scope(&ctx).await;
            blocking(move || {
                paths
                    .iter()
                    .map(|p| super::load_images(&scope, p))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?
        } else {
            paths.iter().map(|_| Vec::new()).collect()
        };
        let streamer = Streamer::new(&ctx, args.max_tokens.map(f64::from));
        let mut sink = streamer.sink();
        let out = ai_chat(&ai, args, images, &mut sink, &ctx).await;
        streamer.finish().await;
        out.map(Json)
    }
}
