//! AI tools: local inference through the configured backends (`crate::ai`). This file is the
//! registry, plus what the generation tools share: sampling options, images read through the
//! file policy, streaming partial text as progress notifications, cancellation that stops the
//! generation upstream, and the result every generation reports.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Ai);
    ai_agent => ai_agent_router,
    ai_chat => ai_chat_router,
    ai_embed => ai_embed_router,
    ai_generate => ai_generate_router,
    ai_health => ai_health_router,
    ai_list_models => ai_list_models_router,
    ai_model_info => ai_model_info_router,
    ai_pull_model => ai_pull_model_router,
}

use std::io::Read;
use std::time::{Duration, Instant};

use rmcp::RoleServer;
use rmcp::service::RequestContext;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::ai::backend::{Format, Image, Options, Reply};
use crate::ai::{AiError, Target};
use crate::policy::FileScope;
use crate::support::{mime, text};
use crate::tools::ToolError;

impl From<AiError> for ToolError {
    fn from(e: AiError) -> Self {
        ToolError::refused(e.code(), e.to_string())
    }
}

/// Least time between two progress notifications carrying partial text.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// The sampling options as the tools take them.
pub(crate) fn options(
    temperature: Option<f64>,
    top_p: Option<f64>,
    seed: Option<i64>,
    max_tokens: Option<u32>,
    stop: Vec<String>,
) -> Result<Options, ToolError> {
    if let Some(t) = temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(ToolError::invalid(format!(
            "temperature {t} is out of range: use 0 (deterministic) to 2"
        )));
    }
    if let Some(p) = top_p.filter(|p| !(0.0..=1.0).contains(p)) {
        return Err(ToolError::invalid(format!(
            "top_p {p} is out of range: use 0 to 1"
        )));
    }
    if max_tokens == Some(0) {
        return Err(ToolError::invalid(
            "max_tokens must be at least 1 (leave it out for the model's default)",
        ));
    }
    Ok(Options {
        temperature,
        top_p,
        seed,
        max_tokens,
        stop,
        context_tokens: None,
    })
}

/// The input schema of `format`: the string "json" or a schema object.
pub(crate) fn format_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "\"json\" for any JSON object, or a JSON schema object the reply must match (the parsed reply comes back as `json`)",
        "anyOf": [
            {"type": "string", "enum": ["json"]},
            {"type": "object", "additionalProperties": true}
        ]
    })
}

/// `"json"` or a JSON schema object.
pub(crate) fn format(v: Option<Value>) -> Result<Option<Format>, ToolError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s == "json" => Ok(Some(Format::Json)),
        Some(Value::Object(o)) => Ok(Some(Format::Schema(Value::Object(o)))),
        Some(other) => Err(ToolError::invalid(format!(
            "format must be \"json\" or a JSON schema object, not {other}"
        ))),
    }
}

/// Reads image files for a vision model, through the file policy, each under
/// `files.max_media_bytes`.
pub(crate) fn load_images(scope: &FileScope, paths: &[String]) -> Result<Vec<Image>, ToolError> {
    let mut out = Vec::new();
    for input in paths {
        let resolved = scope.existing(input)?;
        let file = scope.open_read(&resolved.path, input)?;
        let limit = scope.files.max_media_bytes;
        let mut data = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut data)
            .map_err(|e| ToolError::io(input, e))?;
        if data.len() as u64 > limit {
            return Err(ToolError::invalid(format!(
                "image `{input}` is over the {} limit (files.max_media_bytes); send a smaller image",
                text::human_bytes(limit)
            )));
        }
        let mime = mime::detect(&resolved.path, &data, false);
        if !mime.starts_with("image/") {
            return Err(ToolError::invalid(format!(
                "`{input}` is {mime}, not an image; images must be PNG, JPEG, GIF or WebP files"
            )));
        }
        out.push(Image { mime, data });
    }
    Ok(out)
}

