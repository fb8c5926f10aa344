//! The tool catalogue. Each category folder holds one file per tool (file name = tool name) and
//! a `mod.rs` that is its registry. A tool file has a plain function holding the logic, which
//! unit tests call directly, and a short `#[tool]` adapter on [`Switchboard`].
//!
//! Errors a model can act on are [`ToolError`]s and come back as `isError: true` results;
//! protocol errors are reserved for unknown tools and real bugs.

pub mod ai;
pub mod comms;
pub mod database;
pub mod discovery;
pub mod exec;
pub mod files;
pub mod memory;
pub mod proxy;
pub mod system;
pub mod web;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{ContentBlock, IntoContents, JsonObject, Tool};
use serde_json::Value;

use crate::policy::PolicyError;
use crate::policy::tools::{Category, Toolsets};
use crate::server::Switchboard;

/// A tool failure, worded for the model: what went wrong and how to change the call.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Invalid(String),
    #[error("`{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.to_string())]
    }
}

/// Runs blocking work (file system, CPU) off the single-threaded runtime, so pings and
/// cancellations keep flowing while it runs.
pub async fn blocking<T, F>(f: F) -> Result<T, ToolError>
where
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::Internal(format!("a worker task failed: {e}")))?
}

/// What decides which tools are registered: `--read-only` and the exec switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub read_only: bool,
    pub shell: bool,
    pub packages: bool,
    /// A servers file is configured: the proxy tools are registered.
    pub proxy: bool,
    /// `ai.agent.allow` names tools (and not read-only mode): `ai_agent` may change things.
    pub agent_writes: bool,
    /// Which sending tools have something configured to send to.
    pub comms: comms::Configured,
}

impl Shape {
    pub fn of(settings: &crate::config::Settings) -> Self {
        Self {
            read_only: settings.read_only,
            shell: settings.exec.shell.is_some(),
            packages: settings.exec.packages_enabled,
            proxy: settings.proxy.servers_config.is_some(),
            agent_writes: !settings.read_only && !settings.ai.agent.allow.is_empty(),
            comms: comms::Configured {
                email: !settings.comms.accounts.is_empty(),
                webhooks: !settings.comms.webhooks.is_empty(),
                ntfy: settings.comms.ntfy.is_some(),
            },
        }
    }

    /// A small number, so a process can keep one catalogue per shape.
    pub fn index(self) -> usize {
        usize::from(self.read_only)
            | usize::from(self.shell) << 1
            | usize::from(self.packages) << 2
            | usize::from(self.proxy) << 3
            | usize::from(self.agent_writes) << 4
            | usize::from(self.comms.email) << 5
            | usize::from(self.comms.webhooks) << 6
            | usize::from(self.comms.ntfy) << 7
    }
}

impl Shape {
    /// Every tool registered: what the README documents.
    pub fn everything() -> Self {
        Self {
            read_only: false,
            shell: true,
            packages: true,
            proxy: true,
            agent_writes: true,
            comms: comms::Configured {
                email: true,
                webhooks: true,
                ntfy: true,
            },
        }
    }
}

