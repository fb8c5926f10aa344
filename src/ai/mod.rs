//! Local inference: the configured backends behind one trait ([`backend::Backend`]), model names
//! resolved to a backend (`model` or `backend/model`), health checked lazily and cached, and
//! errors worded so a model can act on them. The HTTP client here talks only to the configured
//! base URLs; it is deliberately not the web tools' SSRF-guarded client, because a local
//! inference server is exactly the private address that guard refuses.

pub mod agent;
pub mod backend;
pub mod context;
pub mod guard;
pub mod ollama;
pub mod openai;
pub mod summarize;

use std::time::Instant;

use serde::Serialize;

use crate::config::{AiSettings, BackendKind, BackendSettings};
use backend::{Backend, ModelEntry, Seen};

/// A failure talking to a backend, worded for the model: what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error("{}", unreachable_message(backend, *kind, url, detail))]
    Unreachable {
        backend: String,
        kind: BackendKind,
        url: String,
        detail: String,
    },
    #[error("model `{model}` not found on backend `{backend}`; {hint}")]
    ModelNotFound {
        backend: String,
        model: String,
        hint: String,
    },
    #[error(
        "no model given and backend `{backend}` has no default_model; pass `model` (ai_list_models shows them: {available}) or set ai.backends.{backend}.default_model"
    )]
    NoModel { backend: String, available: String },
    #[error("no backend `{name}`; configured: {configured}")]
    UnknownBackend { name: String, configured: String },
    #[error(
        "backend `{backend}` did not answer within {secs} s (ai.backends.{backend}.timeout_secs); ask for less (a lower max_tokens, fewer texts) or raise the limit"
    )]
    Timeout { backend: String, secs: u64 },
    #[error(
        "the answer from backend `{backend}` is larger than {limit} bytes (ai.max_response_bytes); ask for less (a lower max_tokens, fewer texts) or raise the limit"
    )]
    TooLarge { backend: String, limit: u64 },
    #[error("backend `{backend}` ({kind}) cannot {what}")]
    Unsupported {
        backend: String,
        kind: &'static str,
        what: String,
    },
    #[error("{}", status_message(backend, *status, message))]
    Status {
        backend: String,
        status: u16,
        message: String,
    },
    #[error("backend `{backend}` sent an answer switchboard cannot read: {detail}")]
    Protocol { backend: String, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "`{model}` is not a model name: {why}. ai_list_models shows the names the backends offer"
    )]
    BadModelName { model: String, why: &'static str },
    #[error(
        "the text to send is {bytes} bytes, over the {cap} a request may carry (ai.max_prompt_bytes); send less (a part of the file, a summary) or ask the user to raise the limit"
    )]
    PromptTooLarge { bytes: usize, cap: usize },
}

impl AiError {
    /// The stable reason code (`error::reason`).
    pub fn code(&self) -> &'static str {
        use crate::error::reason;
        match self {
            Self::BadModelName { .. } | Self::ModelNotFound { .. } | Self::NoModel { .. } => {
                reason::MODEL_NAME_INVALID
            }
            Self::PromptTooLarge { .. } => reason::PROMPT_TOO_LARGE,
            Self::Timeout { .. } => reason::TIMEOUT,
            Self::TooLarge { .. } => reason::RESPONSE_TOO_LARGE,
            Self::Unreachable { .. } | Self::Status { .. } | Self::Protocol { .. } => {
                reason::UPSTREAM_FAILED
            }
            Self::UnknownBackend { .. } | Self::Unsupported { .. } | Self::Invalid(_) => {
                reason::INVALID
            }
        }
    }
}

fn unreachable_message(backend: &str, kind: BackendKind, url: &str, detail: &str) -> String {
    match kind {
        BackendKind::Ollama => format!(
            "Ollama is not reachable at {url} — is `ollama serve` running? ({detail}). Start it, or point ai.backends.{backend}.base_url (or OLLAMA_HOST) at it."
        ),
        BackendKind::OpenAi => format!(
            "backend `{backend}` (OpenAI-compatible) is not reachable at {url} — is its server running? ({detail}). Start it, or fix ai.backends.{backend}.base_url."
        ),
    }
}

fn status_message(backend: &str, status: u16, message: &str) -> String {
    match status {
        401 | 403 => format!(
            "backend `{backend}` refused the credentials ({status}: {message}); check ai.backends.{backend}.api_key"
        ),
        429 => format!("backend `{backend}` is rate-limiting ({message}); wait and call again"),
        _ => format!("backend `{backend}` answered {status}: {message}"),
    }
}

