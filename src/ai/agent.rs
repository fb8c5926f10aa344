//! The local agent loop: a model works on a task by calling tools until it can answer.
//!
//! Each step the model must reply with one JSON object, either `{"tool": NAME, "arguments":
//! {...}}` or `{"answer": TEXT}`, and the reply is constrained to exactly that shape with a JSON
//! schema (structured output). That works with every backend that supports structured output,
//! including small models whose chat templates know nothing of tool calling; the schema also
//! carries each tool's argument schema, so calls come out well-formed. A call repeated with the
//! same arguments is not run again: the next step must answer, as must the last step, so the
//! loop always ends with an answer. Tools run through a [`ToolRunner`] the caller supplies (the
//! server runs them through the same policy as any other call).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::AiError;
use super::backend::{Backend, BoxFuture, ChatRequest, Format, Message, Options, Role};
use super::context::{Counter, Fitted, Turn, Window, fit};

/// A tool the agent may call.
#[derive(Debug, Clone)]
pub struct AgentTool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// Runs one tool call; `Err` carries the tool's error text (shown to the model).
pub trait ToolRunner: Send + Sync {
    fn run<'a>(&'a self, name: &'a str, arguments: Value) -> BoxFuture<'a, Result<String, String>>;
}

pub struct AgentRequest {
    pub task: String,
    /// Most relevant first: when the model's context cannot list them all, the last go.
    pub tools: Vec<AgentTool>,
    pub max_steps: usize,
    pub max_result_chars: usize,
    pub options: Options,
    /// The model's context; `None` when no one knows it (then nothing is fitted).
    pub window: Option<Window>,
}

/// One tool call the agent made.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub tool: String,
    pub arguments: Map<String, Value>,
    pub ok: bool,
    /// The start of the result (or the error), on one line.
    pub summary: String,
    /// Characters the tool returned.
    pub result_chars: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub answer: String,
    /// False when the model never gave an answer it could parse.
    pub finished: bool,
    pub steps: Vec<Step>,
    /// Replies the model wrote (one per loop turn).
    pub turns: usize,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub generation_ms: f64,
    /// What was left out or shortened to fit the model's context, in words.
    pub cut: Vec<String>,
}

/// Of the tools' listing, at most this share of the context (the rest is for the task, the
/// results and the reply).
const TOOLS_SHARE: f64 = 0.4;

