//! The `ai` section validated: each backend's type, base URL, secret and headers, the default
//! backend, and the limits of the AI tools. Built once at start-up like the rest of the config.

use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use super::raw::RawAi;
use super::{ConfigError, nonzero};

/// Where Ollama listens when neither the config nor `OLLAMA_HOST` says.
pub const OLLAMA_DEFAULT: &str = "http://127.0.0.1:11434";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Ollama,
    OpenAi,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Ollama => "ollama",
            BackendKind::OpenAi => "openai",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BackendSettings {
    pub name: String,
    pub kind: BackendKind,
    /// No trailing slash; paths are appended to it.
    pub base_url: String,
    pub default_model: Option<String>,
    pub timeout: Duration,
    /// `Authorization` (from `api_key`) and the configured headers; secret values are marked
    /// sensitive so they never appear in debug output.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub allow: Vec<String>,
    pub max_steps: usize,
    pub max_steps_limit: usize,
    pub max_tool_result_chars: usize,
    pub max_tokens_per_step: u32,
}

#[derive(Debug, Clone)]
pub struct AiSettings {
    /// In name order.
    pub backends: Vec<BackendSettings>,
    pub default_backend: String,
    pub connect_timeout: Duration,
    pub max_response_bytes: u64,
    pub health_ttl: Duration,
    pub max_embed_inputs: usize,
    pub summary_max_input_chars: usize,
    pub summary_max_tokens: u32,
    /// `ai.max_prompt_bytes`: the most text one request sends.
    pub max_prompt_bytes: usize,
    /// `ai.max_tokens`: the most tokens one request generates.
    pub max_tokens: u32,
    /// `ai.context_tokens`: the context to assume for every model (0: ask the server).
    pub context_tokens: u64,
    pub agent: AgentSettings,
}

