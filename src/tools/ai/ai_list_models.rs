//! `ai_list_models`: every model of every configured backend (or one), with size, family,
//! parameters, quantisation and whether it is loaded; unreachable backends are reported
//! beside the list instead of failing it.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ai::Ai;
use crate::ai::backend::ModelEntry;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "models installed available local list ollama list which models";

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiListModelsArgs {
    /// Only this backend (a name from ai_health); all backends when absent.
    #[serde(default)]
    pub backend: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AiListModelsOutput {
    pub models: Vec<ModelEntry>,
    /// The backend bare model names go to.
    pub default_backend: String,
    /// Backends that could not be listed, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

pub async fn ai_list_models(
    ai: &Ai,
    args: AiListModelsArgs,
) -> Result<AiListModelsOutput, ToolError> {
    let (models, errors) = ai.list_models(args.backend.as_deref()).await?;
    if models.is_empty() && !errors.is_empty() {
        return Err(ToolError::Invalid(errors.join("\n")));
    }
    Ok(AiListModelsOutput {
        models,
        default_backend: ai.settings.default_backend.clone(),
        errors,
    })
}

#[tool_router(router = ai_list_models_router, vis = "pub(crate)")]
impl Switchboard {
    /// List the local AI models of every backend: the name to pass as `model`, size, family and whether it is loaded.
    #[tool(annotations(
        title = "List AI models",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn ai_list_models(
        &self,
        Parameters(args): Parameters<AiListModelsArgs>,
    ) -> Result<Json<AiListModelsOutput>, ToolError> {
        ai_list_models(self.ai()?.as_ref(), args).await.map(Json)
    }
}
