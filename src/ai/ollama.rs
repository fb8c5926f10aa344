//! The Ollama backend: Ollama's own HTTP API (`/api/tags`, `/api/ps`, `/api/show`,
//! `/api/chat` and `/api/generate` streamed as NDJSON, `/api/embed`, `/api/pull`).

use super::context::{Window, WindowSource};
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::AiError;
use super::backend::{
    Backend, BoxFuture, ChatRequest, Embeddings, Endpoint, Format, GenerateRequest, Health,
    ModelDetails, ModelEntry, Options, PullSink, PullUpdate, Reply, TextSink,
};
use crate::support::stream::Lines;

pub struct Ollama {
    ep: Endpoint,
}

impl Ollama {
    pub fn new(ep: Endpoint) -> Self {
        Self { ep }
    }

    fn not_found_hint() -> String {
        "pull it with ai_pull_model, or pick one from ai_list_models".into()
    }

    /// Streams an NDJSON body, handing each object to `each`; an `{"error": ...}` line ends
    /// the stream with that error.
    async fn lines(
        &self,
        path: &str,
        body: &Value,
        whole: bool,
        mut each: impl FnMut(Value) -> Result<(), AiError> + Send,
    ) -> Result<(), AiError> {
        let mut resp = self.ep.send(Method::POST, path, Some(body), whole).await?;
        let mut lines = Lines::new(self.ep.item_cap());
        let mut total = 0usize;
        loop {
            let chunk = self.ep.chunk(&mut resp).await?;
            let (items, end) = match &chunk {
                Some(c) => {
                    total += c.len();
                    self.ep.check_size(total)?;
                    let items = lines.push(c).map_err(|e| self.ep.protocol(e.to_string()))?;
                    (items, false)
                }
                None => (lines.finish().into_iter().collect(), true),
            };
            for line in items {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&line)
                    .map_err(|e| self.ep.protocol(format!("a stream line is not JSON: {e}")))?;
                if let Some(msg) = v.get("error") {
                    return Err(AiError::Status {
                        backend: self.ep.name.clone(),
                        status: 500,
                        message: msg.as_str().map_or_else(|| msg.to_string(), str::to_owned),
                    });
                }
                each(v)?;
            }
            if end {
                return Ok(());
            }
        }
    }

    async fn generation(
        &self,
        path: &str,
        body: Value,
        model: &str,
        text_of: fn(&Value) -> Option<&str>,
        sink: TextSink<'_>,
    ) -> Result<Reply, AiError> {
        let mut reply = Reply::default();
        let mut done = false;
        self.lines(path, &body, true, |v| {
            if let Some(t) = text_of(&v).filter(|t| !t.is_empty()) {
                reply.content.push_str(t);
                sink(t);
            }
            if v["done"].as_bool() == Some(true) {
                done = true;
                finish(&mut reply, &v);
            }
            Ok(())
        })
        .await
        .map_err(|e| e.or_not_found(model, Self::not_found_hint))?;
        if !done {
            return Err(self
                .ep
                .protocol("the stream ended before its final (done) line".into()));
        }
        Ok(reply)
    }
}

fn options(o: &Options) -> Value {
    let mut m = Map::new();
    if let Some(t) = o.temperature {
        m.insert("temperature".into(), json!(t));
    }
    if let Some(p) = o.top_p {
        m.insert("top_p".into(), json!(p));
    }
    if let Some(s) = o.seed {
        m.insert("seed".into(), json!(s));
    }
    if let Some(n) = o.max_tokens {
        m.insert("num_predict".into(), json!(n));
    }
    if !o.stop.is_empty() {
        m.insert("stop".into(), json!(o.stop));
    }
    if let Some(n) = o.context_tokens {
        m.insert("num_ctx".into(), json!(n));
    }
    Value::Object(m)
}

