//! Context budgeting: how many tokens a model's context holds here, how many a conversation
//! takes, and fitting a conversation into it. Local servers handle an overflow badly: llama.cpp
//! refuses the request, Ollama silently drops the start of the prompt (the instructions). So
//! every multi-turn use of a local model (the agent loop, long summaries) measures first.
//!
//! Tokens are estimated from bytes (no tokenizer is loaded: each model has its own), starting
//! at [`START_BYTES_PER_TOKEN`], which errs high, and calibrated by the prompt token counts the
//! backend reports after each request: the estimate only ever gets more careful.

use serde::Serialize;

use super::backend::{Message, Role};

/// Bytes per token to assume before the backend has reported a count: English text runs at
/// about 4 in common tokenizers, code and other languages lower.
pub const START_BYTES_PER_TOKEN: f64 = 3.0;
/// Tokens each message costs beyond its text (the chat template's role markers).
const PER_MESSAGE: u64 = 8;

/// How many tokens a request may use, and where that number comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Window {
    pub tokens: u64,
    pub source: WindowSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowSource {
    // (Plain comments: a doc comment would go into every output schema naming the type.)
    // The server runs the model with this context now (Ollama's loaded models, llama.cpp's
    // slot size).
    Server,
    // `ai.context_tokens`, or the context switchboard asks Ollama to load the model with.
    Config,
    // What the model was trained for: the server did not say what it runs with.
    Trained,
}

impl WindowSource {
    /// Its name in answers: `server`, `config`, `trained`.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowSource::Server => "server",
            WindowSource::Config => "config",
            WindowSource::Trained => "trained",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WindowSource::Server => "as the server runs it",
            WindowSource::Config => "ai.context_tokens",
            WindowSource::Trained => "its trained length; the server did not say",
        }
    }
}

/// Token estimates for one model, calibrated as replies come in.
#[derive(Debug, Clone)]
pub struct Counter {
    bytes_per_token: f64,
}

impl Default for Counter {
    fn default() -> Self {
        Self {
            bytes_per_token: START_BYTES_PER_TOKEN,
        }
    }
}

impl Counter {
    pub fn text(&self, text: &str) -> u64 {
        (text.len() as f64 / self.bytes_per_token).ceil() as u64
    }

    pub fn messages(&self, messages: &[Message]) -> u64 {
        messages
            .iter()
            .map(|m| self.text(&m.content) + PER_MESSAGE)
            .sum()
    }

    /// How many bytes of text `tokens` tokens hold.
    pub fn bytes_for(&self, tokens: u64) -> usize {
        (tokens as f64 * self.bytes_per_token) as usize
    }

    /// The backend counted `tokens` for `messages`: fewer bytes a token than assumed makes every
    /// later estimate higher; more never makes them lower than the start.
    pub fn calibrate(&mut self, messages: &[Message], tokens: u64) {
        let overhead = PER_MESSAGE * messages.len() as u64;
        let text_tokens = tokens.saturating_sub(overhead);
        if text_tokens == 0 {
            return;
        }
        let bytes: usize = messages.iter().map(|m| m.content.len()).sum();
        let seen = bytes as f64 / text_tokens as f64;
        if seen > 0.5 && seen < self.bytes_per_token {
            // A tenth below what was seen: the next request's text may tokenize worse.
            self.bytes_per_token = seen * 0.9;
        }
    }
}

/// One earlier step of a conversation that may be shortened: the model's reply and the
/// message that answered it (a tool's result), with a short form to show instead.
#[derive(Debug, Clone)]
pub struct Turn {
    pub reply: Message,
    pub answer: Message,
    /// What to show for `answer` when it has to be shortened (`None`: it cannot be).
    pub short: Option<String>,
}

/// What fitting a conversation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fitted {
    pub shortened: usize,
    pub dropped: usize,
    /// The newest answer was cut to fit.
    pub cut_last: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the instructions and the task take about {need} tokens, but the model's context holds {have} for them ({window} in all, {reserve} kept for its reply): use a model with a larger context, shorten the task, or give fewer tools"
)]
pub struct TooSmall {
    pub need: u64,
    pub have: u64,
    pub window: u64,
    pub reserve: u64,
}

/// `fixed` (kept whole) then `turns`, fitted into `window` tokens less `reserve` for the
/// reply: older answers shortened first, then the newest cut, then the oldest turns dropped.
pub fn fit(
    fixed: &[Message],
    turns: &[Turn],
    window: u64,
    reserve: u64,
    counter: &Counter,
) -> Result<(Vec<Message>, Fitted), TooSmall> {
    let budget = window.saturating_sub(reserve);
    let base = counter.messages(fixed);
    if base > budget {
        return Err(TooSmall {
            need: base,
            have: budget,
            window,
            reserve,
        });
    }
    let mut done = Fitted::default();
    let mut shown: Vec<(Message, Message)> = turns
        .iter()
        .map(|t| (t.reply.clone(), t.answer.clone()))
        .collect();
    let total = |shown: &[(Message, Message)]| -> u64 {
        base + shown
            .iter()
            .map(|(a, b)| {
                counter.messages(std::slice::from_ref(a))
                    + counter.messages(std::slice::from_ref(b))
            })
            .sum::<u64>()
            + u64::from(done_note_len(shown.len() < turns.len()))
    };
    // Older answers to their short form, oldest first, until it fits.
    for (i, t) in turns.iter().enumerate() {
        if total(&shown) <= budget || i + 1 == turns.len() {
            break;
        }
        if let Some(short) = &t.short {
            shown[i].1 = Message::new(t.answer.role, short.clone());
            done.shortened += 1;
        }
    }
    // The oldest turns out, while more than the newest is left and it does not fit.
    let mut dropped = 0;
    while total(&shown[dropped..]) > budget && dropped + 1 < shown.len() {
        dropped += 1;
    }
    done.dropped = dropped;
    let mut shown = shown.split_off(dropped);
    // The newest answer cut to what is left.
    let over = total(&shown).saturating_sub(budget);
    if over > 0
        && let Some((_, last)) = shown.last_mut()
    {
        let keep_tokens = counter.text(&last.content).saturating_sub(over + 16);
        let keep = crate::support::text::floor_char_boundary(
            &last.content,
            counter.bytes_for(keep_tokens).min(last.content.len()),
        );
        let mut cut = last.content[..keep].to_owned();
        cut.push_str("\n[… cut here to fit the model's context]");
        last.content = cut;
        done.cut_last = true;
    }
    let mut out = fixed.to_vec();
    if dropped > 0 {
        out.push(Message::new(
            Role::User,
            format!("[{dropped} earlier step(s) left out to fit the model's context]"),
        ));
    }
    for (a, b) in shown {
        out.push(a);
        out.push(b);
    }
    Ok((out, done))
}