/// Ollama's own reading of `OLLAMA_HOST`: a scheme is optional (http), the port defaults to
/// 11434, and a listen-everywhere address means this machine.
pub fn ollama_host(value: &str) -> Result<String, String> {
    let v = value.trim().trim_end_matches('/');
    if v.is_empty() {
        return Ok(OLLAMA_DEFAULT.to_owned());
    }
    let (scheme, rest) = match v.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_owned(), v),
    };
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{value}` is not an http(s) address"));
    }
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let has_port = if hostport.starts_with('[') {
        hostport.contains("]:")
    } else {
        hostport.contains(':')
    };
    let default_port = if scheme == "https" { 443 } else { 11434 };
    let hostport = if hostport.is_empty() {
        format!("127.0.0.1:{default_port}")
    } else if has_port {
        hostport.to_owned()
    } else {
        format!("{hostport}:{default_port}")
    };
    let hostport = hostport
        .replace("0.0.0.0:", "127.0.0.1:")
        .replace("[::]:", "[::1]:");
    let url = format!("{scheme}://{hostport}{path}");
    url::Url::parse(&url).map_err(|e| format!("`{value}` is not an address: {e}"))?;
    Ok(url)
}

pub(super) fn ai_settings(
    a: &RawAi,
    redacted: &Value,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<AiSettings, ConfigError> {
    let err = |key: String, msg: String| ConfigError::new(file, key, msg);
    nonzero(
        file,
        &[
            ("ai.connect_timeout_secs", a.connect_timeout_secs),
            ("ai.max_response_bytes", a.max_response_bytes),
            ("ai.health_ttl_secs", a.health_ttl_secs),
            ("ai.max_embed_inputs", a.max_embed_inputs as u64),
            (
                "ai.summary_max_input_chars",
                a.summary_max_input_chars as u64,
            ),
            ("ai.summary_max_tokens", u64::from(a.summary_max_tokens)),
            ("ai.max_prompt_bytes", a.max_prompt_bytes as u64),
            ("ai.max_tokens", u64::from(a.max_tokens)),
            ("ai.agent.max_steps", a.agent.max_steps as u64),
            ("ai.agent.max_steps_limit", a.agent.max_steps_limit as u64),
            (
                "ai.agent.max_tool_result_chars",
                a.agent.max_tool_result_chars as u64,
            ),
            (
                "ai.agent.max_tokens_per_step",
                u64::from(a.agent.max_tokens_per_step),
            ),
        ],
    )?;
    if a.agent.max_steps > a.agent.max_steps_limit {
        return Err(err(
            "ai.agent.max_steps".into(),
            format!(
                "must not be above ai.agent.max_steps_limit ({})",
                a.agent.max_steps_limit
            ),
        ));
    }
    let ollama_env = || {
        env("OLLAMA_HOST")
            .map(|h| ollama_host(&h))
            .transpose()
            .map_err(|m| {
                err(
                    "ai.backends".into(),
                    format!("$OLLAMA_HOST {m}; fix it or set base_url"),
                )
            })
            .map(|h| h.unwrap_or_else(|| OLLAMA_DEFAULT.to_owned()))
    };

    let mut backends = Vec::new();
    if a.backends.is_empty() {
        backends.push(BackendSettings {
            name: "ollama".into(),
            kind: BackendKind::Ollama,
            base_url: ollama_env()?,
            default_model: None,
            timeout: DEFAULT_TIMEOUT,
            headers: Vec::new(),
        });
    }
    for (name, b) in &a.backends {
        let key = |k: &str| format!("ai.backends.{name}.{k}");
        let name_ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !name_ok {
            return Err(err(
                format!("ai.backends.{name}"),
                "a backend name is 1 to 32 letters, digits, `_` or `-` (it prefixes model names: name/model)".into(),
            ));
        }
        let kind = match b.kind.as_str() {
            "ollama" => BackendKind::Ollama,
            "openai" => BackendKind::OpenAi,
            other => {
                return Err(err(
                    key("type"),
                    format!("`{other}` is not a backend type: use ollama or openai"),
                ));
            }
        };
        let base_url = match (&b.base_url, kind) {
            (Some(u), _) => {
                let parsed = url::Url::parse(u.trim())
                    .ok()
                    .filter(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.host_str().is_some()
                            && u.query().is_none()
                    })
                    .ok_or_else(|| {
                        err(
                            key("base_url"),
                            format!("`{u}` is not an http(s) URL without a query"),
                        )
                    })?;
                parsed.as_str().trim_end_matches('/').to_owned()
            }
            (None, BackendKind::Ollama) => ollama_env()?,
            (None, BackendKind::OpenAi) => {
                return Err(err(
                    key("base_url"),
                    "an openai backend needs its base URL, e.g. http://127.0.0.1:8080/v1".into(),
                ));
            }
        };
        let timeout = match b.timeout_secs {
            Some(0) => return Err(err(key("timeout_secs"), "must be greater than 0".into())),
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_TIMEOUT,
        };
        let mut headers = Vec::new();
        if let Some(secret) = &b.api_key {
            if !super::written_as_env(redacted, &["ai", "backends", name, "api_key"]) {
                return Err(err(
                    key("api_key"),
                    "write the key as env:VAR (the variable holding it), never literally".into(),
                ));
            }
            let mut v =
                HeaderValue::from_str(&format!("Bearer {}", secret.trim())).map_err(|_| {
                    err(
                        key("api_key"),
                        "the key has characters a header cannot carry".into(),
                    )
                })?;
            v.set_sensitive(true);
            headers.push((reqwest::header::AUTHORIZATION, v));
        }
        for (h, value) in &b.headers {
            let hk = format!("ai.backends.{name}.headers.{h}");
            let n = HeaderName::from_bytes(h.as_bytes())
                .map_err(|_| err(hk.clone(), format!("`{h}` is not a header name")))?;
            let mut v = HeaderValue::from_str(value).map_err(|_| {
                err(
                    hk.clone(),
                    "the value has characters a header cannot carry".into(),
                )
            })?;
            v.set_sensitive(super::written_as_env(
                redacted,
                &["ai", "backends", name, "headers", h],
            ));
            headers.push((n, v));
        }
        backends.push(BackendSettings {
            name: name.clone(),
            kind,
            base_url,
            default_model: b.default_model.clone().filter(|m| !m.trim().is_empty()),
            timeout,
            headers,
        });
    }

    let default_backend = match &a.default_backend {
        Some(d) => {
            if !backends.iter().any(|b| &b.name == d) {
                let names: Vec<&str> = backends.iter().map(|b| b.name.as_str()).collect();
                return Err(err(
                    "ai.default_backend".into(),
                    format!("no backend `{d}`; configured: {}", names.join(", ")),
                ));
            }
            d.clone()
        }
        None if backends.len() == 1 => backends[0].name.clone(),
        None if backends.iter().any(|b| b.name == "ollama") => "ollama".into(),
        None => {
            return Err(err(
                "ai.default_backend".into(),
                "several backends are configured: name the one bare model names go to".into(),
            ));
        }
    };

    Ok(AiSettings {
        backends,
        default_backend,
        connect_timeout: Duration::from_secs(a.connect_timeout_secs),
        max_response_bytes: a.max_response_bytes,
        health_ttl: Duration::from_secs(a.health_ttl_secs),
        max_embed_inputs: a.max_embed_inputs,
        summary_max_input_chars: a.summary_max_input_chars,
        summary_max_tokens: a.summary_max_tokens,
        max_prompt_bytes: a.max_prompt_bytes,
        max_tokens: a.max_tokens,
        context_tokens: a.context_tokens,
        agent: AgentSettings {
            allow: a.agent.allow.clone(),
            max_steps: a.agent.max_steps,
            max_steps_limit: a.agent.max_steps_limit,
            max_tool_result_chars: a.agent.max_tool_result_chars,
            max_tokens_per_step: a.agent.max_tokens_per_step,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn ai(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<AiSettings, ConfigError> {
        let (raw, redacted) = parse(text, None, env)?;
        ai_settings(&raw.ai, &redacted, None, env)
    }

    #[test]
    fn the_default_is_one_ollama_backend_honouring_ollama_host() {
        let s = ai("", &|_| None).unwrap();
        assert_eq!(s.backends.len(), 1);
        assert_eq!(s.backends[0].base_url, "http://127.0.0.1:11434");
        assert_eq!(s.default_backend, "ollama");
        let env = |k: &str| (k == "OLLAMA_HOST").then(|| "0.0.0.0:11500".to_owned());
        assert_eq!(
            ai("", &env).unwrap().backends[0].base_url,
            "http://127.0.0.1:11500"
        );
        let env = |k: &str| (k == "OLLAMA_HOST").then(|| "ftp://x".to_owned());
        assert!(ai("", &env).is_err());
    }

    #[test]
    fn backends_are_validated() {
        let env = |k: &str| (k == "KEY").then(|| "sk-1".to_owned());
        let text = "ai:\n  default_backend: lm\n  backends:\n    local: {type: ollama}\n    lm: {type: openai, base_url: \"http://127.0.0.1:1234/v1/\", api_key: env:KEY, headers: {X-Team: blue}, timeout_secs: 60}\n";
        let s = ai(text, &env).unwrap();
        assert_eq!(s.default_backend, "lm");
        let lm = s.backends.iter().find(|b| b.name == "lm").unwrap();
        assert_eq!(lm.kind, BackendKind::OpenAi);
        assert_eq!(lm.base_url, "http://127.0.0.1:1234/v1");
        assert_eq!(lm.timeout, Duration::from_secs(60));
        assert_eq!(lm.headers[0].1.to_str().unwrap(), "Bearer sk-1");
        assert!(lm.headers[0].1.is_sensitive());
        assert!(!format!("{:?}", lm.headers).contains("sk-1"));
        for (text, key) in [
            (
                "ai:\n  backends:\n    x: {type: openai, base_url: \"http://h/v1\", api_key: sk-1}\n",
                "ai.backends.x.api_key",
            ),
            (
                "ai:\n  backends:\n    x: {type: openai}\n",
                "ai.backends.x.base_url",
            ),
            (
                "ai:\n  backends:\n    x: {type: vertex, base_url: \"http://h\"}\n",
                "ai.backends.x.type",
            ),
            (
                "ai:\n  backends:\n    x: {type: ollama, base_url: \"file:///tmp\"}\n",
                "ai.backends.x.base_url",
            ),
            (
                "ai:\n  backends:\n    \"a/b\": {type: ollama}\n",
                "ai.backends.a/b",
            ),
            (
                "ai:\n  backends:\n    a: {type: ollama}\n    b: {type: ollama}\n",
                "ai.default_backend",
            ),
            (
                "ai:\n  default_backend: c\n  backends:\n    a: {type: ollama}\n",
                "ai.default_backend",
            ),
            ("ai:\n  agent: {max_steps: 40}\n", "ai.agent.max_steps"),
            ("ai:\n  max_embed_inputs: 0\n", "ai.max_embed_inputs"),
        ] {
            assert_eq!(ai(text, &env).unwrap_err().key, key, "{text}");
        }
    }

    #[test]
    fn ollama_host_reads_like_ollama_does() {
        for (given, want) in [
            ("", "http://127.0.0.1:11434"),
            ("0.0.0.0", "http://127.0.0.1:11434"),
            ("0.0.0.0:8000", "http://127.0.0.1:8000"),
            ("box.lan", "http://box.lan:11434"),
            ("http://box.lan", "http://box.lan:11434"),
            ("https://ollama.example", "https://ollama.example:443"),
            ("http://127.0.0.1:11435/", "http://127.0.0.1:11435"),
            ("[::]:11434", "http://[::1]:11434"),
            ("http://host:1234/prefix", "http://host:1234/prefix"),
        ] {
            assert_eq!(ollama_host(given).unwrap(), want, "{given}");
        }
        assert!(ollama_host("ftp://x").is_err());
    }
}