/// Every built-in tool in any configuration and its toolset (`None`: the discovery tools, which
/// toolsets do not filter), so a declarative tool can be refused a built-in name and a name
/// found its category without building a router (the tests below keep the table true).
pub const BUILT_IN: &[(&str, Option<Category>)] = &[
    ("add_observations", Some(Category::Memory)),
    ("ai_agent", Some(Category::Ai)),
    ("ai_chat", Some(Category::Ai)),
    ("ai_embed", Some(Category::Ai)),
    ("ai_generate", Some(Category::Ai)),
    ("ai_health", Some(Category::Ai)),
    ("ai_list_models", Some(Category::Ai)),
    ("ai_model_info", Some(Category::Ai)),
    ("ai_pull_model", Some(Category::Ai)),
    ("call_tool", None),
    ("comms_outbox", Some(Category::Comms)),
    ("convert_time", Some(Category::System)),
    ("copy_path", Some(Category::Files)),
    ("create_directory", Some(Category::Files)),
    ("create_entities", Some(Category::Memory)),
    ("create_relations", Some(Category::Memory)),
    ("current_time", Some(Category::System)),
    ("db_connections", Some(Category::Database)),
    ("db_describe", Some(Category::Database)),
    ("db_execute", Some(Category::Database)),
    ("db_export_csv", Some(Category::Database)),
    ("db_query", Some(Category::Database)),
    ("db_tables", Some(Category::Database)),
    ("delete_entities", Some(Category::Memory)),
    ("delete_observations", Some(Category::Memory)),
    ("delete_path", Some(Category::Files)),
    ("delete_relations", Some(Category::Memory)),
    ("directory_tree", Some(Category::Files)),
    ("download_file", Some(Category::Web)),
    ("edit_file", Some(Category::Files)),
    ("fetch_url", Some(Category::Web)),
    ("file_info", Some(Category::Files)),
    ("find_files", Some(Category::Files)),
    ("get_environment", Some(Category::System)),
    ("http_request", Some(Category::Web)),
    ("install_package", Some(Category::Exec)),
    ("kill_process", Some(Category::System)),
    ("list_directory", Some(Category::Files)),
    ("list_processes", Some(Category::System)),
    ("list_roots", Some(Category::Files)),
    ("memory_delete", Some(Category::Memory)),
    ("memory_get", Some(Category::Memory)),
    ("memory_list", Some(Category::Memory)),
    ("memory_save", Some(Category::Memory)),
    ("memory_search", Some(Category::Memory)),
    ("memory_update", Some(Category::Memory)),
    ("move_path", Some(Category::Files)),
    ("notify_desktop", Some(Category::Comms)),
    ("open_nodes", Some(Category::Memory)),
    ("process_kill", Some(Category::Exec)),
    ("process_list", Some(Category::Exec)),
    ("process_read", Some(Category::Exec)),
    ("process_start", Some(Category::Exec)),
    ("process_wait", Some(Category::Exec)),
    ("process_write", Some(Category::Exec)),
    ("proxy_approve", Some(Category::Proxy)),
    ("proxy_restart", Some(Category::Proxy)),
    ("proxy_status", Some(Category::Proxy)),
    ("read_file", Some(Category::Files)),
    ("read_graph", Some(Category::Memory)),
    ("read_many", Some(Category::Files)),
    ("read_media", Some(Category::Files)),
    ("run_code", Some(Category::Exec)),
    ("run_command", Some(Category::Exec)),
    ("run_shell", Some(Category::Exec)),
    ("search_content", Some(Category::Files)),
    ("search_nodes", Some(Category::Memory)),
    ("search_tools", None),
    ("send_email", Some(Category::Comms)),
    ("send_push", Some(Category::Comms)),
    ("send_webhook", Some(Category::Comms)),
    ("system_info", Some(Category::System)),
    ("web_search", Some(Category::Web)),
    ("which", Some(Category::System)),
    ("write_file", Some(Category::Files)),
];

/// The toolset of the built-in tool `name`.
pub fn category_of(name: &str) -> Option<Category> {
    BUILT_IN
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .and_then(|i| BUILT_IN[i].1)
}

pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.binary_search_by(|(n, _)| (*n).cmp(name)).is_ok()
}

/// Every built-in tool `toolsets` offers. With `read_only`, only tools whose `readOnlyHint` is
/// true.
pub fn router(shape: Shape, toolsets: &Toolsets) -> ToolRouter<Switchboard> {
    let mut router = files::router() + system::router() + discovery::router();
    if !shape.read_only {
        // Running programs can change anything, so read-only mode has none of these tools.
        router += exec::router();
    }
    // In read-only mode only web_search stays: the filter below drops http_request (a request
    // can change things elsewhere) and download_file.
    router += web::router();
    router += ai::router();
    router += memory::router();
    router += database::router();
    router += comms::router(shape.comms);
    if !shape.shell {
        router.remove_route("run_shell");
    }
    if !shape.packages {
        router.remove_route("install_package");
    }
    if shape.proxy {
        router += proxy::router();
    }
    if !shape.agent_writes
        && let Some(route) = router.map.get_mut("ai_agent")
        && let Some(a) = route.attr.annotations.as_mut()
    {
        // The agent can only read: say so, and keep it in read-only mode.
        a.read_only_hint = Some(true);
    }
    router.map.retain(|name, _| match category_of(name) {
        Some(category) => toolsets.admits(name, category),
        None => true,
    });
    if shape.read_only
        && let Some(route) = router.map.get_mut("call_tool")
        && let Some(a) = route.attr.annotations.as_mut()
    {
        // In read-only mode every tool it can reach only reads.
        a.read_only_hint = Some(true);
        a.destructive_hint = Some(false);
    }
    let read_only = shape.read_only;
    for route in router.map.values_mut() {
        let attr = &mut route.attr;
        attr.input_schema = std::sync::Arc::new(portable(attr.input_schema.as_ref().clone()));
        if let Some(out) = &attr.output_schema {
            let mut out = Value::Object(portable(out.as_ref().clone()));
            // A count in a result is never negative; saying so costs context and tells nothing.
            drop_zero_minimum(&mut out);
            if let Value::Object(o) = out {
                attr.output_schema = Some(std::sync::Arc::new(o));
            }
        }
    }
    if read_only {
        let writers: Vec<String> = router
            .list_all()
            .into_iter()
            .filter(|t| !is_read_only(t))
            .map(|t| t.name.to_string())
            .collect();
        for name in writers {
            router.remove_route(&name);
        }
    }
    router
}

