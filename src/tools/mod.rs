//! The tool catalogue. Each category folder holds one file per tool (file name = tool name) and
//! a `mod.rs` that is its registry. A tool file has a plain function holding the logic, which
//! unit tests call directly, and a short `#[tool]` adapter on [`Switchboard`].
//!
//! Errors a model can act on are [`ToolError`]s and come back as `isError: true` results;
//! protocol errors are reserved for unknown tools and real bugs.

pub mod ai;
pub mod comms;
pub mod database;
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

/// The name of every built-in tool in any configuration, so a declarative tool can be refused
/// one without building a router (the test below keeps the list true).
pub const BUILT_IN_NAMES: &[&str] = &[
    "add_observations",
    "ai_agent",
    "ai_chat",
    "ai_embed",
    "ai_generate",
    "ai_health",
    "ai_list_models",
    "ai_model_info",
    "ai_pull_model",
    "comms_outbox",
    "convert_time",
    "copy_path",
    "create_directory",
    "create_entities",
    "create_relations",
    "current_time",
    "db_connections",
    "db_describe",
    "db_execute",
    "db_export_csv",
    "db_query",
    "db_tables",
    "delete_entities",
    "delete_observations",
    "delete_path",
    "delete_relations",
    "directory_tree",
    "download_file",
    "edit_file",
    "fetch_url",
    "file_info",
    "find_files",
    "get_environment",
    "http_request",
    "install_package",
    "kill_process",
    "list_directory",
    "list_processes",
    "list_roots",
    "memory_delete",
    "memory_get",
    "memory_list",
    "memory_save",
    "memory_search",
    "memory_update",
    "move_path",
    "notify_desktop",
    "open_nodes",
    "process_kill",
    "process_list",
    "process_read",
    "process_start",
    "process_wait",
    "process_write",
    "proxy_approve",
    "proxy_restart",
    "proxy_status",
    "read_file",
    "read_graph",
    "read_many",
    "read_media",
    "run_code",
    "run_command",
    "run_shell",
    "search_content",
    "search_nodes",
    "send_email",
    "send_push",
    "send_webhook",
    "system_info",
    "web_search",
    "which",
    "write_file",
];

/// Every built-in tool, by category. With `read_only`, only tools whose `readOnlyHint` is true.
pub fn router(shape: Shape) -> ToolRouter<Switchboard> {
    let mut router = files::router() + system::router();
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
    let read_only = shape.read_only;
    for route in router.map.values_mut() {
        let attr = &mut route.attr;
        attr.input_schema = std::sync::Arc::new(portable(attr.input_schema.as_ref().clone()));
        if let Some(out) = &attr.output_schema {
            attr.output_schema = Some(std::sync::Arc::new(portable(out.as_ref().clone())));
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
fn portable(schema: JsonObject) -> JsonObject {
    let mut v = Value::Object(schema);
    strip_null(&mut v);
    match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

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
            if o.get("default") == Some(&Value::Null) {
                o.remove("default");
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

    /// Output schemas say an optional field is absent, never null (see `portable`), so every
    /// `Option` in a result struct must be skipped when empty. Checked over the sources, so a
    /// new tool cannot forget it.
    #[test]
    fn built_in_names_are_every_registered_tool() {
        let mut names: Vec<String> = super::router(super::Shape::everything())
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        assert_eq!(names, super::BUILT_IN_NAMES);
    }

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
        let schema = json!({"type": "object", "properties": {
            "a": {"type": ["integer", "null"], "default": null},
            "b": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "description": "d"},
        }});
        let out = super::portable(schema.as_object().unwrap().clone());
        assert_eq!(
            serde_json::Value::Object(out),
            json!({"type": "object", "properties": {
                "a": {"type": "integer"},
                "b": {"$ref": "#/$defs/Mode", "description": "d"},
            }})
        );
    }
}