/// Runs the loop. `on_step` hears a one-line description of each thing the agent does.
pub async fn run(
    backend: &dyn Backend,
    model: &str,
    mut req: AgentRequest,
    runner: &dyn ToolRunner,
    on_step: &mut (dyn FnMut(String) + Send),
) -> Result<Outcome, AiError> {
    let mut counter = Counter::default();
    let mut out = Outcome::default();
    // The reply's room: what one step may generate, and a little for the template.
    let reserve = u64::from(req.options.max_tokens.unwrap_or(512)) + 32;
    if let Some(w) = req.window {
        let offered = req.tools.len();
        let room = (w.tokens.saturating_sub(reserve) as f64 * TOOLS_SHARE) as u64;
        while req.tools.len() > 1 && counter.text(&system_prompt(&req.tools)) > room {
            req.tools.pop();
        }
        if req.tools.len() < offered {
            out.cut.push(format!(
                "offered the {} tool(s) most relevant to the task of {offered}, to fit the model's {}-token context",
                req.tools.len(),
                w.tokens
            ));
        }
    }
    let fixed = vec![
        Message::new(Role::System, system_prompt(&req.tools)),
        Message::new(Role::User, format!("Task: {}", req.task)),
    ];
    let mut turns: Vec<Turn> = Vec::new();
    let call_schema = step_schema(&req.tools, false);
    let step_schema = step_schema(&req.tools, true);
    let answer_schema = answer_schema();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut must_answer = req.tools.is_empty();
    let mut fitted = Fitted::default();
    for turn in 0..req.max_steps {
        let last = turn + 1 == req.max_steps;
        // The first turn calls a tool (a task without tools is ai_chat's job); the last turn,
        // and any turn after a repeated call, answers.
        let schema = if must_answer || last {
            answer_schema.clone()
        } else if turn == 0 {
            call_schema.clone()
        } else {
            step_schema.clone()
        };
        let messages = match req.window {
            Some(w) => {
                let (messages, done) = fit(&fixed, &turns, w.tokens, reserve, &counter)
                    .map_err(|e| AiError::Invalid(e.to_string()))?;
                fitted.shortened = fitted.shortened.max(done.shortened);
                fitted.dropped = fitted.dropped.max(done.dropped);
                fitted.cut_last |= done.cut_last;
                messages
            }
            None => flat(&fixed, &turns),
        };
        let chat = ChatRequest {
            model: model.to_owned(),
            messages,
            options: req.options.clone(),
            format: Some(Format::Schema(schema)),
        };
        let reply = backend.chat(&chat, &mut |_| {}).await?;
        if let Some(n) = reply.prompt_tokens {
            counter.calibrate(&chat.messages, n);
        }
        out.turns += 1;
        out.prompt_tokens += reply.prompt_tokens.unwrap_or(0);
        out.completion_tokens += reply.completion_tokens.unwrap_or(0);
        out.generation_ms += reply.generation_ms.unwrap_or(0.0);
        let parsed: Option<Value> = serde_json::from_str(reply.content.trim()).ok();
        // A reply that is not JSON is kept short in the conversation: it only costs context.
        let said = Message::new(
            Role::Assistant,
            if parsed.is_some() {
                reply.content.clone()
            } else {
                one_line(&reply.content, 200)
            },
        );
        // The model's next message answers `said`; `short` is what to show for a long one.
        let mut follow = |answer: String, short: Option<String>| {
            turns.push(Turn {
                reply: said.clone(),
                answer: Message::new(Role::User, answer),
                short,
            });
        };
        let Some(Value::Object(obj)) = parsed else {
            // An answer cut off by the step's token limit is still the answer, up to there.
            if let Some(answer) = partial_answer(&reply.content) {
                out.answer = answer;
                out.finished = true;
                on_step(format!("step {}: answered (cut off)", turn + 1));
                out.cut.push(
                    "the answer was cut off at the step's token limit (ai.agent.max_tokens_per_step)"
                        .into(),
                );
                out.cut.extend(fitted.describe(req.window));
                return Ok(out);
            }
            on_step(format!(
                "step {}: the reply was not a JSON object",
                turn + 1
            ));
            follow(
                "That was not one JSON object. Reply with {\"tool\": ..., \"arguments\": {...}} or {\"answer\": \"...\"}.".into(),
                None,
            );
            continue;
        };
        if let Some(answer) = obj.get("answer") {
            out.answer = answer
                .as_str()
                .map_or_else(|| answer.to_string(), str::to_owned);
            out.finished = true;
            on_step(format!("step {}: answered", turn + 1));
            out.cut.extend(fitted.describe(req.window));
            return Ok(out);
        }
        let tool = obj.get("tool").and_then(Value::as_str).unwrap_or_default();
        let arguments = match obj.get("arguments") {
            Some(Value::Object(a)) => a.clone(),
            _ => Map::new(),
        };
        if !req.tools.iter().any(|t| t.name == tool) {
            on_step(format!(
                "step {}: asked for unknown tool `{tool}`",
                turn + 1
            ));
            follow(
                format!(
                    "There is no tool `{tool}`. Use one of: {}, or answer.",
                    names(&req.tools)
                ),
                None,
            );
            continue;
        }
        let key = (
            tool.to_owned(),
            Value::Object(arguments.clone()).to_string(),
        );
        if seen.contains(&key) {
            on_step(format!(
                "step {}: repeated {tool}; asking for the answer",
                turn + 1
            ));
            follow(
                format!(
                    "You already called {tool} with these arguments and its result is above. Give your final answer to the task now, as {{\"answer\": \"...\"}}."
                ),
                None,
            );
            must_answer = true;
            continue;
        }
        on_step(format!(
            "step {}: {tool} {}",
            turn + 1,
            one_line(&key.1, 200)
        ));
        seen.push(key);
        let result = runner.run(tool, Value::Object(arguments.clone())).await;
        let (ok, text) = match result {
            Ok(t) => (true, t),
            Err(t) => (false, t),
        };
        let result_chars = text.chars().count();
        let summary = one_line(&text, 200);
        out.steps.push(Step {
            tool: tool.to_owned(),
            arguments,
            ok,
            summary: summary.clone(),
            result_chars,
        });
        let shown = clip(&text, req.max_result_chars);
        let short = format!(
            "[The result of {tool} ({result_chars} characters) is left out to fit the model's context; it began: {}]",
            one_line(&text, 120)
        );
        follow(
            if ok {
                format!(
                    "Result of {tool}:\n{shown}\n\nIf this is enough, give the final answer as {{\"answer\": \"...\"}}; otherwise call another tool."
                )
            } else {
                format!(
                    "{tool} failed:\n{shown}\n\nFix the arguments, try another tool, or answer with what you know."
                )
            },
            Some(short),
        );
    }
    out.answer = turns
        .last()
        .map(|t| t.reply.content.clone())
        .unwrap_or_default();
    out.cut.extend(fitted.describe(req.window));
    Ok(out)
}