/// Sends partial text as progress notifications when the call carries a progress token,
/// batched at most every 50 ms so a fast model does not flood the host.
pub(crate) struct Streamer {
    tx: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    done: tokio_util::sync::CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Streamer {
    pub fn new(ctx: &RequestContext<RoleServer>, total: Option<f64>) -> Self {
        let done = tokio_util::sync::CancellationToken::new();
        let Some(reporter) = crate::mcp::progress::CallProgress::of(ctx) else {
            return Self {
                tx: None,
                done,
                task: None,
            };
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let finished = done.clone();
        let task = tokio::spawn(async move {
            let mut pieces = 0u64;
            let mut closing = false;
            while !closing {
                let mut text = String::new();
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => {
                            text.push_str(&m);
                            pieces += 1;
                        }
                        None => closing = true,
                    },
                    _ = finished.cancelled() => closing = true,
                }
                if !closing {
                    // Let more text gather for one window, unless the generation ends first.
                    tokio::select! {
                        _ = tokio::time::sleep(PROGRESS_EVERY) => {}
                        _ = finished.cancelled() => closing = true,
                    }
                }
                while let Ok(m) = rx.try_recv() {
                    text.push_str(&m);
                    pieces += 1;
                }
                if text.is_empty() {
                    continue;
                }
                if !reporter.report(pieces as f64, total, Some(text)).await {
                    break;
                }
            }
        });
        Self {
            tx: Some(tx),
            done,
            task: Some(task),
        }
    }

    /// Where generated text goes (nowhere without a progress token).
    pub fn sink(&self) -> impl FnMut(&str) + Send + 'static {
        let tx = self.tx.clone();
        move |t: &str| {
            if let Some(tx) = &tx {
                let _ = tx.send(t.to_owned());
            }
        }
    }

    /// A one-off status line (the agent's steps).
    pub fn say(&self, text: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(format!("{text}\n"));
        }
    }

    /// Sends what is still buffered and stops (sinks still held send nowhere after this).
    pub async fn finish(mut self) {
        self.done.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// Runs `fut` unless the call is cancelled first; dropping it closes the backend connection,
/// which stops the generation there.
pub(crate) async fn cancellable<T>(
    ctx: &RequestContext<RoleServer>,
    fut: impl std::future::Future<Output = Result<T, AiError>>,
) -> Result<T, ToolError> {
    tokio::select! {
        r = fut => r.map_err(ToolError::from),
        _ = ctx.ct.cancelled() => Err(ToolError::invalid("cancelled; the backend was told to stop")),
    }
}

/// What every generation reports.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GenerationOutput {
    /// The model, as it can be named again (`backend/model` off the default backend).
    pub model: String,
    pub backend: String,
    /// The generated text.
    pub content: String,
    /// The text parsed, when `format` asked for JSON and the text is a JSON object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Map<String, Value>>,
    /// Why it stopped: `stop` (finished), `length` (hit max_tokens), ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// Wall time of the call, in milliseconds.
    pub total_ms: u64,
    /// Time spent loading the model, when the backend says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<u64>,
    /// Time spent reading the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_ms: Option<u64>,
    /// Time spent writing the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
}

pub(crate) fn generation_output(
    target: &Target<'_>,
    default_backend: &str,
    reply: Reply,
    json_wanted: bool,
    started: Instant,
) -> GenerationOutput {
    let json = json_wanted
        .then(|| serde_json::from_str::<serde_json::Map<String, Value>>(reply.content.trim()).ok())
        .flatten();
    let tokens_per_second = match (reply.completion_tokens, reply.generation_ms) {
        (Some(n), Some(ms)) if ms > 0.0 && n > 0 => {
            Some((n as f64 * 1000.0 / ms * 10.0).round() / 10.0)
        }
        _ => None,
    };
    GenerationOutput {
        model: target.display(default_backend),
        backend: target.settings.name.clone(),
        content: reply.content,
        json,
        done_reason: reply.done_reason,
        prompt_tokens: reply.prompt_tokens,
        completion_tokens: reply.completion_tokens,
        total_ms: started.elapsed().as_millis() as u64,
        load_ms: reply.load_ms.map(|m| m.round() as u64),
        prompt_ms: reply.prompt_ms.map(|m| m.round() as u64),
        generation_ms: reply.generation_ms.map(|m| m.round() as u64),
        tokens_per_second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn format_is_json_or_a_schema() {
        assert!(matches!(
            format(Some(json!("json"))),
            Ok(Some(Format::Json))
        ));
        assert!(matches!(
            format(Some(json!({"type": "object"}))),
            Ok(Some(Format::Schema(_)))
        ));
        assert!(format(Some(json!("yaml"))).is_err());
        assert!(format(None).unwrap().is_none());
    }

    #[test]
    fn sampling_options_out_of_range_are_refused() {
        assert!(options(Some(3.0), None, None, None, vec![]).is_err());
        assert!(options(None, Some(1.5), None, None, vec![]).is_err());
        assert!(options(None, None, None, Some(0), vec![]).is_err());
        assert!(options(Some(0.0), Some(0.9), Some(1), Some(5), vec![]).is_ok());
    }
}
