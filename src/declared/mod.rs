//! Declarative tools: one YAML file in a `tools/` folder is one tool, a command (a fixed
//! program with argv templates) or an HTTP request (a fixed scheme and host with URL, header and
//! body templates). Safe by construction: the program and the host are never templated, each
//! `{param}` fills exactly one argv element or one URL-encoded URL part, input is checked
//! against the declared parameters first, and the run goes through the same execution policy
//! and guarded HTTP client as the built-in tools. This module parses and checks the files and
//! builds what runs; `run` runs it.

pub mod params;
pub mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Map, Value};

use params::{Param, RawParam};
use template::{Template, as_text};

/// The examples shipped in the repository's `tools/` folder, compiled in. A file of the same
/// name in a tools folder replaces one (and may disable it with `enabled: false`).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "git_status.yaml",
        include_str!("../../tools/git_status.yaml"),
    ),
    ("git_log.yaml", include_str!("../../tools/git_log.yaml")),
    ("git_diff.yaml", include_str!("../../tools/git_diff.yaml")),
    ("git_show.yaml", include_str!("../../tools/git_show.yaml")),
    (
        "git_branch.yaml",
        include_str!("../../tools/git_branch.yaml"),
    ),
    ("git_add.yaml", include_str!("../../tools/git_add.yaml")),
    ("git_reset.yaml", include_str!("../../tools/git_reset.yaml")),
    (
        "git_commit.yaml",
        include_str!("../../tools/git_commit.yaml"),
    ),
    (
        "git_create_branch.yaml",
        include_str!("../../tools/git_create_branch.yaml"),
    ),
    (
        "git_checkout.yaml",
        include_str!("../../tools/git_checkout.yaml"),
    ),
    ("weather.yaml", include_str!("../../tools/weather.yaml")),
    (
        "issue_tracker.yaml",
        include_str!("../../tools/issue_tracker.yaml"),
    ),
];

/// The shipped tools as JSON: one line per file of [`BUILT_IN`], `file<TAB>spec`, the spec being
/// what the file's YAML parses to. A start-up reads these (about ten times cheaper than the
/// YAML parser: 7.5 M instructions on the start-up path); the golden test keeps them equal to
/// the YAML files. After editing a file in `tools/`, run `UPDATE_GOLDEN=1 cargo test --lib
/// declared`.
const SHIPPED_JSON: &str = include_str!("shipped.jsonl");

/// [`BUILT_IN`] precomputed: each file's name and its spec as JSON, for [`parse_shipped`].
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    static SPLIT: std::sync::LazyLock<Vec<(&'static str, &'static str)>> =
        std::sync::LazyLock::new(|| {
            SHIPPED_JSON
                .lines()
                .filter_map(|line| line.split_once('\t'))
                .collect()
        });
    &SPLIT
}

