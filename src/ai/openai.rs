//! The OpenAI-compatible backend (vLLM, LocalAI, llama.cpp's server, LM Studio, hosted APIs):
//! `/models`, `/chat/completions` and `/completions` streamed as server-sent events,
//! `/embeddings`. Such servers cannot pull models, and some accept any model name, so a name is
//! checked against the served list (cached for a minute) before it is used.

use super::context::{Window, WindowSource};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::backend::{
    Backend, BoxFuture, ChatRequest, Embeddings, Endpoint, Format, GenerateRequest, Health,
    Message, ModelDetails, ModelEntry, Options, Reply, Role, TextSink, params_label,
};
use super::{AiError, sample};
use crate::support::stream::Events;

/// How long the served model list is trusted for name checks.
const SERVED_TTL: Duration = Duration::from_secs(60);

pub struct OpenAi {
    ep: Endpoint,
    served: Mutex<Option<(Instant, Vec<String>)>>,
}

impl OpenAi {
    pub fn new(ep: Endpoint) -> Self {
        Self {
            ep,
            served: Mutex::new(None),
        }
    }

    /// llama.cpp's server says what each request gets (`/props`: the context of one slot);
    /// other servers answer 404, and then nobody knows.
    async fn slot_context(&self) -> Option<u64> {
        let props = self.ep.json(Method::GET, "root:/props", None).await.ok()?;
        props["default_generation_settings"]["n_ctx"]
            .as_u64()
            .or_else(|| props["n_ctx"].as_u64())
            .filter(|n| *n > 0)
    }

    async fn models(&self) -> Result<Vec<Value>, AiError> {
        let v = self.ep.json(Method::GET, "/models", None).await?;
        let data = v["data"]
            .as_array()
            .ok_or_else(|| self.ep.protocol("/models has no `data` list".into()))?
            .clone();
        let names = data
            .iter()
            .flat_map(|m| {
                let mut n: Vec<String> = m["id"].as_str().map(str::to_owned).into_iter().collect();
                if let Some(a) = m["aliases"].as_array() {
                    n.extend(a.iter().filter_map(|x| x.as_str().map(str::to_owned)));
                }
                n
            })
            .collect();
        *self.served.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), names));
        Ok(data)
    }

    /// Fails with [`AiError::ModelNotFound`] when the server lists its models and `model` is
    /// not among them. A server without a model list is trusted.
    async fn check_model(&self, model: &str) -> Result<(), AiError> {
        let cached = self
            .served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|(at, _)| at.elapsed() < SERVED_TTL);
        let names = match cached {
            Some((_, names)) => names,
            None => match self.models().await {
                Ok(_) => self
                    .served
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .map(|(_, n)| n)
                    .unwrap_or_default(),
                Err(AiError::Status { .. } | AiError::Protocol { .. }) => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        if names.is_empty() || names.iter().any(|n| n == model) {
            return Ok(());
        }
        Err(AiError::ModelNotFound {
            backend: self.ep.name.clone(),
            model: model.to_owned(),
            hint: format!(
                "this backend serves: {} (an OpenAI-compatible server cannot pull models)",
                sample(names.iter().map(String::as_str))
            ),
        })
    }

    fn hint(&self) -> String {
        "pick one from ai_list_models".into()
    }

    /// Streams a completion and gathers its text, usage and timings.
    async fn stream(
        &self,
        path: &str,
        mut body: Value,
        model: &str,
        chat: bool,
        sink: TextSink<'_>,
    ) -> Result<Reply, AiError> {
        self.check_model(model).await?;
        body["stream"] = json!(true);
        body["stream_options"] = json!({ "include_usage": true });
        let started = Instant::now();
        let mut resp = self
            .ep
            .send(Method::POST, path, Some(&body), true)
            .await
            .map_err(|e| e.or_not_found(model, || self.hint()))?;
        let mut events = Events::new(self.ep.item_cap());
        let mut reply = Reply::default();
        let mut first: Option<Instant> = None;
        let mut timings = Value::Null;
        let mut total = 0usize;
        let mut finished = false;
        'read: while let Some(chunk) = self.ep.chunk(&mut resp).await? {
            total += chunk.len();
            self.ep.check_size(total)?;
            let items = events
                .push(&chunk)
                .map_err(|e| self.ep.protocol(e.to_string()))?;
            for ev in items {
                if ev.data.trim() == "[DONE]" {
                    finished = true;
                    break 'read;
                }
                let v: Value = serde_json::from_str(&ev.data)
                    .map_err(|e| self.ep.protocol(format!("an event is not JSON: {e}")))?;
                if let Some(err) = v.get("error") {
                    let message = err["message"]
                        .as_str()
                        .map_or_else(|| err.to_string(), str::to_owned);
                    return Err(AiError::Status {
                        backend: self.ep.name.clone(),
                        status: err["code"].as_u64().map_or(500, |c| c as u16),
                        message,
                    });
                }
                for ch in v["choices"].as_array().into_iter().flatten() {
                    let text = if chat {
                        ch["delta"]["content"].as_str()
                    } else {
                        ch["text"].as_str()
                    };
                    if let Some(t) = text.filter(|t| !t.is_empty()) {
                        first.get_or_insert_with(Instant::now);
                        reply.content.push_str(t);
                        sink(t);
                    }
                    if let Some(r) = ch["finish_reason"].as_str() {
                        reply.done_reason = Some(r.to_owned());
                    }
                }
                if v["usage"].is_object() {
                    reply.prompt_tokens = v["usage"]["prompt_tokens"].as_u64();
                    reply.completion_tokens = v["usage"]["completion_tokens"].as_u64();
                }
                if v["timings"].is_object() {
                    timings = v["timings"].clone();
                }
            }
        }
        if !finished && reply.done_reason.is_none() {
            return Err(self
                .ep
                .protocol("the stream ended before the generation finished".into()));
        }
        let end = Instant::now();
        // llama.cpp reports its own timings; other servers are timed from here.
        reply.prompt_ms = timings["prompt_ms"]
            .as_f64()
            .or_else(|| first.map(|f| f.duration_since(started).as_secs_f64() * 1000.0));
        reply.generation_ms = timings["predicted_ms"]
            .as_f64()
            .or_else(|| first.map(|f| end.duration_since(f).as_secs_f64() * 1000.0));
        if reply.completion_tokens.is_none() {
            reply.completion_tokens = timings["predicted_n"].as_u64();
        }
        if reply.prompt_tokens.is_none() {
            reply.prompt_tokens = timings["prompt_n"].as_u64();
        }
        Ok(reply)
    }
}

