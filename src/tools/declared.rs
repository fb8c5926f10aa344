//! The adapter of declarative tools (defined in `declared`): runs one call: the input is checked against its parameters, each
//! `format: path` value is resolved through the path policy, then the command runs under the
//! execution policy (cwd in the roots, cleared environment, limits, sandbox, tree kill) or the
//! request goes through the guarded HTTP client (network policy, named credentials). The
//! output comes back as text, or as structured content when it is a JSON object.

use rmcp::RoleServer;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use serde_json::{Map, Value};

use crate::declared::params::{Format, Param};
use crate::declared::{Action, CommandSpec, DeclaredTool, HttpSpec, OutputFormat, Values};
use crate::error::reason;
use crate::exec::{exit_parts, program_argv};
use crate::policy::FileScope;
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::tools::ToolError;
use crate::tools::exec::run_plan;

/// Runs `tool` with `args`; every failure is a tool error result written for the model.
pub async fn call(
    sb: &Switchboard,
    tool: &DeclaredTool,
    args: Option<Map<String, Value>>,
    ctx: &RequestContext<RoleServer>,
) -> CallToolResult {
    match run(sb, tool, args.unwrap_or_default(), ctx).await {
        Ok(r) => r,
        Err(e) => crate::mcp::failure_result(e.code(), e.to_string()),
    }
}

async fn run(
    sb: &Switchboard,
    tool: &DeclaredTool,
    args: Map<String, Value>,
    ctx: &RequestContext<RoleServer>,
) -> Result<CallToolResult, ToolError> {
    let mut values = crate::declared::params::check_input(&tool.params, args).map_err(|e| {
        ToolError::invalid(format!(
            "{e}. Nothing was run; see the tool's input schema for its arguments."
        ))
    })?;
    if tool.params.iter().any(takes_paths) {
        let scope = sb.file_scope(ctx).await;
        let params = tool.params.clone();
        values = crate::tools::blocking(move || {
            resolve_paths(&scope, &params, &mut values)?;
            Ok(values)
        })
        .await?;
    }
    let cap = sb.settings.tools.max_output_bytes;
    match &tool.action {
        Action::Command(c) => command(sb, ctx, tool, c, &values, cap).await,
        Action::Http(h) => http(sb, tool, h, &values, cap).await,
    }
}

fn takes_paths(p: &Param) -> bool {
    p.format == Some(Format::Path) || p.items.as_ref().is_some_and(|i| takes_paths(i))
}

/// Replaces each `format: path` value by the resolved path inside the roots (it may not exist
/// yet: a deleted file can still be named).
fn resolve_paths(
    scope: &FileScope,
    params: &[Param],
    values: &mut Values,
) -> Result<(), ToolError> {
    let one = |v: &mut Value| -> Result<(), ToolError> {
        if let Value::String(s) = v {
            *s = scope.inside(s)?.path.display().to_string();
        }
        Ok(())
    };
    for p in params.iter().filter(|p| takes_paths(p)) {
        match values.get_mut(&p.name) {
            Some(Value::Array(items)) => items.iter_mut().try_for_each(one)?,
            Some(v) => one(v)?,
            None => {}
        }
    }
    Ok(())
}

async fn command(
    sb: &Switchboard,
    ctx: &RequestContext<RoleServer>,
    tool: &DeclaredTool,
    c: &CommandSpec,
    values: &Values,
    cap: usize,
) -> Result<CallToolResult, ToolError> {
    let req = ExecRequest {
        cwd: c.cwd(values),
        env: c.env.clone(),
        timeout_secs: c.timeout_secs,
        ..ExecRequest::default()
    };
    let scope = sb.file_scope(ctx).await;
    let mut plan = sb.exec.plan(&scope, req).await?;
    let argv = program_argv(&mut plan, &c.program, c.argv(values)).map_err(|e| {
        ToolError::invalid(format!(
            "{e}. The tool `{}` needs `{}` installed ({}).",
            tool.name, c.program, tool.source
        ))
    })?;
    let (outcome, review) = run_plan(sb, ctx, &mut plan, argv, None).await?;
    if outcome.timed_out {
        return Err(ToolError::invalid(format!(
            "`{}` timed out after {} s and was stopped; narrow the call (fewer paths, a smaller count)",
            tool.name,
            plan.timeout.as_secs()
        )));
    }
    let (code, signal) = exit_parts(outcome.exit);
    let stdout = outcome.stdout.text;
    if code != Some(0) {
        let how = match (code, signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "no exit status".to_owned(),
        };
        let mut msg = format!("`{}` failed ({how})", tool.name);
        for (name, text) in [("stderr", &outcome.stderr.text), ("stdout", &stdout)] {
            if !text.trim().is_empty() {
                msg.push_str(&format!("\n{name}:\n{}", cut(text.trim(), cap / 2).0));
            }
        }
        for note in &review {
            msg.push_str(&format!("\nnote: {note}"));
        }
        return Ok(crate::mcp::failure_result(reason::COMMAND_FAILED, msg));
    }
    if stdout.trim().is_empty()
        && let Some(note) = &tool.empty_output
    {
        return Ok(CallToolResult::success(vec![ContentBlock::text(
            note.clone(),
        )]));
    }
    let cut_note = (outcome.stdout.dropped_bytes > 0).then(|| {
        "the output was longer than exec.max_output_bytes; its first and last parts are shown"
            .to_owned()
    });
    let cut_note = cut_note
        .into_iter()
        .chain(review)
        .reduce(|a, b| format!("{a}; {b}"));
    let json = match tool.output {
        OutputFormat::Text => None,
        _ => serde_json::from_str::<Value>(stdout.trim())
            .ok()
            .filter(|v| v.is_object() || v.is_array()),
    };
    if json.is_none() && tool.output == OutputFormat::Json {
        return Err(ToolError::invalid(format!(
            "`{}` should print JSON but printed: {}",
            tool.name,
            cut(stdout.trim(), 500).0
        )));
    }
    shape(tool, json, stdout, cap, cut_note)
}

