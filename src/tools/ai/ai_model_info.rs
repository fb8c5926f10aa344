//! `ai_model_info`: one model in detail (family, parameters, quantisation, context length,
//! capabilities, template), from the backend that serves it.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::ai::Ai;
use crate::ai::backend::ModelDetails;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "model details context length window capabilities supports tool calling vision template parameters show family size";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiModelInfoArgs {
    /// `model` on the default backend, or `backend/model`.
    pub model: String,
}

pub async fn ai_model_info(ai: &Ai, args: AiModelInfoArgs) -> Result<ModelDetails, ToolError> {
    let target = ai.resolve(Some(&args.model)).await?;
    let mut details = target.backend.show(&target.model).await?;
    details.name = target.display(&ai.settings.default_backend);
    // The context a request gets, as ai_list_models and ai_agent see it; the trained length
    // beside it.
    let window = target.window(&ai.settings).await;
    details.trained_context_length = details.context_length;
    details.context_length = Some(window.tokens);
    details.context_source = Some(window.source.as_str());
    Ok(details)
}

#[tool_router(router = ai_model_info_router, vis = "pub(crate)")]
impl Switchboard {
    /// Details of one AI model: family, size, context length, capabilities (tools, vision, embedding) and prompt template.
    #[tool(annotations(
        title = "AI model info",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn ai_model_info(
        &self,
        Parameters(args): Parameters<AiModelInfoArgs>,
    ) -> Result<Json<ModelDetails>, ToolError> {
        ai_model_info(self.ai()?.as_ref(), args).await.map(Json)
    }
}