fn message(m: &Message) -> Value {
    if m.images.is_empty() {
        return json!({ "role": m.role.as_str(), "content": m.content });
    }
    let mut parts = vec![json!({ "type": "text", "text": m.content })];
    for i in &m.images {
        let data = base64::engine::general_purpose::STANDARD.encode(&i.data);
        parts.push(json!({
            "type": "image_url",
            "image_url": { "url": format!("data:{};base64,{data}", i.mime) },
        }));
    }
    json!({ "role": m.role.as_str(), "content": parts })
}

fn apply(body: &mut Value, o: &Options, f: &Option<Format>) {
    if let Some(t) = o.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = o.top_p {
        body["top_p"] = json!(p);
    }
    if let Some(s) = o.seed {
        body["seed"] = json!(s);
    }
    if let Some(n) = o.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if !o.stop.is_empty() {
        body["stop"] = json!(o.stop);
    }
    match f {
        None => {}
        Some(Format::Json) => body["response_format"] = json!({ "type": "json_object" }),
        Some(Format::Schema(s)) => {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": { "name": "output", "schema": s },
            })
        }
    }
}

fn entry(m: &Value, backend: &str) -> Option<ModelEntry> {
    let meta = &m["meta"];
    Some(ModelEntry {
        name: m["id"].as_str()?.to_owned(),
        backend: backend.to_owned(),
        size_bytes: meta["size"].as_u64(),
        family: None,
        parameters: meta["n_params"].as_u64().map(params_label),
        quantization: meta["ftype"].as_str().map(str::to_owned),
        loaded: None,
        context_length: meta["n_ctx_train"].as_u64(),
        modified_at: None,
    })
}