/// The text of `{"answer": "…` when the reply stopped before the string ended.
fn partial_answer(reply: &str) -> Option<String> {
    let rest = reply.trim_start().strip_prefix('{')?.trim_start();
    let rest = rest
        .strip_prefix("\"answer\"")?
        .trim_start()
        .strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    let out = out.trim().to_owned();
    (!out.is_empty()).then_some(out)
}

/// Every message, unfitted.
fn flat(fixed: &[Message], turns: &[Turn]) -> Vec<Message> {
    let mut out = fixed.to_vec();
    for t in turns {
        out.push(t.reply.clone());
        out.push(t.answer.clone());
    }
    out
}

impl Fitted {
    /// The answer's words for what fitting did.
    fn describe(&self, window: Option<Window>) -> Vec<String> {
        let Some(w) = window else { return Vec::new() };
        let mut out = Vec::new();
        if self.shortened > 0 {
            out.push(format!(
                "{} earlier tool result(s) were shortened to fit the model's {}-token context",
                self.shortened, w.tokens
            ));
        }
        if self.dropped > 0 {
            out.push(format!(
                "{} earlier step(s) were left out to fit the model's {}-token context",
                self.dropped, w.tokens
            ));
        }
        if self.cut_last {
            out.push(format!(
                "a tool result was cut to fit the model's {}-token context",
                w.tokens
            ));
        }
        out
    }
}

fn names(tools: &[AgentTool]) -> String {
    tools
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first `max` characters, with a note saying how much was left out.
fn clip(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}\n[… {} more characters not shown]", total - max)
}

/// Whitespace runs folded to one space, cut at `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= max {
        return folded;
    }
    let mut s: String = folded.chars().take(max).collect();
    s.push('…');
    s
}

fn system_prompt(tools: &[AgentTool]) -> String {
    let example = tools.first().map_or_else(
        || "{\"tool\": \"NAME\", \"arguments\": {}}".to_owned(),
        |t| {
            let arg = t.input_schema["required"][0].as_str().unwrap_or("argument");
            format!(
                "{{\"tool\": \"{}\", \"arguments\": {{\"{arg}\": \"...\"}}}}",
                t.name
            )
        },
    );
    let mut s = format!(
        "You complete the user's task by calling tools, one at a time, then answering.\n\
         Reply with exactly one JSON object each time: a tool call such as\n\
         {example}\n\
         or, once the results let you answer, {{\"answer\": \"your answer to the task\"}}.\n\
         Give only the arguments you need; leave optional ones out.\n"
    );
    if tools.is_empty() {
        s.push_str("No tools are available: answer directly.\n");
        return s;
    }
    s.push_str("Tools:\n");
    for t in tools {
        let first = t
            .description
            .split_inclusive(". ")
            .next()
            .unwrap_or("")
            .trim();
        s.push_str(&format!("- {}: {}", t.name, one_line(first, 160)));
        let args = argument_line(&t.input_schema);
        if !args.is_empty() {
            s.push_str(&format!(" Arguments: {args}."));
        }
        s.push('\n');
    }
    s
}

