//! `ai_generate`: a single prompt completed by a local model (Ollama's generate; on an
//! OpenAI-compatible server, a one-message chat, or a raw completion with `raw`), with the
//! same options, streaming and cancellation as `ai_chat`.

use std::time::Instant;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{GenerationOutput, Streamer, cancellable, generation_output};
use crate::ai::backend::{GenerateRequest, Image};
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "generate complete completion raw prompt continue text local model";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiGenerateArgs {
    pub prompt: String,
    /// `model` on the default backend or `backend/model` (ai_list_models); the backend's default_model when absent.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub system: Option<String>,
    /// Send the prompt without the model's chat template (plain text completion).
    #[serde(default)]
    pub raw: bool,
    /// Image files (inside the roots) for a vision model.
    #[serde(default)]
    pub images: Vec<String>,
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

pub async fn ai_generate(
    ai: &crate::ai::Ai,
    args: AiGenerateArgs,
    images: Vec<Image>,
    sink: &mut (dyn FnMut(&str) + Send),
    ctx: &RequestContext<RoleServer>,
) -> Result<GenerationOutput, ToolError> {
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
    let req = GenerateRequest {
        model: target.model.clone(),
        prompt: args.prompt,
        system: args.system,
        raw: args.raw,
        images,
        options,
        format,
    };
    let reply = cancellable(ctx, target.backend.generate(&req, sink)).await?;
    Ok(generation_output(
        &target,
        &ai.settings.default_backend,
        reply,
        json_wanted,
        started,
    ))
}

#[tool_router(router = ai_generate_router, vis = "pub(crate)")]
impl Switchboard {
    /// Complete one prompt with a local model; like ai_chat, and raw skips the chat template. Returns the text, token counts and timings.
    #[tool(annotations(
        title = "Generate with a local model",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn ai_generate(
        &self,
        Parameters(args): Parameters<AiGenerateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<GenerationOutput>, ToolError> {
        let ai = self.ai()?;
        let images = if args.images.is_empty() {
            Vec::new()
        } else {
            let scope = self.file_scope(&ctx).await;
            let paths = args.images.clone();
            blocking(move || super::load_images(&scope, &paths)).await?
        };
        let streamer = Streamer::new(&ctx, args.max_tokens.map(f64::from));
        let mut sink = streamer.sink();
        let out = ai_generate(&ai, args, images, &mut sink, &ctx).await;
        streamer.finish().await;
        out.map(Json)
    }
}
