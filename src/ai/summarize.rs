//! The `summarize_with_local_model` prompt's work: a text file inside the roots, read through
//! the file policy and cut to `ai.summary_max_input_chars`, summarized by a local model. Only
//! the summary goes back to the host.

use std::io::Read;
use std::time::Instant;

use super::backend::{ChatRequest, Message, Options, Role};
use super::context::{Counter, chunks};
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

/// Most rounds of combining part summaries before the last one.
const MAX_ROUNDS: usize = 4;

/// The summary, with a line saying which model wrote it and what it cost. A document larger
/// than the model's context is summarized in parts, then the parts' summaries together (map,
/// then reduce), and the line says so.
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
    let window = target.window(&ai.settings).await;
    let counter = Counter::default();
    let mut focus_line = String::new();
    if let Some(f) = focus.filter(|f| !f.trim().is_empty()) {
        focus_line = format!(" Focus on: {f}.");
    }
    let max_tokens = ai.settings.summary_max_tokens;
    let reserve = u64::from(max_tokens) + 64;
    // What one request may carry besides its instruction (about 100 tokens).
    let room = window.tokens.saturating_sub(reserve + 160);
    if room < 64 {
        return Err(AiError::Invalid(format!(
            "the model's context ({} tokens, {}) leaves no room for text after a {max_tokens}-token summary (ai.summary_max_tokens): lower it or use a model with a larger context",
            window.tokens,
            window.source.describe()
        )));
    }
    let chunk_bytes = counter.bytes_for(room);
    let mut tokens = 0u64;
    let ask = |system: String, user: String, max: u32| {
        let req = ChatRequest {
            model: target.model.clone(),
            messages: vec![
                Message::new(Role::System, system),
                Message::new(Role::User, user),
            ],
            options: Options {
                temperature: Some(0.2),
                max_tokens: Some(max),
                context_tokens: Some(window.tokens),
                ..Options::default()
            },
            format: None,
        };
        let backend = target.backend;
        async move { backend.chat(&req, &mut |_| {}).await }
    };
    let whole = format!(
        "Summarize the document below for someone who has not read it: its purpose and main points, then anything that needs action. Be concise and factual; do not invent details.{focus_line}"
    );
    let parts = chunks(content, chunk_bytes);
    let (summary, rounds) = if parts.len() <= 1 {
        let reply = ask(
            whole,
            format!(
                "Document `{path}`{}:\n\n{content}",
                if cut { " (its beginning only)" } else { "" }
            ),
            max_tokens,
        )
        .await?;
        tokens += reply.completion_tokens.unwrap_or(0);
        (reply.content.trim().to_owned(), 0)
    } else {
        // Map: each part on its own, in a share of the summary's length.
        let n = parts.len();
        let part_tokens = (max_tokens / 2).max(96);
        let mut notes = Vec::with_capacity(n);
        for (i, part) in parts.iter().enumerate() {
            let reply = ask(
                format!(
                    "Summarize this part of a longer document in a few sentences: its main points and anything that needs action. Be factual; do not invent details.{focus_line}"
                ),
                format!("Part {} of {n} of `{path}`:\n\n{part}", i + 1),
                part_tokens,
            )
            .await?;
            tokens += reply.completion_tokens.unwrap_or(0);
            notes.push(format!("Part {}: {}", i + 1, reply.content.trim()));
        }
        // Reduce: the parts' summaries together, in groups while they do not fit.
        let mut rounds = 1;
        let mut text = notes.join("\n\n");
        while chunks(&text, chunk_bytes).len() > 1 && rounds < MAX_ROUNDS {
            let mut merged = Vec::new();
            for group in chunks(&text, chunk_bytes) {
                let reply = ask(
                    "Combine these summaries of consecutive parts of one document into one shorter summary, keeping the main points and anything that needs action.".into(),
                    group.to_owned(),
                    part_tokens,
                )
                .await?;
                tokens += reply.completion_tokens.unwrap_or(0);
                merged.push(reply.content.trim().to_owned());
            }
            text = merged.join("\n\n");
            rounds += 1;
        }
        let text = &text[..crate::support::text::floor_char_boundary(&text, chunk_bytes)];
        let reply = ask(
            format!(
                "Below are summaries of the parts of the document `{path}`, in order. Write one summary of the whole document for someone who has not read it: its purpose and main points, then anything that needs action. Be concise and factual; do not invent details.{focus_line}"
            ),
            text.to_owned(),
            max_tokens,
        )
        .await?;
        tokens += reply.completion_tokens.unwrap_or(0);
        (reply.content.trim().to_owned(), n)
    };
    let mut notes = Vec::new();
    if rounds > 0 {
        notes.push(format!(
            "read in {rounds} parts, each summarized, then the summaries together: the model's context is {} tokens ({})",
            window.tokens,
            window.source.describe()
        ));
    }
    if cut {
        notes.push(format!(
            "only the first {} characters were read (ai.summary_max_input_chars)",
            ai.settings.summary_max_input_chars
        ));
    }
    Ok(format!(
        "{summary}\n\n— {} ({}), {tokens} tokens in {:.1} s{}",
        target.display(&ai.settings.default_backend),
        target.settings.name,
        started.elapsed().as_secs_f64(),
        notes.iter().map(|n| format!("; {n}")).collect::<String>()
    ))
}
