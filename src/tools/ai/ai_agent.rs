//! `ai_agent`: hands a task to a local model, which calls switchboard's own tools in a loop
//! (`crate::ai::agent`) until it can answer. The tools are the read-only ones unless the call
//! names others that `ai.agent.allow` lists; AI tools are never offered (no recursion). Every
//! call the agent makes goes through the same router and policy as a call from the host.

use std::time::Instant;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{CallToolRequestParams, CallToolResponse, Tool};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Streamer, cancellable};
use crate::ai::agent::{AgentRequest, AgentTool, Step, ToolRunner};
use crate::ai::backend::BoxFuture;
use crate::config::AgentSettings;
use crate::server::Switchboard;
use crate::tools::{ToolError, is_read_only};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "delegate agent autonomous local model multi-step task tools on its own research";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiAgentArgs {
    /// What the local model should do, in plain words.
    pub task: String,
    /// Tools it may call (default: all read-only tools; others only if ai.agent.allow lists them).
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// `model` or `backend/model`; the backend's default_model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// Most model turns (default ai.agent.max_steps, 8); the last one must answer.
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Sampling temperature (default 0: the most predictable tool use).
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub seed: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AiAgentOutput {
    pub answer: String,
    /// False when the model never gave a usable answer within max_steps.
    pub finished: bool,
    pub model: String,
    pub backend: String,
    /// The tool calls made, in order.
    pub steps: Vec<Step>,
    /// Model replies (one per turn).
    pub turns: usize,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_ms: u64,
    pub context_tokens: u64,
    pub context_source: &'static str,
    /// What was cut to fit the context.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cut: Vec<String>,
}

/// The tools the agent gets: those asked for, or every read-only one, those `ranked` names
/// (the most relevant to the task) first, so a small context keeps the useful ones. A tool
/// that changes things needs `ai.agent.allow`, and none at all in read-only mode.
pub fn choose_tools(
    catalog: &[Tool],
    asked: Option<&[String]>,
    ranked: &[String],
    agent: &AgentSettings,
    read_only: bool,
) -> Result<Vec<AgentTool>, ToolError> {
    // Never the AI tools (no recursion) or a workflow (it would reach past the agent's tools).
    let usable = |t: &Tool| !t.name.starts_with("ai_") && t.name != "run_workflow";
    let as_agent_tool = |t: &Tool| AgentTool {
        name: t.name.to_string(),
        description: t.description.as_deref().unwrap_or_default().to_owned(),
        input_schema: Value::Object(t.input_schema.as_ref().clone()),
    };
    let Some(asked) = asked else {
        let mut tools: Vec<&Tool> = catalog
            .iter()
            .filter(|t| usable(t) && is_read_only(t))
            .collect();
        let rank = |t: &&Tool| {
            ranked
                .iter()
                .position(|r| r.as_str() == t.name.as_ref())
                .unwrap_or(usize::MAX)
        };
        tools.sort_by_key(rank);
        return Ok(tools.into_iter().map(as_agent_tool).collect());
    };
    let mut out = Vec::new();
    for name in asked {
        let Some(t) = catalog.iter().find(|t| t.name == name.as_str()) else {
            return Err(ToolError::invalid(format!(
                "no tool `{name}`; the agent can use the tools tools/list shows, except the ai_ tools"
            )));
        };
        if !usable(t) {
            return Err(ToolError::invalid(format!(
                "`{name}` cannot be given to the agent (AI tools are never offered to it)"
            )));
        }
        if !is_read_only(t) && (read_only || !agent.allow.iter().any(|a| a == name)) {
            return Err(ToolError::invalid(format!(
                "`{name}` changes things; the agent may use it only when ai.agent.allow lists it{}",
                if read_only {
                    " and switchboard is not in read-only mode"
                } else {
                    ""
                }
            )));
        }
        if !out.iter().any(|o: &AgentTool| o.name == *name) {
            out.push(as_agent_tool(t));
        }
    }
    Ok(out)
}

/// Runs the agent's calls through the server's own router, as the host's calls are.
struct Runner {
    server: Switchboard,
    ctx: RequestContext<RoleServer>,
}

impl ToolRunner for Runner {
    fn run<'a>(&'a self, name: &'a str, arguments: Value) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let Value::Object(args) = arguments else {
                return Err("arguments must be a JSON object".into());
            };
            let mut ctx = self.ctx.clone();
            // Inner calls report no progress of their own under the agent's token.
            crate::mcp::progress::CallProgress::detach(&mut ctx);
            let request = CallToolRequestParams::new(name.to_owned()).with_arguments(args);
            match self
                .server
                .dispatch(request, ctx, crate::server::Caller::Agent)
                .await
            {
                Ok(CallToolResponse::Complete(r)) => {
                    let text = match &r.structured_content {
                        Some(s) if r.content.is_empty() => s.to_string(),
                        _ => crate::mcp::result_text(&r),
                    };
                    if r.is_error == Some(true) {
                        Err(text)
                    } else {
                        Ok(text)
                    }
                }
                Ok(CallToolResponse::InputRequired(_)) => Err(format!(
                    "`{name}` needs the user's answer, which the agent cannot ask for; do it without `{name}`"
                )),
                Ok(_) => Err(format!(
                    "`{name}` answered with a task, which the agent cannot wait for"
                )),
                Err(e) => Err(e.message.to_string()),
            }
        })
    }
}

