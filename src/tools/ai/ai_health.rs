//! `ai_health`: whether each AI backend answers, its version and model count. Results are
//! cached for `ai.health_ttl_secs` (requests made by other calls count); `refresh` checks now.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ai::{Ai, HealthReport};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "ollama running reachable up backend health check connection status";

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiHealthArgs {
    /// Only this backend; all when absent.
    #[serde(default)]
    pub backend: Option<String>,
    /// Check now instead of reusing a recent result.
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AiHealthOutput {
    pub backends: Vec<HealthReport>,
    pub default_backend: String,
}

pub async fn ai_health(ai: &Ai, args: AiHealthArgs) -> Result<AiHealthOutput, ToolError> {
    let names: Vec<String> = match &args.backend {
        Some(b) => vec![ai.backend(b)?.0.name.clone()],
        None => ai.backends().map(|(s, _)| s.name.clone()).collect(),
    };
    let checks = names.iter().map(|n| ai.health(n, args.refresh));
    let mut backends = Vec::new();
    for r in futures_util::future::join_all(checks).await {
        backends.push(r?);
    }
    Ok(AiHealthOutput {
        backends,
        default_backend: ai.settings.default_backend.clone(),
    })
}

#[tool_router(router = ai_health_router, vis = "pub(crate)")]
impl Switchboard {
    /// Check the AI backends: reachable or not (with what to do), version, number of models. Recent results are reused unless refresh is true.
    #[tool(annotations(
        title = "AI backend health",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn ai_health(
        &self,
        Parameters(args): Parameters<AiHealthArgs>,
    ) -> Result<Json<AiHealthOutput>, ToolError> {
        ai_health(self.ai()?.as_ref(), args).await.map(Json)
    }
}