impl Backend for OpenAi {
    fn endpoint(&self) -> &Endpoint {
        &self.ep
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, AiError>> {
        Box::pin(async move {
            let models = self.models().await?;
            Ok(Health {
                version: None,
                models: Some(models.len()),
            })
        })
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ModelEntry>, AiError>> {
        Box::pin(async move {
            let mut list: Vec<ModelEntry> = self
                .models()
                .await?
                .iter()
                .filter_map(|m| entry(m, &self.ep.name))
                .collect();
            // The trained length is not what a request gets; llama.cpp says what it does.
            let slot = self.slot_context().await;
            for e in &mut list {
                e.context_length = slot;
            }
            Ok(list)
        })
    }

    fn window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<Option<Window>, AiError>> {
        Box::pin(async move {
            if let Some(n) = self.slot_context().await {
                return Ok(Some(Window {
                    tokens: n,
                    source: WindowSource::Server,
                }));
            }
            let details = self.show(model).await?;
            Ok(details.context_length.map(|n| Window {
                tokens: n,
                source: WindowSource::Trained,
            }))
        })
    }

    fn show<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelDetails, AiError>> {
        Box::pin(async move {
            let models = self.models().await?;
            let found = models.iter().find(|m| {
                m["id"].as_str() == Some(model)
                    || m["aliases"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(model)))
            });
            let Some(m) = found else {
                return Err(AiError::ModelNotFound {
                    backend: self.ep.name.clone(),
                    model: model.to_owned(),
                    hint: format!(
                        "this backend serves: {}",
                        sample(models.iter().filter_map(|m| m["id"].as_str()))
                    ),
                });
            };
            let meta = &m["meta"];
            let mut capabilities = Vec::new();
            for (k, cap) in [("input_modalities", "image"), ("input_modalities", "audio")] {
                if m["architecture"][k]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(cap)))
                {
                    capabilities.push(if cap == "image" { "vision" } else { cap }.to_owned());
                }
            }
            Ok(ModelDetails {
                name: model.to_owned(),
                backend: self.ep.name.clone(),
                parameters: meta["n_params"].as_u64().map(params_label),
                quantization: meta["ftype"].as_str().map(str::to_owned),
                size_bytes: meta["size"].as_u64(),
                context_length: meta["n_ctx_train"].as_u64(),
                embedding_length: meta["n_embd"].as_u64(),
                capabilities,
                ..ModelDetails::default()
            })
        })
    }

    fn chat<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            let mut body = json!({
                "model": req.model,
                "messages": req.messages.iter().map(message).collect::<Vec<_>>(),
            });
            apply(&mut body, &req.options, &req.format);
            self.stream("/chat/completions", body, &req.model, true, sink)
                .await
        })
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenerateRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            if req.raw {
                if !req.images.is_empty() {
                    return Err(AiError::Invalid(
                        "images need the chat template: call without raw".into(),
                    ));
                }
                let mut body = json!({ "model": req.model, "prompt": req.prompt });
                apply(&mut body, &req.options, &req.format);
                return self
                    .stream("/completions", body, &req.model, false, sink)
                    .await;
            }
            // Without `raw`, a prompt goes through the chat template, as Ollama's generate does.
            let mut messages = Vec::new();
            if let Some(s) = &req.system {
                messages.push(message(&Message::new(Role::System, s.clone())));
            }
            let mut user = Message::new(Role::User, req.prompt.clone());
            user.images = req.images.clone();
            messages.push(message(&user));
            let mut body = json!({ "model": req.model, "messages": messages });
            apply(&mut body, &req.options, &req.format);
            self.stream("/chat/completions", body, &req.model, true, sink)
                .await
        })
    }

    fn embed<'a>(
        &'a self,
        model: &'a str,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Result<Embeddings, AiError>> {
        Box::pin(async move {
            self.check_model(model).await?;
            let v = self
                .ep
                .json(
                    Method::POST,
                    "/embeddings",
                    Some(&json!({ "model": model, "input": inputs })),
                )
                .await
                .map_err(|e| e.or_not_found(model, || self.hint()))?;
            let mut data = v["data"]
                .as_array()
                .ok_or_else(|| self.ep.protocol("/embeddings has no `data` list".into()))?
                .clone();
            data.sort_by_key(|d| d["index"].as_u64().unwrap_or(0));
            let vectors = data
                .into_iter()
                .map(|d| serde_json::from_value::<Vec<f32>>(d["embedding"].clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    self.ep
                        .protocol(format!("an embedding is not a vector: {e}"))
                })?;
            Ok(Embeddings {
                vectors,
                prompt_tokens: v["usage"]["prompt_tokens"].as_u64(),
            })
        })
    }
}
