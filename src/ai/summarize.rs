//! The `summarize_with_local_model` prompt's work: a text file inside the roots, read through
//! the file policy and cut to `ai.summary_max_input_chars`, summarized by a local model. Only
//! the summary goes back to the host.

use std::io::Read;
use std::time::Instant;

use super::backend::{ChatRequest, Message, Options, Role};
use super::{Ai, AiError};
use crate::policy::FileScope;
use crate::support::text;

/// Reads up to `max_chars` characters of a text file through the policy; says how much of the
/// file that is.
pub fn read_text(
    scope: &FileScope,
    input: &str,
    max_chars: usize,
) -> Result<(String, bool), String> {
    let resolved = scope.existing(input).map_err(|e| e.to_string())?;
    let file = scope
        .open_read(&resolved.path, input)
        .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    // A character is at most 4 bytes; one more byte tells whether the file goes on.
    file.take(max_chars as u64 * 4 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("`{input}`: {e}"))?;
    if text::looks_binary(&bytes) {
        return Err(format!("`{input}` is not a text file"));
    }
    let (s, _) = text::decode_lossy(&bytes);
    let cut = s.chars().count() > max_chars || bytes.len() as u64 > max_chars as u64 * 4;
    Ok((text::truncate_chars(&s, max_chars), cut))
}

/// The summary, with a line saying which model wrote it and what it cost.
pub async fn summarize(
    ai: &Ai,
    path: &str,
    content: &str,
    cut: bool,
    model: Option<&str>,
    focus: Option<&str>,
) -> Result<String, AiError> {
    let started = Instant::now();
    let target = ai.resolve(model).await?;
    let mut instruction = String::from(
        "Summarize the document below for someone who has not read it: its purpose and main points, then anything that needs action. Be concise and factual; do not invent details.",
    );
    if let Some(f) = focus.filter(|f| !f.trim().is_empty()) {
        instruction.push_str(&format!(" Focus on: {f}."));
    }
    let req = ChatRequest {
        model: target.model.clone(),
        messages: vec![
            Message::new(Role::System, instruction),
            Message::new(
                Role::User,
                format!(
                    "Document `{path}`{}:\n\n{content}",
                    if cut { " (its beginning only)" } else { "" }
                ),
            ),
        ],
        options: Options {
            temperature: Some(0.2),
            max_tokens: Some(ai.settings.summary_max_tokens),
            ..Options::default()
        },
        format: None,
    };
    let reply = target.backend.chat(&req, &mut |_| {}).await?;
    Ok(format!(
        "{}\n\n— {} ({}), {} tokens in {:.1} s{}",
        reply.content.trim(),
        target.display(&ai.settings.default_backend),
        target.settings.name,
        reply.completion_tokens.unwrap_or(0),
        started.elapsed().as_secs_f64(),
        if cut {
            format!(
                "; only the first {} characters were read (ai.summary_max_input_chars)",
                ai.settings.summary_max_input_chars
            )
        } else {
            String::new()
        }
    ))
}
