//! `ai_embed`: one or many texts turned into vectors by a local embedding model, with the
//! dimension reported; at most `ai.max_embed_inputs` texts per call.

use std::time::Instant;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cancellable;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "embedding embeddings vector vectorize semantic similarity embed";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiEmbedArgs {
    /// The texts to embed (one or more).
    pub texts: Vec<String>,
    /// An embedding model: `model` or `backend/model`; the backend's default_model when absent.
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AiEmbedOutput {
    pub model: String,
    pub backend: String,
    /// Length of each vector.
    pub dimensions: usize,
    /// One vector per text, in order.
    pub embeddings: Vec<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    pub total_ms: u64,
}

pub async fn ai_embed(
    ai: &crate::ai::Ai,
    args: AiEmbedArgs,
    ctx: &RequestContext<RoleServer>,
) -> Result<AiEmbedOutput, ToolError> {
    let started = Instant::now();
    let max = ai.settings.max_embed_inputs;
    if args.texts.is_empty() {
        return Err(ToolError::invalid("texts is empty: send at least one text"));
    }
    if args.texts.len() > max {
        return Err(ToolError::invalid(format!(
            "{} texts is more than the {max} one call may embed (ai.max_embed_inputs); send them in batches",
            args.texts.len()
        )));
    }
    let target = ai.resolve(args.model.as_deref()).await?;
    let e = cancellable(ctx, target.backend.embed(&target.model, &args.texts)).await?;
    if e.vectors.len() != args.texts.len() {
        return Err(ToolError::Internal(format!(
            "backend `{}` returned {} vectors for {} texts",
            target.settings.name,
            e.vectors.len(),
            args.texts.len()
        )));
    }
    Ok(AiEmbedOutput {
        model: target.display(&ai.settings.default_backend),
        backend: target.settings.name.clone(),
        dimensions: e.vectors.first().map_or(0, Vec::len),
        embeddings: e.vectors,
        prompt_tokens: e.prompt_tokens,
        total_ms: started.elapsed().as_millis() as u64,
    })
}

#[tool_router(router = ai_embed_router, vis = "pub(crate)")]
impl Switchboard {
    /// Turn texts into embedding vectors with a local model (for similarity search, clustering, deduplication). Returns one vector per text and the dimension.
    #[tool(annotations(
        title = "Embed texts",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn ai_embed(
        &self,
        Parameters(args): Parameters<AiEmbedArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<AiEmbedOutput>, ToolError> {
        ai_embed(self.ai()?.as_ref(), args, &ctx).await.map(Json)
    }
}