/// Rewrites a generated schema into the portable subset every host and model provider accepts:
/// an optional field is simply optional (absent), never `type: [T, "null"]` or an `anyOf` with
/// a null branch, and no `default: null`. Our arguments are never sent as null, and results
/// leave absent fields out.
///
/// It also drops what costs a model's context and tells it nothing: the `$schema` line, the
/// generator's numeric formats (`uint64`, `double`: `type` and `minimum` say it) and defaults
/// that are the empty value (`false`, `[]`, `""`), which an absent argument means anyway.
fn portable(schema: JsonObject) -> JsonObject {
    let mut v = Value::Object(schema);
    if let Value::Object(o) = &mut v {
        o.remove("$schema");
    }
    strip_null(&mut v);
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

/// Removes `minimum: 0` from integer fields (unsigned counts, sizes and times).
fn drop_zero_minimum(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("type") == Some(&Value::String("integer".into()))
                && o.get("minimum").and_then(Value::as_u64) == Some(0)
            {
                o.remove("minimum");
            }
            o.values_mut().for_each(drop_zero_minimum);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_zero_minimum),
        _ => {}
    }
}

/// The integer and float widths the schema generator writes as `format`; not JSON Schema
/// formats, and no validator or model uses them.
const NUMERIC_FORMATS: &[&str] = &[
    "int", "int8", "int16", "int32", "int64", "int128", "uint", "uint8", "uint16", "uint32",
    "uint64", "uint128", "float", "double",
];

