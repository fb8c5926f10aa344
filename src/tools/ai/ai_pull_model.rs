//! `ai_pull_model`: downloads a model into Ollama, reporting bytes, percent and status as MCP
//! progress notifications; cancelling the call stops the download.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cancellable;
use crate::ai::backend::PullUpdate;
use crate::server::Switchboard;
use crate::support::text;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "pull download install a new model fetch model";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AiPullModelArgs {
    /// `name:tag` (e.g. `llama3.2:3b`), or `backend/name:tag` for another Ollama backend.
    pub model: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AiPullModelOutput {
    pub model: String,
    pub backend: String,
    pub status: String,
    /// Size of all layers pulled.
    pub total_bytes: u64,
    pub layers: usize,
    pub total_ms: u64,
}

/// Turns Ollama's per-layer counters into one rising total (MCP progress must only grow).
#[derive(Debug, Default)]
pub struct PullProgress {
    layers: BTreeMap<String, (u64, u64)>,
    pub status: String,
}

impl PullProgress {
    pub fn update(&mut self, u: &PullUpdate) {
        self.status = u.status.clone();
        if let (Some(d), Some(total)) = (&u.digest, u.total) {
            let done = u.completed.unwrap_or(0).min(total);
            let e = self.layers.entry(d.clone()).or_default();
            e.0 = total;
            e.1 = e.1.max(done);
        }
    }

    pub fn totals(&self) -> (u64, u64) {
        self.layers
            .values()
            .fold((0, 0), |(t, c), (lt, lc)| (t + lt, c + lc))
    }

    pub fn message(&self) -> String {
        let (total, done) = self.totals();
        if total == 0 {
            return self.status.clone();
        }
        format!(
            "{}: {} of {} ({:.0}%)",
            self.status,
            text::human_bytes(done),
            text::human_bytes(total),
            done as f64 * 100.0 / total as f64
        )
    }
}

#[tool_router(router = ai_pull_model_router, vis = "pub(crate)")]
impl Switchboard {
    /// Download a model into Ollama (e.g. "llama3.2:3b") so it can be used. Sends progress while it runs; cancel the call to stop.
    #[tool(annotations(
        title = "Pull AI model",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn ai_pull_model(
        &self,
        Parameters(args): Parameters<AiPullModelArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<AiPullModelOutput>, ToolError> {
        let ai = self.ai()?;
        let started = Instant::now();
        let target = ai.resolve(Some(&args.model)).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let reporter = crate::mcp::progress::CallProgress::of(&ctx).map(|progress| {
            tokio::spawn(async move {
                let mut step = 0u64;
                let mut last = Instant::now() - Duration::from_secs(1);
                let mut pending: Option<String> = None;
                loop {
                    let next = tokio::time::timeout(Duration::from_millis(250), rx.recv()).await;
                    let closed = matches!(next, Ok(None));
                    if let Ok(Some(m)) = next {
                        pending = Some(m);
                    }
                    if let Some(m) =
                        pending.take_if(|_| closed || last.elapsed() >= Duration::from_millis(250))
                    {
                        step += 1;
                        last = Instant::now();
                        if !progress.report(step as f64, None, Some(m)).await {
                            break;
                        }
                    }
                    if closed {
                        break;
                    }
                }
            })
        });
        let mut progress = PullProgress::default();
        let mut sink = |u: PullUpdate| {
            progress.update(&u);
            let _ = tx.send(progress.message());
        };
        let result = cancellable(&ctx, target.backend.pull(&target.model, &mut sink)).await;
        drop(tx);
        if let Some(r) = reporter {
            let _ = r.await;
        }
        result?;
        let (total, _) = progress.totals();
        Ok(Json(AiPullModelOutput {
            model: target.display(&ai.settings.default_backend),
            backend: target.settings.name.clone(),
            status: progress.status.clone(),
            total_bytes: total,
            layers: progress.layers.len(),
            total_ms: started.elapsed().as_millis() as u64,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(status: &str, digest: Option<&str>, total: Option<u64>, done: Option<u64>) -> PullUpdate {
        PullUpdate {
            status: status.into(),
            digest: digest.map(Into::into),
            total,
            completed: done,
        }
    }

    #[test]
    fn per_layer_counters_add_up_and_only_grow() {
        let mut p = PullProgress::default();
        p.update(&u("pulling manifest", None, None, None));
        assert_eq!(p.message(), "pulling manifest");
        p.update(&u("pulling a", Some("a"), Some(100), Some(50)));
        p.update(&u("pulling b", Some("b"), Some(300), Some(0)));
        assert_eq!(p.totals(), (400, 50));
        // A layer's counter never goes back (Ollama restarts one on a retry).
        p.update(&u("pulling a", Some("a"), Some(100), Some(10)));
        assert_eq!(p.totals(), (400, 50));
        p.update(&u("pulling b", Some("b"), Some(300), Some(300)));
        assert!(p.message().contains("88%"), "{}", p.message());
    }
}