impl AiError {
    /// The backend's own "no such model" answers, turned into [`AiError::ModelNotFound`].
    pub fn or_not_found(self, model: &str, hint: impl FnOnce() -> String) -> Self {
        match &self {
            AiError::Status {
                backend,
                status,
                message,
            } if *status == 404
                || (*status == 400 && message.to_ascii_lowercase().contains("not found"))
                || message.contains("model_not_found")
                || message.to_ascii_lowercase().contains("does not exist") =>
            {
                AiError::ModelNotFound {
                    backend: backend.clone(),
                    model: model.to_owned(),
                    hint: hint(),
                }
            }
            _ => self,
        }
    }
}

/// Every configured backend, built once (the HTTP client's TLS set-up stays off start-up).
pub struct Ai {
    pub settings: AiSettings,
    backends: Vec<(BackendSettings, Box<dyn Backend>)>,
}

/// One backend's health, as `ai_health` and `switchboard doctor` report it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    pub backend: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub base_url: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Why it is not healthy, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the check took; absent when the result came from the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Seconds since this result was checked (0 when checked now).
    pub age_secs: u64,
}

/// The model a call names, resolved.
pub struct Target<'a> {
    pub backend: &'a dyn Backend,
    pub settings: &'a BackendSettings,
    pub model: String,
}

/// The context Ollama loads a model with unless told otherwise.
pub const OLLAMA_DEFAULT_CONTEXT: u64 = 4096;

impl Target<'_> {
    /// The context a request to this model gets, and where the number comes from:
    /// `ai.context_tokens` when set; the server's own when it says (a loaded Ollama model, a
    /// llama.cpp slot); for a model Ollama has not loaded, the smaller of its trained length
    /// and Ollama's default (requests then pass it as `num_ctx`, so it is loaded with exactly
    /// that); else the trained length; else Ollama's default, assumed.
    pub async fn window(&self, settings: &AiSettings) -> context::Window {
        use context::{Window, WindowSource};
        if settings.context_tokens > 0 {
            return Window {
                tokens: settings.context_tokens,
                source: WindowSource::Config,
            };
        }
        let said = self.backend.window(&self.model).await.ok().flatten();
        match (said, self.settings.kind) {
            (Some(w), _) if w.source == WindowSource::Server => w,
            (Some(w), BackendKind::Ollama) => Window {
                tokens: w.tokens.min(OLLAMA_DEFAULT_CONTEXT),
                source: WindowSource::Config,
            },
            (Some(w), _) => w,
            (None, _) => Window {
                tokens: OLLAMA_DEFAULT_CONTEXT,
                source: WindowSource::Config,
            },
        }
    }

    /// The name to show: `model`, prefixed by its backend unless that is the default one.
    pub fn display(&self, default_backend: &str) -> String {
        qualified(&self.settings.name, &self.model, default_backend)
    }
}

pub fn qualified(backend: &str, model: &str, default_backend: &str) -> String {
    if backend == default_backend {
        model.to_owned()
    } else {
        format!("{backend}/{model}")
    }
}