/// The note about dropped steps costs about this much.
fn done_note_len(any: bool) -> u32 {
    if any { 32 } else { 0 }
}

/// `text` in pieces of at most `max_bytes`, cut at paragraph, then line, then word ends.
pub fn chunks(text: &str, max_bytes: usize) -> Vec<&str> {
    let max_bytes = max_bytes.max(64);
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > max_bytes {
        let window = &rest[..crate::support::text::floor_char_boundary(rest, max_bytes)];
        let at = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .filter(|&i| i > max_bytes / 2)
                    .map(|i| i + sep.len())
            })
            .unwrap_or(window.len());
        out.push(&rest[..at]);
        rest = &rest[at..];
    }
    if !rest.trim().is_empty() {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: Role, n: usize) -> Message {
        Message::new(role, "x".repeat(n))
    }

    fn turn(n: usize) -> Turn {
        Turn {
            reply: m(Role::Assistant, 30),
            answer: m(Role::User, n),
            short: Some("[short]".into()),
        }
    }

    #[test]
    fn what_fits_is_left_alone() {
        let c = Counter::default();
        let fixed = [m(Role::System, 300), m(Role::User, 30)];
        let (out, done) = fit(&fixed, &[turn(300)], 1000, 100, &c).unwrap();
        assert_eq!(out.len(), 4);
        assert_eq!(done, Fitted::default());
    }

    #[test]
    fn older_answers_shorten_then_the_newest_is_cut_then_turns_drop() {
        let c = Counter::default();
        let fixed = [m(Role::System, 300), m(Role::User, 30)];
        // 1000 tokens less 100: the fixed part is about 130; three answers of 1200 bytes
        // (400 tokens each) do not fit: the two older ones shorten, the newest fits whole.
        let turns = [turn(1200), turn(1200), turn(1200)];
        let (out, done) = fit(&fixed, &turns, 1000, 100, &c).unwrap();
        assert_eq!(done.shortened, 2);
        assert!(!done.cut_last && done.dropped == 0);
        assert!(c.messages(&out) <= 900, "{}", c.messages(&out));
        assert_eq!(out[3].content, "[short]");
        // A newest answer larger than the whole budget is cut, with a note.
        let turns = [turn(1200), turn(9000)];
        let (out, done) = fit(&fixed, &turns, 1000, 100, &c).unwrap();
        assert!(done.cut_last, "{done:?}");
        assert!(c.messages(&out) <= 900, "{}", c.messages(&out));
        assert!(
            out.last()
                .unwrap()
                .content
                .ends_with("to fit the model's context]")
        );
        // Turns that cannot even be shortened are dropped, oldest first.
        let many: Vec<Turn> = (0..40)
            .map(|_| Turn {
                short: None,
                ..turn(90)
            })
            .collect();
        let (out, done) = fit(&fixed, &many, 1000, 100, &c).unwrap();
        assert!(done.dropped > 0, "{done:?}");
        assert!(
            out[2].content.contains("earlier step(s) left out"),
            "{}",
            out[2].content
        );
        assert!(c.messages(&out) <= 900, "{}", c.messages(&out));
    }

    #[test]
    fn instructions_that_do_not_fit_are_an_error_that_says_what_to_do() {
        let c = Counter::default();
        let fixed = [m(Role::System, 6000)];
        let e = fit(&fixed, &[], 2048, 256, &c).unwrap_err();
        assert!(e.to_string().contains("larger context"), "{e}");
    }

    #[test]
    fn calibration_only_makes_estimates_more_careful() {
        let mut c = Counter::default();
        let msgs = [m(Role::User, 300)];
        assert_eq!(c.text(&"x".repeat(300)), 100);
        // The backend counted 150 tokens (2 bytes a token): estimates go up.
        c.calibrate(&msgs, 150 + 8);
        assert!(c.text(&"x".repeat(300)) >= 150);
        let before = c.text(&"x".repeat(300));
        // 10 bytes a token seen later does not make them lower.
        c.calibrate(&msgs, 30 + 8);
        assert_eq!(c.text(&"x".repeat(300)), before);
    }

    #[test]
    fn chunks_end_at_paragraphs_and_cover_the_text() {
        let text = "para one line\n\npara two is longer than that\n\nthree";
        let parts = chunks(text, 64);
        assert_eq!(parts.concat(), text);
        let long = "word ".repeat(100);
        let parts = chunks(&long, 64);
        assert!(parts.iter().all(|p| p.len() <= 64));
        assert_eq!(parts.concat(), long);
    }
}