fn format(f: &Option<Format>) -> Option<Value> {
    match f {
        None => None,
        Some(Format::Json) => Some(json!("json")),
        Some(Format::Schema(s)) => Some(s.clone()),
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The value of the first `model_info` key ending in `suffix` (keys are prefixed by the
/// architecture: `llama.context_length`).
fn info_u64(info: &Value, suffix: &str) -> Option<u64> {
    info.as_object()?
        .iter()
        .find(|(k, _)| k.ends_with(suffix))
        .and_then(|(_, v)| v.as_u64())
}

/// The model list of `/api/tags`, marked loaded or not from `/api/ps` when there is one.
fn entries(tags: &Value, ps: Option<&Value>, backend: &str) -> Option<Vec<ModelEntry>> {
    let running: Vec<&Value> = ps
        .and_then(|p| p["models"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let models = tags["models"].as_array()?;
    Some(
        models
            .iter()
            .filter_map(|m| {
                let name = m["name"].as_str().or(m["model"].as_str())?.to_owned();
                let d = &m["details"];
                let live = running.iter().find(|r| r["name"].as_str() == Some(&name));
                Some(ModelEntry {
                    loaded: ps.map(|_| live.is_some()),
                    backend: backend.to_owned(),
                    size_bytes: m["size"].as_u64(),
                    family: s(&d["family"]),
                    parameters: s(&d["parameter_size"]),
                    quantization: s(&d["quantization_level"]),
                    modified_at: s(&m["modified_at"]),
                    context_length: live.and_then(|r| r["context_length"].as_u64()),
                    name,
                })
            })
            .collect(),
    )
}

/// The context `/api/ps` says a loaded `model` runs with (`llama3` is `llama3:latest`).
fn loaded_context(ps: &Value, model: &str) -> Option<u64> {
    let full = if model.contains(':') {
        model.to_owned()
    } else {
        format!("{model}:latest")
    };
    ps["models"].as_array()?.iter().find(|m| {
        let n = m["name"].as_str().or(m["model"].as_str()).unwrap_or("");
        n == model || n == full
    })?["context_length"]
        .as_u64()
}

/// `/api/show`'s answer.
fn details(v: &Value, model: &str, backend: &str) -> ModelDetails {
    let d = &v["details"];
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    ModelDetails {
        name: model.to_owned(),
        backend: backend.to_owned(),
        family: s(&d["family"]),
        parameters: s(&d["parameter_size"]),
        quantization: s(&d["quantization_level"]),
        format: s(&d["format"]),
        size_bytes: None,
        context_length: info_u64(&v["model_info"], ".context_length"),
        context_source: None,
        trained_context_length: None,
        embedding_length: info_u64(&v["model_info"], ".embedding_length"),
        capabilities: v["capabilities"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        default_parameters: s(&v["parameters"]),
        template: s(&v["template"]).map(|t| t.chars().take(2000).collect()),
        modified_at: s(&v["modified_at"]),
    }
}

/// The counts and durations (nanoseconds) of a generation's final (`done`) line.
fn finish(reply: &mut Reply, v: &Value) {
    reply.done_reason = v["done_reason"].as_str().map(str::to_owned);
    reply.prompt_tokens = v["prompt_eval_count"].as_u64();
    reply.completion_tokens = v["eval_count"].as_u64();
    let ms = |k: &str| v[k].as_f64().map(|ns| ns / 1e6);
    reply.load_ms = ms("load_duration");
    reply.prompt_ms = ms("prompt_eval_duration");
    reply.generation_ms = ms("eval_duration");
}

fn text_of_chat(v: &Value) -> Option<&str> {
    v["message"]["content"].as_str()
}

fn text_of_generate(v: &Value) -> Option<&str> {
    v["response"].as_str()
}

impl Backend for Ollama {
    fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, AiError>> {
        Box::pin(async move {
            let v = self.ep.json(Method::GET, "/api/version", None).await?;
            let tags = self.ep.json(Method::GET, "/api/tags", None).await.ok();
            Ok(Health {
                version: v["version"].as_str().map(str::to_owned),
                models: tags.and_then(|t| t["models"].as_array().map(Vec::len)),
            })
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ModelEntry>, AiError>> {
        Box::pin(async move {
            let tags = self.ep.json(Method::GET, "/api/tags", None).await?;
            // What is in memory now; an older server without /api/ps just says nothing.
            let ps = self.ep.json(Method::GET, "/api/ps", None).await.ok();
            entries(&tags, ps.as_ref(), &self.ep.name)
                .ok_or_else(|| self.ep.protocol("/api/tags has no `models` list".into()))
        })
    }

    fn window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<Option<Window>, AiError>> {
        Box::pin(async move {
            // A loaded model runs with the context it was loaded with.
            if let Ok(ps) = self.ep.json(Method::GET, "/api/ps", None).await
                && let Some(n) = loaded_context(&ps, model)
            {
                return Ok(Some(Window {
                    tokens: n,
                    source: WindowSource::Server,
                }));
            }
            let v = self
                .ep
                .json(Method::POST, "/api/show", Some(&json!({ "model": model })))
                .await
                .map_err(|e| e.or_not_found(model, Self::not_found_hint))?;
            Ok(
                info_u64(&v["model_info"], ".context_length").map(|n| Window {
                    tokens: n,
                    source: WindowSource::Trained,
                }),
            )
        })
    }

    fn show<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelDetails, AiError>> {
        Box::pin(async move {
            let v = self
                .ep
                .json(Method::POST, "/api/show", Some(&json!({ "model": model })))
                .await
                .map_err(|e| e.or_not_found(model, Self::not_found_hint))?;
            Ok(details(&v, model, &self.ep.name))
        })
    }

    fn chat<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            let messages: Vec<Value> = req
                .messages
                .iter()
                .map(|m| {
                    let mut o = json!({ "role": m.role.as_str(), "content": m.content });
                    if !m.images.is_empty() {
                        o["images"] = m.images.iter().map(|i| json!(b64(&i.data))).collect();
                    }
                    o
                })
                .collect();
            let mut body = json!({
                "model": req.model,
                "messages": messages,
                "stream": true,
                "options": options(&req.options),
            });
            if let Some(f) = format(&req.format) {
                body["format"] = f;
            }
            self.generation("/api/chat", body, &req.model, text_of_chat, sink)
                .await
        })
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenerateRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            let mut body = json!({
                "model": req.model,
                "prompt": req.prompt,
                "stream": true,
                "raw": req.raw,
                "options": options(&req.options),
            });
            if let Some(s) = &req.system {
                body["system"] = json!(s);
            }
            if !req.images.is_empty() {
                body["images"] = req.images.iter().map(|i| json!(b64(&i.data))).collect();
            }
            if let Some(f) = format(&req.format) {
                body["format"] = f;
            }
            self.generation("/api/generate", body, &req.model, text_of_generate, sink)
                .await
        })
    }

    fn embed<'a>(
        &'a self,
        model: &'a str,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Result<Embeddings, AiError>> {
        Box::pin(async move {
            let v = self
                .ep
                .json(
                    Method::POST,
                    "/api/embed",
                    Some(&json!({ "model": model, "input": inputs })),
                )
                .await
                .map_err(|e| e.or_not_found(model, Self::not_found_hint))?;
            let vectors: Vec<Vec<f32>> =
                serde_json::from_value(v["embeddings"].clone()).map_err(|e| {
                    self.ep
                        .protocol(format!("`embeddings` is not a list of vectors: {e}"))
                })?;
            Ok(Embeddings {
                vectors,
                prompt_tokens: v["prompt_eval_count"].as_u64(),
            })
        })
    }

    fn pull<'a>(
        &'a self,
        model: &'a str,
        sink: PullSink<'a>,
    ) -> BoxFuture<'a, Result<(), AiError>> {
        Box::pin(async move {
            let mut success = false;
            self.lines(
                "/api/pull",
                &json!({ "model": model, "stream": true }),
                false,
                |v| {
                    let status = v["status"].as_str().unwrap_or_default().to_owned();
                    success |= status == "success";
                    sink(PullUpdate {
                        status,
                        digest: v["digest"].as_str().map(str::to_owned),
                        total: v["total"].as_u64(),
                        completed: v["completed"].as_u64(),
                    });
                    Ok(())
                },
            )
            .await
            .map_err(|e| match e {
                AiError::Status { message, .. }
                    if message.contains("file does not exist") || message.contains("not found") =>
                {
                    AiError::ModelNotFound {
                        backend: self.ep.name.clone(),
                        model: model.to_owned(),
                        hint: format!(
                            "the registry has no such model ({message}); check the name and tag (e.g. `llama3.2:3b`)"
                        ),
                    }
                }
                other => other,
            })?;
            if !success {
                return Err(self
                    .ep
                    .protocol("the pull ended without reporting success".into()));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    //! Ollama's answers as its API documentation shows them, so the client is held to the real
    //! server's shapes and not only to the test engine's translation of them.
    use super::*;

    #[test]
    fn tags_and_ps_as_documented() {
        let tags = json!({"models": [{
            "name": "deepseek-r1:latest", "model": "deepseek-r1:latest",
            "modified_at": "2025-05-10T08:06:48.639712648-07:00", "size": 4683075271u64,
            "digest": "0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163",
            "details": {"parent_model": "", "format": "gguf", "family": "qwen2",
                        "families": ["qwen2"], "parameter_size": "7.6B",
                        "quantization_level": "Q4_K_M"}
        }, {
            "name": "mistral:latest", "model": "mistral:latest", "size": 4109865159u64,
            "details": {"family": "llama", "parameter_size": "7.2B", "quantization_level": "Q4_0"}
        }]});
        let ps = json!({"models": [{
            "name": "mistral:latest", "model": "mistral:latest", "size": 5137025024u64,
            "digest": "2ae6f6dd7a3dd734790bbbf58b8909a606e0e7e97e94b7604e0aa7ae4490e6d8",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "7.2B",
                        "quantization_level": "Q4_0"},
            "expires_at": "2024-06-04T14:38:31.83753-07:00", "size_vram": 5137025024u64,
            "context_length": 4096
        }]});
        let e = entries(&tags, Some(&ps), "ollama").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "deepseek-r1:latest");
        assert_eq!(e[0].parameters.as_deref(), Some("7.6B"));
        assert_eq!(e[0].quantization.as_deref(), Some("Q4_K_M"));
        assert_eq!(e[0].family.as_deref(), Some("qwen2"));
        assert_eq!(e[0].size_bytes, Some(4683075271));
        assert_eq!(e[0].loaded, Some(false));
        assert_eq!(e[1].loaded, Some(true));
        assert_eq!(e[1].context_length, Some(4096));
        // Without /api/ps nothing is claimed about memory.
        assert_eq!(entries(&tags, None, "ollama").unwrap()[1].loaded, None);
        assert!(entries(&json!({}), None, "ollama").is_none());
    }

    #[test]
    fn show_as_documented() {
        let v = json!({
            "modelfile": "# Modelfile generated by \"ollama show\"",
            "parameters": "num_keep 24\nstop \"<|start_header_id|>\"",
            "template": "{{ if .System }}<|start_header_id|>system<|end_header_id|>",
            "details": {"parent_model": "", "format": "gguf", "family": "llama",
                        "families": ["llama"], "parameter_size": "8.0B",
                        "quantization_level": "Q4_0"},
            "model_info": {"general.architecture": "llama", "general.parameter_count": 8030261248u64,
                           "llama.context_length": 8192, "llama.embedding_length": 4096},
            "capabilities": ["completion", "vision"]
        });
        let d = details(&v, "llava", "ollama");
        assert_eq!(d.context_length, Some(8192));
        assert_eq!(d.embedding_length, Some(4096));
        assert_eq!(d.capabilities, ["completion", "vision"]);
        assert_eq!(d.parameters.as_deref(), Some("8.0B"));
        assert!(d.default_parameters.unwrap().contains("num_keep"));
    }

    #[test]
    fn a_final_chat_line_as_documented() {
        let v = json!({
            "model": "llama3.2", "created_at": "2023-08-04T19:22:45.499127Z",
            "message": {"role": "assistant", "content": ""},
            "done": true, "done_reason": "stop", "total_duration": 4883583458u64,
            "load_duration": 1334875, "prompt_eval_count": 26,
            "prompt_eval_duration": 342546000, "eval_count": 282, "eval_duration": 4535599000u64
        });
        let mut r = Reply::default();
        finish(&mut r, &v);
        assert_eq!(r.prompt_tokens, Some(26));
        assert_eq!(r.completion_tokens, Some(282));
        assert_eq!(r.generation_ms.map(|m| m.round()), Some(4536.0));
        assert_eq!(r.done_reason.as_deref(), Some("stop"));
        assert_eq!(
            text_of_chat(
                &json!({"message": {"role": "assistant", "content": "The"}, "done": false})
            ),
            Some("The")
        );
        assert_eq!(
            text_of_generate(&json!({"response": "The", "done": false})),
            Some("The")
        );
    }
}