impl Ai {
    pub fn new(settings: &AiSettings) -> Result<Self, AiError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            // Only the configured base URLs: a redirect elsewhere is an error, never followed,
            // and environment proxies are not used (a local server must be reached directly).
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            // Below the 5 s keep-alive of llama.cpp's and uvicorn's servers, so a pooled
            // connection is rarely one the server is closing (`send` retries when it is).
            .pool_idle_timeout(std::time::Duration::from_secs(3))
            .connect_timeout(settings.connect_timeout)
            .read_timeout(
                settings
                    .backends
                    .iter()
                    .map(|b| b.timeout)
                    .max()
                    .unwrap_or(std::time::Duration::from_secs(300)),
            )
            .build()
            .map_err(|e| AiError::Invalid(format!("the AI HTTP client could not be built: {e}")))?;
        let caps = guard::Caps {
            max_prompt_bytes: settings.max_prompt_bytes,
            max_tokens: settings.max_tokens,
            list_ttl: settings.health_ttl,
        };
        let backends = settings
            .backends
            .iter()
            .map(|s| {
                let endpoint =
                    backend::Endpoint::new(s, client.clone(), settings.max_response_bytes);
                let b: Box<dyn Backend> = match s.kind {
                    BackendKind::Ollama => Box::new(ollama::Ollama::new(endpoint)),
                    BackendKind::OpenAi => Box::new(openai::OpenAi::new(endpoint)),
                };
                let guarded: Box<dyn Backend> = Box::new(guard::Guarded::new(b, caps));
                (s.clone(), guarded)
            })
            .collect();
        Ok(Self {
            settings: settings.clone(),
            backends,
        })
    }

    pub fn backends(&self) -> impl Iterator<Item = (&BackendSettings, &dyn Backend)> {
        self.backends.iter().map(|(s, b)| (s, b.as_ref()))
    }

    pub fn backend(&self, name: &str) -> Result<(&BackendSettings, &dyn Backend), AiError> {
        self.backends()
            .find(|(s, _)| s.name == name)
            .ok_or_else(|| AiError::UnknownBackend {
                name: name.to_owned(),
                configured: self
                    .backends
                    .iter()
                    .map(|(s, _)| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// `backend/model` when the prefix names a backend, else `model` on the default backend
    /// (Ollama names may contain `/` themselves). No model: the backend's `default_model`, or
    /// its only model.
    pub async fn resolve(&self, model: Option<&str>) -> Result<Target<'_>, AiError> {
        let model = model.map(str::trim).filter(|m| !m.is_empty());
        let (name, rest) = match model.and_then(|m| m.split_once('/')) {
            Some((prefix, rest)) if self.backends().any(|(s, _)| s.name == prefix) => {
                (prefix, Some(rest).filter(|r| !r.is_empty()))
            }
            _ => (self.settings.default_backend.as_str(), model),
        };
        let (settings, backend) = self.backend(name)?;
        let model = match rest.map(str::to_owned).or(settings.default_model.clone()) {
            Some(m) => m,
            None => {
                let models = backend.list().await?;
                match models.as_slice() {
                    [only] => only.name.clone(),
                    _ => {
                        return Err(AiError::NoModel {
                            backend: name.to_owned(),
                            available: sample(models.iter().map(|m| m.name.as_str())),
                        });
                    }
                }
            }
        };
        Ok(Target {
            backend,
            settings,
            model,
        })
    }

    /// The models of every backend (or one), with each unreachable backend's error.
    pub async fn list_models(
        &self,
        only: Option<&str>,
    ) -> Result<(Vec<ModelEntry>, Vec<String>), AiError> {
        if let Some(name) = only {
            self.backend(name)?;
        }
        let chosen: Vec<_> = self
            .backends()
            .filter(|(s, _)| only.is_none_or(|n| n == s.name))
            .collect();
        let results = futures_util::future::join_all(chosen.iter().map(|(_, b)| b.list())).await;
        let mut models = Vec::new();
        let mut errors = Vec::new();
        for ((s, _), r) in chosen.iter().zip(results) {
            match r {
                Ok(list) => models.extend(list.into_iter().map(|mut m| {
                    m.name = qualified(&s.name, &m.name, &self.settings.default_backend);
                    m
                })),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Ok((models, errors))
    }

    /// A backend's health: the last result when younger than `ai.health_ttl_secs` (requests
    /// made by other calls count), else a fresh check.
    pub async fn health(&self, name: &str, refresh: bool) -> Result<HealthReport, AiError> {
        let (s, b) = self.backend(name)?;
        let mut report = HealthReport {
            backend: s.name.clone(),
            kind: s.kind.as_str().to_owned(),
            base_url: s.base_url.clone(),
            ok: false,
            version: None,
            models: None,
            default_model: s.default_model.clone(),
            error: None,
            latency_ms: None,
            age_secs: 0,
        };
        if !refresh {
            let seen = b
                .endpoint()
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            match seen {
                Some(Seen::Down(at, detail)) if at.elapsed() < self.settings.health_ttl => {
                    report.error = Some(
                        AiError::Unreachable {
                            backend: s.name.clone(),
                            kind: s.kind,
                            url: s.base_url.clone(),
                            detail,
                        }
                        .to_string(),
                    );
                    report.age_secs = at.elapsed().as_secs();
                    return Ok(report);
                }
                Some(Seen::Up(at)) if at.elapsed() < self.settings.health_ttl => {
                    if let Some(cached) = b.endpoint().cached_health() {
                        report.ok = true;
                        report.version = cached.version;
                        report.models = cached.models;
                        report.age_secs = at.elapsed().as_secs();
                        return Ok(report);
                    }
                }
                _ => {}
            }
        }
        let started = Instant::now();
        let result = b.health().await;
        report.latency_ms = Some(started.elapsed().as_millis() as u64);
        match result {
            Ok(h) => {
                report.ok = true;
                report.version = h.version.clone();
                report.models = h.models;
                b.endpoint().remember_health(h);
            }
            Err(e) => report.error = Some(e.to_string()),
        }
        Ok(report)
    }
}

/// Up to ten names, for an error message.
pub fn sample<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = names.collect();
    if all.is_empty() {
        return "none".into();
    }
    let mut s = all.iter().take(10).copied().collect::<Vec<_>>().join(", ");
    if all.len() > 10 {
        s.push_str(&format!(" and {} more", all.len() - 10));
    }
    s
}