/// `path (string, required), offset (integer)`.
fn argument_line(schema: &Value) -> String {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return String::new();
    };
    // Required ones first, in their listed order; then the rest.
    let mut names: Vec<&String> = required
        .iter()
        .filter_map(|r| props.get_key_value(*r).map(|(k, _)| k))
        .collect();
    names.extend(props.keys().filter(|k| !required.contains(&k.as_str())));
    names
        .into_iter()
        .map(|name| (name, &props[name]))
        .map(|(name, p)| {
            let ty = p["type"].as_str().unwrap_or("any");
            if required.contains(&name.as_str()) {
                format!("{name} ({ty}, required)")
            } else {
                format!("{name} ({ty})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn answer_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "answer": { "type": "string" } },
        "required": ["answer"],
        "additionalProperties": false,
    })
}

fn step_schema(tools: &[AgentTool], may_answer: bool) -> Value {
    let mut branches: Vec<Value> = tools
        .iter()
        .map(|t| {
            json!({
                "type": "object",
                "properties": {
                    "tool": { "const": t.name },
                    "arguments": compact_schema(&t.input_schema),
                },
                "required": ["tool", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    if may_answer {
        branches.push(answer_schema());
    }
    json!({ "anyOf": branches })
}

/// A tool's input schema reduced to what constrains the JSON's shape (types, properties,
/// required, enums, items), with local `$ref`s inlined, so every backend's schema-to-grammar
/// converter accepts it. Too-deep or recursive parts become "any value".
pub fn compact_schema(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    let mut out = compact(schema, &defs, 0);
    if out.get("type").is_none() {
        out["type"] = json!("object");
    }
    out
}

fn compact(s: &Value, defs: &Value, depth: usize) -> Value {
    if depth > 8 {
        return json!({});
    }
    let Some(obj) = s.as_object() else {
        return json!({});
    };
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .or_else(|| r.strip_prefix("#/definitions/"));
        return match name.and_then(|n| defs.get(n)) {
            Some(target) => compact(target, defs, depth + 1),
            None => json!({}),
        };
    }
    let mut out = Map::new();
    for key in ["type", "enum", "const", "required"] {
        if let Some(v) = obj.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let p: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), compact(v, defs, depth + 1)))
            .collect();
        out.insert("properties".into(), Value::Object(p));
        out.insert("additionalProperties".into(), json!(false));
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), compact(items, defs, depth + 1));
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(a) = obj.get(key).and_then(Value::as_array) {
            out.insert(
                "anyOf".into(),
                a.iter().map(|b| compact(b, defs, depth + 1)).collect(),
            );
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_inlined_and_reduced_to_their_shape() {
        let schema = json!({
            "type": "object",
            "description": "args",
            "properties": {
                "path": {"type": "string", "description": "where"},
                "mode": {"$ref": "#/$defs/Mode"},
                "limit": {"type": "integer", "format": "uint32", "minimum": 0},
            },
            "required": ["path"],
            "$defs": {"Mode": {"oneOf": [{"const": "a", "description": "A"}, {"const": "b"}]}},
        });
        assert_eq!(
            compact_schema(&schema),
            json!({
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string"},
                    "mode": {"anyOf": [{"const": "a"}, {"const": "b"}]},
                    "limit": {"type": "integer"},
                },
                "additionalProperties": false,
            })
        );
    }

    #[test]
    fn a_recursive_schema_ends_in_any_value() {
        let schema = json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        });
        let s = compact_schema(&schema).to_string();
        assert!(s.contains("{}"), "{s}");
    }

    #[test]
    fn the_prompt_lists_each_tool_with_its_arguments() {
        let tools = vec![AgentTool {
            name: "read_file".into(),
            description: "Read a text file. Long files come in pages.".into(),
            input_schema: json!({"type": "object", "properties": {
                "path": {"type": "string"}, "offset": {"type": "integer"}}, "required": ["path"]}),
        }];
        let p = system_prompt(&tools);
        assert!(p.contains("- read_file: Read a text file."), "{p}");
        assert!(
            p.contains("path (string, required), offset (integer)"),
            "{p}"
        );
        assert!(!p.contains("Long files"), "{p}");
    }

    #[test]
    fn an_answer_cut_off_mid_string_is_kept() {
        assert_eq!(
            partial_answer("{\"answer\": \"There are 3 files,\\nthe largest"),
            Some("There are 3 files,\nthe largest".into())
        );
        assert_eq!(partial_answer("{\"tool\": \"x\""), None);
        assert_eq!(partial_answer("{\"answer\": \""), None);
    }

    #[test]
    fn long_results_are_clipped_with_a_note() {
        assert_eq!(clip("abcdef", 4), "abcd\n[… 2 more characters not shown]");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(one_line("a \n\n b", 10), "a b");
    }
}