async fn http(
    sb: &Switchboard,
    tool: &DeclaredTool,
    h: &HttpSpec,
    values: &Values,
    cap: usize,
) -> Result<CallToolResult, ToolError> {
    use crate::tools::web::http_request::{HttpRequestArgs, http_request};
    let call = h.call(values);
    let args = HttpRequestArgs {
        url: call.url,
        method: serde_json::from_value(Value::String(call.method))
            .map_err(|e| ToolError::Internal(e.to_string()))?,
        headers: call.headers,
        query: call.query,
        body: call.body,
        json: call.json,
        credential: h.credential.clone(),
        max_length: Some(cap),
        start_index: 0,
    };
    let net = sb.net()?;
    let resp = http_request(&net, &sb.settings.web.credentials, args).await?;
    let text = match (&resp.text, &resp.json, &resp.base64) {
        (Some(t), _, _) => t.clone(),
        (_, Some(j), _) => serde_json::to_string_pretty(j).unwrap_or_default(),
        (_, _, Some(_)) => format!(
            "(a binary body of {} bytes; use download_file for binary responses)",
            resp.bytes
        ),
        _ => String::new(),
    };
    if resp.status >= 400 {
        return Ok(crate::mcp::failure_result(
            reason::UPSTREAM_FAILED,
            format!(
                "`{}`: HTTP {} from {}\n{}",
                tool.name,
                resp.status,
                resp.url,
                cut(&text, cap / 2).0
            ),
        ));
    }
    let note = resp.next_start_index.map(|at| {
        format!("the response was cut at {at} bytes (tools.max_output_bytes); narrow the call")
    });
    let json = match tool.output {
        OutputFormat::Text => None,
        _ => resp.json,
    };
    if json.is_none() && tool.output == OutputFormat::Json {
        return Err(ToolError::invalid(format!(
            "`{}` expected a JSON response but got {} ({} bytes): {}",
            tool.name,
            resp.headers
                .get("content-type")
                .map(String::as_str)
                .unwrap_or("no content type"),
            resp.bytes,
            cut(&text, 500).0
        )));
    }
    shape(tool, json, text, cap, note)
}

/// The result: a JSON object as structured content; anything else as text, cut to `cap`.
fn shape(
    tool: &DeclaredTool,
    json: Option<Value>,
    text: String,
    cap: usize,
    note: Option<String>,
) -> Result<CallToolResult, ToolError> {
    match json {
        Some(v @ Value::Object(_)) => Ok(CallToolResult::structured(v)),
        _ if tool.output_schema.is_some() => Err(ToolError::invalid(format!(
            "`{}` declares an output schema but its output is not a JSON object",
            tool.name
        ))),
        Some(v) => Ok(text_result(
            serde_json::to_string_pretty(&v).unwrap_or_default(),
            cap,
            note,
        )),
        None => Ok(text_result(text, cap, note)),
    }
}

fn text_result(text: String, cap: usize, note: Option<String>) -> CallToolResult {
    let (body, was_cut) = cut(&text, cap);
    let mut out = if body.trim().is_empty() {
        "(no output)".to_owned()
    } else {
        body.to_owned()
    };
    if was_cut {
        out.push_str(&format!(
            "\n[output cut at {cap} bytes of {} (tools.max_output_bytes); narrow the call to see the rest]",
            text.len()
        ));
    }
    if let Some(n) = note {
        out.push_str(&format!("\n[{n}]"));
    }
    CallToolResult::success(vec![ContentBlock::text(out)])
}

/// `text` cut to at most `max` bytes on a character boundary, and whether it was cut.
fn cut(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let end = crate::support::text::floor_char_boundary(text, max);
    (&text[..end], true)
}