/// Parses and checks one shipped tool from its precomputed JSON (see [`shipped`]).
pub fn parse_shipped(json: &str, file: &str) -> Result<DeclaredTool, String> {
    checked(serde_json::from_str(json).map_err(|e| e.to_string())?, file)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Option<String>,
    title: Option<String>,
    description: String,
    /// Words a model may use for the tool's job that the description does not hold; only
    /// `search_tools` reads them.
    #[serde(default)]
    keywords: String,
    kind: RawKind,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    annotations: RawAnnotations,
    #[serde(default)]
    parameters: BTreeMap<String, RawParam>,
    #[serde(default)]
    output: RawOutput,
    // kind: command
    program: Option<String>,
    args: Option<Vec<RawArg>>,
    cwd: Option<String>,
    timeout_secs: Option<u64>,
    env: Option<BTreeMap<String, String>>,
    // kind: http
    method: Option<String>,
    url: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    query: Option<BTreeMap<String, String>>,
    body: Option<String>,
    json: Option<Map<String, Value>>,
    credential: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    Command,
    Http,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnotations {
    #[serde(default)]
    read_only: bool,
    destructive: Option<bool>,
    #[serde(default)]
    idempotent: bool,
    open_world: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    #[serde(default)]
    format: OutputFormat,
    schema: Option<Map<String, Value>>,
    /// What to answer when a command succeeds and prints nothing (why it may be empty).
    empty: Option<String>,
}

/// How the output is returned: `auto` parses JSON when the output is JSON (an HTTP response
/// says so, a command's stdout parses), `json` requires it, `text` never parses.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Auto,
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawArg {
    One(String),
    When(RawWhen),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    /// The group is in when this parameter is given and true (or not empty)…
    when: Option<String>,
    /// …or when this one is absent, false or empty.
    unless: Option<String>,
    args: Vec<String>,
}

/// One checked declarative tool.
#[derive(Debug, Clone)]
pub struct DeclaredTool {
    pub name: String,
    pub enabled: bool,
    pub params: Vec<Param>,
    pub action: Action,
    pub output: OutputFormat,
    pub output_schema: Option<Map<String, Value>>,
    /// `output.empty`: the answer when a command succeeds and prints nothing.
    pub empty_output: Option<String>,
    /// The definition the host sees.
    pub tool: Tool,
    /// Search keywords (`keywords:`), never sent to the host.
    pub keywords: String,
    /// The file it came from, or `built-in:FILE`.
    pub source: String,
}

#[derive(Debug, Clone)]
pub enum Action {
    Command(CommandSpec),
    Http(HttpSpec),
}

#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub program: String,
    args: Vec<ArgSpec>,
    cwd: Option<Template>,
    pub timeout_secs: Option<u64>,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
enum ArgSpec {
    One(Template),
    When {
        param: String,
        /// An `unless:` group: in when the parameter is not.
        negate: bool,
        args: Vec<Template>,
    },
}

#[derive(Debug, Clone)]
pub struct HttpSpec {
    pub method: String,
    url: Template,
    headers: Vec<(String, Template)>,
    query: Vec<(String, Template)>,
    body: Option<Template>,
    json: Option<Map<String, Value>>,
    pub credential: Option<String>,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Parses and checks one tool file. `file` names it in messages and gives the default name.
pub fn parse(text: &str, file: &str) -> Result<DeclaredTool, String> {
    checked(
        serde_norway::from_str(text).map_err(|e| e.to_string())?,
        file,
    )
}

/// Checks a parsed file and builds its tool.
fn checked(raw: RawSpec, file: &str) -> Result<DeclaredTool, String> {
    let name = crate::folders::definition_name(raw.name.clone(), file, "tool")?;
    let description = raw.description.trim().to_owned();
    if description.is_empty() {
        return Err("`description` is empty; say what the tool does, for the model".into());
    }
    let params = raw
        .parameters
        .clone()
        .into_iter()
        .map(|(n, p)| params::declare(&n, p))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = Names::new(&params);
    let is_http = raw.kind == RawKind::Http;
    let misplaced: Vec<&str> = if is_http {
        [
            ("program", raw.program.is_some()),
            ("args", raw.args.is_some()),
            ("cwd", raw.cwd.is_some()),
            ("timeout_secs", raw.timeout_secs.is_some()),
            ("env", raw.env.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    } else {
        [
            ("method", raw.method.is_some()),
            ("url", raw.url.is_some()),
            ("headers", raw.headers.is_some()),
            ("query", raw.query.is_some()),
            ("body", raw.body.is_some()),
            ("json", raw.json.is_some()),
            ("credential", raw.credential.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    };
    if !misplaced.is_empty() {
        return Err(format!(
            "`{}` do(es) not apply to `kind: {}`",
            misplaced.join("`, `"),
            if is_http { "http" } else { "command" }
        ));
    }
    let action = if is_http {
        Action::Http(http_spec(&raw, &scope)?)
    } else {
        Action::Command(command_spec(&raw, &scope)?)
    };
    if raw.output.schema.is_some() && raw.output.format == OutputFormat::Text {
        return Err("`output.schema` needs JSON output (`output.format: json` or `auto`)".into());
    }
    if let Some(s) = &raw.output.schema
        && s.get("type").and_then(Value::as_str) != Some("object")
    {
        return Err("`output.schema` must be an object schema (`type: object`)".into());
    }
    let a = &raw.annotations;
    let mut annotations = ToolAnnotations::new()
        .read_only(a.read_only)
        .destructive(a.destructive.unwrap_or(!a.read_only))
        .idempotent(a.idempotent || a.read_only)
        .open_world(a.open_world.unwrap_or(is_http));
    annotations.title = raw.title.clone();
    let mut tool = Tool::new(
        name.clone(),
        description,
        Arc::new(params::input_schema(&params)),
    )
    .annotate(annotations);
    if let Some(t) = &raw.title {
        tool = tool.with_title(t);
    }
    if let Some(s) = &raw.output.schema {
        tool = tool.with_raw_output_schema(Arc::new(JsonObject::from(s.clone())));
    }
    Ok(DeclaredTool {
        name,
        enabled: raw.enabled,
        params,
        action,
        output: raw.output.format,
        output_schema: raw.output.schema,
        empty_output: raw.output.empty.filter(|e| !e.trim().is_empty()),
        tool,
        keywords: raw.keywords.trim().to_owned(),
        source: String::new(),
    })
}

/// Which parameters a template may use where: those always present (required or defaulted)
/// anywhere; an optional one only inside a `when:` group on itself (commands) or in a query
/// entry or JSON member that is left out without it (HTTP).
struct Names {
    always: BTreeSet<String>,
    all: BTreeMap<String, bool>,
}

impl Names {
    fn new(params: &[Param]) -> Self {
        Self {
            always: params
                .iter()
                .filter(|p| p.required || p.default.is_some())
                .map(|p| p.name.clone())
                .collect(),
            all: params
                .iter()
                .map(|p| (p.name.clone(), p.kind == params::Kind::Array))
                .collect(),
        }
    }

    /// Refuses array parameters in a URL, query or header template (they have no one text).
    fn no_arrays(&self, t: &Template, at: &str) -> Result<(), String> {
        match t.vars().find(|v| self.all.get(*v) == Some(&true)) {
            Some(v) => Err(format!(
                "{at} uses the array `{v}`; arrays can only fill a `json` body member"
            )),
            None => Ok(()),
        }
    }

    /// Checks a template's placeholders; `optional_ok` names the one optional parameter it may
    /// use besides the always-present ones.
    fn check(&self, t: &Template, at: &str, optional_ok: Option<&str>) -> Result<(), String> {
        for v in t.vars() {
            match self.all.get(v) {
                None => {
                    return Err(format!(
                        "{at} uses `{{{v}}}` but `parameters` does not declare `{v}`"
                    ));
                }
                Some(true) if t.only_var().is_none() => {
                    return Err(format!(
                        "{at}: the array `{v}` must stand alone in its element (`\"{{{v}}}\"`), which becomes one argument per item"
                    ));
                }
                _ => {}
            }
            if !self.always.contains(v) && optional_ok != Some(v) {
                return Err(format!(
                    "{at} uses the optional parameter `{v}`, which may be absent: give it a default, make it required, or put it in a `when: {v}` group"
                ));
            }
        }
        Ok(())
    }
}

fn command_spec(raw: &RawSpec, names: &Names) -> Result<CommandSpec, String> {
    let program = raw
        .program
        .clone()
        .filter(|p| !p.trim().is_empty())
        .ok_or("`kind: command` needs `program` (a name on PATH or a path)")?;
    if program.contains('{') {
        return Err("`program` is fixed: it cannot hold a `{placeholder}`".into());
    }
    let mut args = Vec::new();
    for (i, a) in raw.args.clone().unwrap_or_default().into_iter().enumerate() {
        match a {
            RawArg::One(s) => {
                let t = Template::parse(&s)?;
                names.check(&t, &format!("args[{i}]"), None)?;
                args.push(ArgSpec::One(t));
            }
            RawArg::When(w) => {
                let (param, negate) = match (w.when, w.unless) {
                    (Some(p), None) => (p, false),
                    (None, Some(p)) => (p, true),
                    _ => {
                        return Err(format!(
                            "args[{i}]: a group has either `when: param` or `unless: param`"
                        ));
                    }
                };
                let key = if negate { "unless" } else { "when" };
                if !names.all.contains_key(&param) {
                    return Err(format!(
                        "args[{i}]: `{key}: {param}` names no declared parameter"
                    ));
                }
                let mut group = Vec::new();
                for s in &w.args {
                    let t = Template::parse(s)?;
                    // An `unless` group runs when its parameter is absent: it cannot use it.
                    let given = (!negate).then_some(param.as_str());
                    names.check(&t, &format!("args[{i}] ({key} {param})"), given)?;
                    group.push(t);
                }
                args.push(ArgSpec::When {
                    param,
                    negate,
                    args: group,
                });
            }
        }
    }
    let cwd = match &raw.cwd {
        Some(c) => {
            let t = Template::parse(c)?;
            names.check(&t, "cwd", None)?;
            Some(t)
        }
        None => None,
    };
    let env = raw.env.clone().unwrap_or_default();
    for k in env.keys() {
        if !crate::config::is_env_name(k) {
            return Err(format!("env: `{k}` is not a variable name"));
        }
    }
    if raw.timeout_secs == Some(0) {
        return Err("`timeout_secs` must be at least 1".into());
    }
    Ok(CommandSpec {
        program,
        args,
        cwd,
        timeout_secs: raw.timeout_secs,
        env,
    })
}

fn http_spec(raw: &RawSpec, names: &Names) -> Result<HttpSpec, String> {
    let method = raw.method.clone().unwrap_or_else(|| "GET".into());
    let method = method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "`method: {method}` is not one of {}",
            METHODS.join(", ")
        ));
    }
    let url_text = raw.url.clone().ok_or("`kind: http` needs `url`")?;
    let url = Template::parse(&url_text)?;
    names.no_arrays(&url, "url")?;
    names.check(&url, "url", None)?;
    // The scheme and host are fixed: placeholders may only follow the host.
    let prefix = url.fixed_prefix();
    let fixed_host = prefix
        .split_once("://")
        .is_some_and(|(_, rest)| rest.contains(['/', '?', '#']));
    let example = url.render(|_| "x".into(), str::to_owned);
    let parsed = url::Url::parse(&example).map_err(|e| format!("`url`: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("`url` must be http or https".into());
    }
    if url.vars().next().is_some() && !fixed_host {
        return Err(
            "`url`: the scheme and host are fixed; placeholders may only come after the host (in the path or query)".into(),
        );
    }
    let pairs = |m: &Option<BTreeMap<String, String>>, what: &str, optional: bool| {
        m.clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let t = Template::parse(&v)?;
                let at = format!("{what}.{k}");
                // A query entry may use one optional parameter alone: it is left out without it.
                let own = if optional { t.only_var() } else { None };
                names.no_arrays(&t, &at)?;
                names.check(&t, &at, own)?;
                Ok((k, t))
            })
            .collect::<Result<Vec<_>, String>>()
    };
    let headers = pairs(&raw.headers, "headers", false)?;
    for (k, _) in &headers {
        reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("headers: `{k}` is not a header name"))?;
    }
    let query = pairs(&raw.query, "query", true)?;
    if raw.body.is_some() && raw.json.is_some() {
        return Err("give `body` or `json`, not both".into());
    }
    let body = match &raw.body {
        Some(b) => {
            let t = Template::parse(b)?;
            names.check(&t, "body", None)?;
            Some(t)
        }
        None => None,
    };
    if let Some(j) = &raw.json {
        check_json(&Value::Object(j.clone()), names, "json")?;
    }
    Ok(HttpSpec {
        method,
        url,
        headers,
        query,
        body,
        json: raw.json.clone(),
        credential: raw.credential.clone(),
    })
}

fn check_json(v: &Value, names: &Names, at: &str) -> Result<(), String> {
    match v {
        Value::String(s) => {
            let t = Template::parse(s)?;
            names.check(&t, at, t.only_var())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_json(x, names, &format!("{at}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .try_for_each(|(k, x)| check_json(x, names, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

/// Checked input, with `format: path` values replaced by their resolved paths.
pub type Values = BTreeMap<String, Value>;

fn value_text<'a>(values: &'a Values) -> impl Fn(&str) -> String + 'a {
    move |k| values.get(k).map(as_text).unwrap_or_default()
}

/// Whether a `when:` group is in: its parameter is given and true, or given and not empty.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

impl CommandSpec {
    /// The arguments after the program: one element per template, one per item for an array
    /// standing alone. Nothing is split, quoted or expanded.
    pub fn argv(&self, values: &Values) -> Vec<String> {
        let mut out = Vec::new();
        let push = |t: &Template, out: &mut Vec<String>| match t.only_var().map(|v| values.get(v)) {
            Some(Some(Value::Array(items))) => out.extend(items.iter().map(as_text)),
            // Only an array with its default can be absent here (checked at load): no items.
            Some(None) => {}
            _ => out.push(t.render(value_text(values), str::to_owned)),
        };
        for a in &self.args {
            match a {
                ArgSpec::One(t) => push(t, &mut out),
                ArgSpec::When {
                    param,
                    negate,
                    args,
                } => {
                    if truthy(values.get(param)) != *negate {
                        args.iter().for_each(|t| push(t, &mut out));
                    }
                }
            }
        }
        out
    }

    pub fn cwd(&self, values: &Values) -> Option<String> {
        self.cwd
            .as_ref()
            .map(|t| t.render(value_text(values), str::to_owned))
    }
}

/// What an HTTP tool sends, before the guarded client checks and sends it.
#[derive(Debug, PartialEq)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub body: Option<String>,
    pub json: Option<Map<String, Value>>,
}

impl HttpSpec {
    pub fn call(&self, values: &Values) -> HttpCall {
        let text = value_text(values);
        HttpCall {
            method: self.method.clone(),
            url: self.url.render(&text, crate::support::uri::percent_encode),
            headers: self
                .headers
                .iter()
                .map(|(k, t)| (k.clone(), t.render(&text, str::to_owned)))
                .collect(),
            query: self
                .query
                .iter()
                .filter(|(_, t)| t.vars().all(|v| values.contains_key(v)))
                .map(|(k, t)| (k.clone(), t.render(&text, str::to_owned)))
                .collect(),
            body: self.body.as_ref().map(|t| t.render(&text, str::to_owned)),
            json: self
                .json
                .as_ref()
                .map(|j| match fill_json(&Value::Object(j.clone()), values) {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                }),
        }
    }
}

/// Fills a JSON template: a string that is one placeholder becomes the typed value (and an
/// object member whose value is absent is left out); other strings are rendered as text.
fn fill_json(v: &Value, values: &Values) -> Option<Value> {
    match v {
        Value::String(s) => {
            let t = Template::parse(s).ok()?;
            match t.only_var() {
                Some(k) => values.get(k).cloned(),
                None => Some(Value::String(t.render(value_text(values), str::to_owned))),
            }
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|x| fill_json(x, values).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(m) => Some(Value::Object(
            m.iter()
                .filter_map(|(k, x)| Some((k.clone(), fill_json(x, values)?)))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The declared tools of the built-ins and the tools folders.
pub type Registry = crate::folders::Named<DeclaredTool>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Values {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    const LOG: &str = r#"
description: Show commits.
kind: command
program: git
parameters:
  rev: {type: string, default: HEAD}
  n: {type: integer, default: 5}
  paths: {type: array, items: {type: string}, default: []}
  stat: {type: boolean}
args:
  - log
  - "--max-count={n}"
  - {when: stat, args: ["--stat"]}
  - {unless: stat, args: ["--patch"]}
  - "{rev}"
  - "--"
  - "{paths}"
"#;

    #[test]
    fn each_placeholder_fills_one_argument() {
        let t = parse(LOG, "git_log.yaml").unwrap();
        assert_eq!(t.name, "git_log");
        let Action::Command(c) = &t.action else {
            panic!()
        };
        let v = values(json!({"rev": "a b; rm -rf / $(x) 'q\"", "n": 3, "paths": ["x y", "*"]}));
        assert_eq!(
            c.argv(&v),
            [
                "log",
                "--max-count=3",
                "--patch",
                "a b; rm -rf / $(x) 'q\"",
                "--",
                "x y",
                "*"
            ]
        );
        let v = values(json!({"rev": "HEAD", "n": 3, "stat": true}));
        assert_eq!(c.argv(&v), ["log", "--max-count=3", "--stat", "HEAD", "--"]);
        assert_eq!(
            t.tool.annotations.as_ref().unwrap().read_only_hint,
            Some(false)
        );
    }

    #[test]
    fn unsafe_or_unclear_definitions_are_refused() {
        let bad = |extra: &str, why: &str| {
            let text = format!("description: x\n{extra}");
            let e = parse(&text, "t.yaml").unwrap_err();
            assert!(e.contains(why), "{extra}: {e}");
        };
        bad(
            "kind: command\nprogram: '{p}'\nparameters: {p: {type: string, required: true}}",
            "fixed",
        );
        bad(
            "kind: command\nprogram: x\nargs: ['{q}']",
            "does not declare",
        );
        bad(
            "kind: command\nprogram: x\nparameters: {q: {type: string}}\nargs: ['{q}']",
            "when: q",
        );
        bad(
            "kind: command\nprogram: x\nparameters: {q: {type: array, items: {type: string}, default: []}}\nargs: ['-x{q}']",
            "stand alone",
        );
        bad(
            "kind: command\nprogram: x\nurl: http://a/",
            "do(es) not apply",
        );
        bad(
            "kind: http\nurl: 'https://{host}/x'\nparameters: {host: {type: string, required: true}}",
            "host are fixed",
        );
        bad(
            "kind: http\nurl: 'https://a.example{p}/x'\nparameters: {p: {type: string, required: true}}",
            "host are fixed",
        );
        bad(
            "kind: command\nprogram: x\nparameters: {q: {type: boolean}}\nargs: [{when: q, unless: q, args: [a]}]",
            "either `when: param` or `unless: param`",
        );
        // An `unless` group runs when its parameter is absent, so it cannot use it.
        bad(
            "kind: command\nprogram: x\nparameters: {q: {type: string}}\nargs: [{unless: q, args: ['{q}']}]",
            "when: q",
        );
        bad("kind: http\nurl: ftp://a/x", "http or https");
        bad(
            "kind: http\nurl: 'https://a/x/{ids}'\nparameters: {ids: {type: array, items: {type: string}, default: []}}",
            "arrays can only",
        );
        bad("kind: http\nmethod: TRACE\nurl: https://a/", "TRACE");
        bad("kind: sql\nprogram: x", "kind");
        bad("description: y\nkind: command\nprogram: x", "duplicate");
    }

    #[test]
    fn http_values_are_encoded_and_optional_parts_left_out() {
        let t = parse(
            r#"
description: Look something up.
kind: http
method: post
url: "https://api.example.com/v1/items/{id}"
parameters:
  id: {type: string, required: true}
  q: {type: string}
  n: {type: integer, default: 2}
  tag: {type: string}
query: {search: "{q}", limit: "{n}"}
headers: {X-Id: "item {id}"}
json: {count: "{n}", tag: "{tag}", label: "n={n}"}
"#,
            "lookup.yaml",
        )
        .unwrap();
        let Action::Http(h) = &t.action else { panic!() };
        let call = h.call(&values(json!({"id": "../a b?c#d", "n": 2})));
        assert_eq!(call.method, "POST");
        assert_eq!(
            call.url,
            "https://api.example.com/v1/items/..%2Fa%20b%3Fc%23d"
        );
        assert_eq!(call.query.len(), 1);
        assert_eq!(call.query["limit"], "2");
        assert_eq!(call.headers["X-Id"], "item ../a b?c#d");
        assert_eq!(
            Value::Object(call.json.unwrap()),
            json!({"count": 2, "label": "n=2"})
        );
        assert_eq!(
            t.tool.annotations.as_ref().unwrap().open_world_hint,
            Some(true)
        );
    }

    #[test]
    fn shipped_examples_parse() {
        for (file, text) in BUILT_IN {
            parse(text, file).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }

    #[test]
    fn the_precomputed_shipped_tools_are_the_yaml_files() {
        let text: String = BUILT_IN
            .iter()
            .map(|(file, yaml)| {
                let spec: Value = serde_norway::from_str(yaml).unwrap();
                format!("{file}\t{}\n", serde_json::to_string(&spec).unwrap())
            })
            .collect();
        if crate::support::golden(
            "src/declared/shipped.jsonl",
            SHIPPED_JSON,
            &text,
            "after editing a file in tools/, run `UPDATE_GOLDEN=1 cargo test --lib declared`",
        ) {
            return;
        }
        assert_eq!(shipped().len(), BUILT_IN.len());
        for ((file, yaml), (shipped_file, json)) in BUILT_IN.iter().zip(shipped()) {
            assert_eq!(file, shipped_file);
            let (from_yaml, from_json) = (parse(yaml, file), parse_shipped(json, file));
            assert_eq!(
                format!("{from_yaml:?}"),
                format!("{from_json:?}"),
                "{file} builds the same tool from either form"
            );
        }
    }
}
