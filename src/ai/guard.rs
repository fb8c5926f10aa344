//! The checks every request to a backend passes, whoever sends it (`ai_chat`, `ai_generate`,
//! `ai_embed`, `ai_agent`, the summary prompt): a model name of a strict syntax, and one the
//! backend lists when it lists any; the text sent under `ai.max_prompt_bytes`; the number of
//! tokens to generate at most `ai.max_tokens` (and that when the call gives none). It wraps
//! each backend, so no caller can go around it.

use super::context::Window;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::AiError;
use super::backend::{
    Backend, BoxFuture, ChatRequest, Embeddings, Endpoint, GenerateRequest, Health, ModelDetails,
    ModelEntry, PullSink, Reply, TextSink,
};

/// The caps a guarded backend applies.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub max_prompt_bytes: usize,
    pub max_tokens: u32,
    /// How long the backend's model list is trusted.
    pub list_ttl: Duration,
}

/// The longest model name taken.
const MAX_NAME: usize = 200;

/// Why `model` is not a model name: names are letters, digits and `._:-+@/`, start with a
/// letter or digit, and have no empty, `.` or `..` path segment, so a name can never walk a
/// backend's URL or file paths (`../../etc/passwd`, `%2e%2e`, `?x=`).
pub fn name_problem(model: &str) -> Option<&'static str> {
    if model.is_empty() || model.len() > MAX_NAME {
        return Some("it must be 1 to 200 characters");
    }
    if !model.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Some("it must start with a letter or digit");
    }
    if !model
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._:-+@/".contains(c))
    {
        return Some("it may hold only letters, digits and . _ : - + @ /");
    }
    if model
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Some("a part between slashes is empty, `.` or `..`");
    }
    None
}

pub struct Guarded {
    inner: Box<dyn Backend>,
    caps: Caps,
    /// The model names the backend listed last, and when (shared, not copied, per request).
    listed: Mutex<Option<(Instant, Arc<[String]>)>>,
}

impl Guarded {
    pub fn new(inner: Box<dyn Backend>, caps: Caps) -> Self {
        Self {
            inner,
            caps,
            listed: Mutex::new(None),
        }
    }

    fn bad_name(&self, model: &str) -> Result<(), AiError> {
        match name_problem(model) {
            Some(why) => Err(AiError::BadModelName {
                model: crate::support::text::quote(model, 80),
                why,
            }),
            None => Ok(()),
        }
    }

    /// The name's syntax, and that the backend lists it when it lists models (a list that
    /// cannot be had is no reason to refuse: the backend answers for itself).
    async fn known(&self, model: &str) -> Result<(), AiError> {
        self.bad_name(model)?;
        let cached = crate::support::lock(&self.listed)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.caps.list_ttl)
            .map(|(_, names)| Arc::clone(names));
        let names = match cached {
            Some(n) => n,
            None => match self.inner.list().await {
                Ok(list) => {
                    let names: Arc<[String]> = list.into_iter().map(|m| m.name).collect();
                    *crate::support::lock(&self.listed) = Some((Instant::now(), names.clone()));
                    names
                }
                Err(_) => return Ok(()),
            },
        };
        let listed = names.is_empty()
            || names
                .iter()
                .any(|n| n == model || n.strip_suffix(":latest") == Some(model));
        if listed {
            return Ok(());
        }
        Err(AiError::ModelNotFound {
            backend: self.inner.endpoint().name.clone(),
            model: model.to_owned(),
            hint: format!(
                "it serves: {} (ai_list_models lists every backend's models; ai_pull_model fetches one where the backend can pull)",
                super::sample(names.iter().map(String::as_str))
            ),
        })
    }

    fn prompt(&self, bytes: usize) -> Result<(), AiError> {
        if bytes > self.caps.max_prompt_bytes {
            return Err(AiError::PromptTooLarge {
                bytes,
                cap: self.caps.max_prompt_bytes,
            });
        }
        Ok(())
    }

    fn clamp(&self, options: &mut super::backend::Options) {
        let cap = self.caps.max_tokens;
        options.max_tokens = Some(options.max_tokens.map_or(cap, |t| t.min(cap)));
    }
}

impl Backend for Guarded {
    fn endpoint(&self) -> &Endpoint {
        self.inner.endpoint()
    }

    fn health(&self) -> BoxFuture<'_, Result<Health, AiError>> {
        self.inner.health()
    }

    fn list(&self) -> BoxFuture<'_, Result<Vec<ModelEntry>, AiError>> {
        self.inner.list()
    }

    fn show<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelDetails, AiError>> {
        Box::pin(async move {
            self.bad_name(model)?;
            self.inner.show(model).await
        })
    }

    fn chat<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            self.known(&req.model).await?;
            self.prompt(req.messages.iter().map(|m| m.content.len()).sum())?;
            let mut req = req.clone();
            self.clamp(&mut req.options);
            self.inner.chat(&req, sink).await
        })
    }

    fn generate<'a>(
        &'a self,
        req: &'a GenerateRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>> {
        Box::pin(async move {
            self.known(&req.model).await?;
            self.prompt(req.prompt.len() + req.system.as_ref().map_or(0, String::len))?;
            let mut req = req.clone();
            self.clamp(&mut req.options);
            self.inner.generate(&req, sink).await
        })
    }

    fn embed<'a>(
        &'a self,
        model: &'a str,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Result<Embeddings, AiError>> {
        Box::pin(async move {
            self.known(model).await?;
            self.prompt(inputs.iter().map(String::len).sum())?;
            self.inner.embed(model, inputs).await
        })
    }

    fn window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<Option<Window>, AiError>> {
        Box::pin(async move {
            self.bad_name(model)?;
            self.inner.window(model).await
        })
    }

    fn pull<'a>(
        &'a self,
        model: &'a str,
        sink: PullSink<'a>,
    ) -> BoxFuture<'a, Result<(), AiError>> {
        Box::pin(async move {
            self.bad_name(model)?;
            let done = self.inner.pull(model, sink).await;
            // What the backend offers changed.
            *crate::support::lock(&self.listed) = None;
            done
        })
    }
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    #[test]
    fn model_names_are_strict() {
        for ok in [
            "llama3.2",
            "llama3.2:latest",
            "qwen2.5-coder:7b-instruct-q4_K_M",
            "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "meta-llama/Llama-3.1-8B-Instruct",
            "all-minilm@sha256:abc",
            "gpt-4o-mini",
        ] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "../../etc/passwd",
            "a/../b",
            "/abs",
            "a//b",
            "a/./b",
            "%2e%2e/x",
            "x?y=1",
            "x#y",
            "a b",
            "a\\b",
            "a\nb",
            ".hidden",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(name_problem(&"a".repeat(201)).is_some());
    }
}