#[tool_router(router = ai_agent_router, vis = "pub(crate)")]
impl Switchboard {
    /// Delegate a task to a local model that calls switchboard's tools itself (read-only ones by default) until it can answer, e.g. "find the TODOs in src and summarise them". Returns the answer and a trace of its tool calls.
    #[tool(annotations(
        title = "Local agent",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn ai_agent(
        &self,
        Parameters(args): Parameters<AiAgentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<AiAgentOutput>, ToolError> {
        let started = Instant::now();
        let ai = self.ai()?;
        let agent = &self.settings.ai.agent;
        if args.task.trim().is_empty() {
            return Err(ToolError::invalid(
                "task is empty: say what the agent should do",
            ));
        }
        let max_steps = args.max_steps.unwrap_or(agent.max_steps);
        if max_steps == 0 || max_steps > agent.max_steps_limit {
            return Err(ToolError::invalid(format!(
                "max_steps must be 1 to {} (ai.agent.max_steps_limit)",
                agent.max_steps_limit
            )));
        }
        let ranked = match &args.tools {
            Some(_) => Vec::new(),
            None => self.searchable_tools(&ctx).await.ranked(&args.task),
        };
        let tools = choose_tools(
            &self.all_tools(),
            args.tools.as_deref(),
            &ranked,
            agent,
            self.settings.read_only,
        )?;
        let mut options = super::options(
            Some(args.temperature.unwrap_or(0.0)),
            None,
            args.seed,
            Some(agent.max_tokens_per_step),
            Vec::new(),
        )?;
        options.stop.clear();
        let target = ai.resolve(args.model.as_deref()).await?;
        let window = target.window(&ai.settings).await;
        // Ollama loads the model with this context (no surprise truncation).
        options.context_tokens = Some(window.tokens);
        let request = AgentRequest {
            task: args.task,
            tools,
            max_steps,
            max_result_chars: agent.max_tool_result_chars,
            options,
            window: Some(window),
        };
        let runner = Runner {
            server: self.clone(),
            ctx: ctx.clone(),
        };
        let streamer = Streamer::new(&ctx, Some(max_steps as f64));
        let mut on_step = |line: String| streamer.say(line);
        let outcome = cancellable(
            &ctx,
            crate::ai::agent::run(
                target.backend,
                &target.model,
                request,
                &runner,
                &mut on_step,
            ),
        )
        .await;
        streamer.finish().await;
        let outcome = outcome?;
        Ok(Json(AiAgentOutput {
            answer: outcome.answer,
            finished: outcome.finished,
            model: target.display(&ai.settings.default_backend),
            backend: target.settings.name.clone(),
            steps: outcome.steps,
            turns: outcome.turns,
            prompt_tokens: outcome.prompt_tokens,
            completion_tokens: outcome.completion_tokens,
            total_ms: started.elapsed().as_millis() as u64,
            context_tokens: window.tokens,
            context_source: window.source.as_str(),
            cut: outcome.cut,
        }))
    }
}