fn strip_null(v: &mut Value) {
    match v {
        Value::Object(o) => {
            // `[T, "null"]` (or two `anyOf` branches) is how an `Option<T>` comes out; a
            // longer list that includes null (a database cell) means it.
            if let Some(Value::Array(types)) = o.get("type")
                && types.len() == 2
            {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                o.insert(
                    "type".into(),
                    if kept.len() == 1 {
                        kept[0].clone()
                    } else {
                        Value::Array(kept)
                    },
                );
            }
            if let Some(d) = o.get("default")
                && (d.is_null()
                    || d == &Value::Bool(false)
                    || d.as_array().is_some_and(Vec::is_empty)
                    || d.as_str() == Some(""))
            {
                o.remove("default");
            }
            if let Some(Value::String(f)) = o.get("format")
                && NUMERIC_FORMATS.contains(&f.as_str())
            {
                o.remove("format");
            }
            if let Some(Value::Array(any)) = o.get_mut("anyOf")
                && any.len() == 2
            {
                any.retain(|b| b.get("type") != Some(&Value::String("null".into())));
                if any.len() == 1 {
                    let only = any.remove(0);
                    o.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, val) in inner {
                            o.entry(k).or_insert(val);
                        }
                    }
                }
            }
            for child in o.values_mut() {
                strip_null(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

pub fn is_read_only(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{BUILT_IN, Category, Shape, Toolsets, category_of, router};

    fn names(toolsets: &Toolsets) -> Vec<String> {
        let mut names: Vec<String> = router(Shape::everything(), toolsets)
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_built_in_table_is_every_registered_tool_with_its_category() {
        let table: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        assert!(
            table.is_sorted(),
            "keep BUILT_IN sorted: it is searched by halves"
        );
        assert_eq!(names(&Toolsets::everything()), table);
        // Each tool sits in the category whose folder holds its file.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tools");
        for (name, category) in BUILT_IN {
            let folder = category.map_or("discovery", Category::name);
            assert!(
                src.join(folder).join(format!("{name}.rs")).is_file(),
                "{name} is not in src/tools/{folder}/"
            );
        }
    }

    /// What a full `tools/list` of every built-in tool may cost a model's context (cl100k
    /// tokens). Measured before the descriptions and schemas were cut: 28,571 (73 tools);
    /// after: 23,764. A new tool has to fit, or the budget moves on purpose (and the README
    /// with it).
    const FULL_BUDGET: usize = 24_000;
    /// Compact mode's list, whatever the catalogue's size.
    const COMPACT_BUDGET: usize = 1_000;

    #[test]
    fn the_catalogue_stays_within_its_token_budget() {
        use crate::policy::tools::DISCOVERY;
        use crate::tools::discovery::list_tokens;
        let all = router(Shape::everything(), &Toolsets::everything()).list_all();
        let pick = |keep: &dyn Fn(&str) -> bool| -> Vec<_> {
            all.iter().filter(|t| keep(&t.name)).cloned().collect()
        };
        let full = pick(&|n| !DISCOVERY.contains(&n));
        let core = pick(&|n| DISCOVERY.contains(&n) || n == "list_roots");
        let full_tokens = list_tokens(&full);
        eprintln!("full: {full_tokens} tokens, {} tools", full.len());
        assert!(
            full_tokens <= FULL_BUDGET,
            "the full catalogue costs {full_tokens} tokens, over its budget of {FULL_BUDGET}: \
             shorten descriptions (what it does, when to use it, what it returns)"
        );
        let compact = list_tokens(&core);
        eprintln!("compact: {compact} tokens, {} tools", core.len());
        assert!(
            compact < COMPACT_BUDGET,
            "compact mode costs {compact} tokens"
        );
    }

    #[test]
    fn toolsets_leave_out_whole_categories_and_denied_names() {
        let globs = |p: &[&str]| {
            crate::policy::tools::NameGlobs::new(
                &p.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let only = names(&Toolsets::new(
            &[Category::Web],
            globs(&["read_*"]),
            globs(&["download_file"]),
        ));
        assert_eq!(
            only,
            [
                "call_tool",
                "fetch_url",
                "http_request",
                "read_file",
                "read_graph",
                "read_many",
                "read_media",
                "search_tools",
                "web_search"
            ]
        );
        assert_eq!(category_of("read_file"), Some(Category::Files));
        assert_eq!(category_of("call_tool"), None);
        assert_eq!(category_of("git_log"), None);
    }

    /// Output schemas say an optional field is absent, never null (see `portable`), so every
    /// `Option` in a result struct must be skipped when empty. Checked over the sources, so a
    /// new tool cannot forget it.
    #[test]
    fn optional_result_fields_are_skipped_when_empty() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tools");
        let mut bad = Vec::new();
        for category in std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
        {
            for file in std::fs::read_dir(category.path()).unwrap().flatten() {
                let text = std::fs::read_to_string(file.path()).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                let mut in_output = false;
                for (i, line) in lines.iter().enumerate() {
                    if line.starts_with("#[derive(") {
                        in_output = line.contains("Serialize") && !line.contains("Deserialize");
                    }
                    let field = line.trim_start();
                    if in_output && field.starts_with("pub ") && field.contains(": Option<") {
                        let above = lines[i.saturating_sub(3)..i].join(" ");
                        if !above.contains("skip_serializing_if") {
                            bad.push(format!("{}:{}", file.path().display(), i + 1));
                        }
                    }
                }
            }
        }
        assert!(bad.is_empty(), "Option fields serialised as null: {bad:?}");
    }

    #[test]
    fn nullable_fields_become_plain_optional_ones() {
        let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {
            "a": {"type": ["integer", "null"], "default": null, "format": "uint64", "minimum": 0},
            "b": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "description": "d"},
            "c": {"type": "boolean", "default": false},
            "d": {"type": "array", "default": [], "items": {"type": "string", "format": "uri"}},
            "e": {"type": "integer", "default": 0},
            "format": {"type": "string", "default": "csv"},
        }});
        let out = super::portable(schema.as_object().unwrap().clone());
        assert_eq!(
            serde_json::Value::Object(out),
            json!({"type": "object", "properties": {
                "a": {"type": "integer", "minimum": 0},
                "b": {"$ref": "#/$defs/Mode", "description": "d"},
                "c": {"type": "boolean"},
                "d": {"type": "array", "items": {"type": "string", "format": "uri"}},
                "e": {"type": "integer", "default": 0},
                "format": {"type": "string", "default": "csv"},
            }})
        );
    }
}
