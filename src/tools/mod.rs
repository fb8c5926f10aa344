//! The tool catalogue. Each category folder holds one file per tool (file name = tool name) and
//! a `mod.rs` that is its registry. A tool file has a plain function holding the logic, which
//! unit tests call directly, and a short `#[tool]` adapter on [`Switchboard`].
//!
//! Errors a model can act on are [`ToolError`]s and come back as `isError: true` results;
//! protocol errors are reserved for unknown tools and real bugs.

pub mod ai;
pub(crate) mod ask;
pub mod browser;
pub mod comms;
pub mod database;
pub mod declared;
pub mod discovery;
pub mod exec;
pub mod files;
pub mod memory;
pub mod proxy;
pub mod system;
pub mod web;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::JsonObject;
use serde_json::Value;

pub use crate::error::{ToolError, blocking};
pub use crate::policy::tools::is_read_only;
use crate::policy::tools::{Category, Toolsets};
use crate::server::Switchboard;

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
    /// `browser.allow_evaluate`: `browser_evaluate` is offered.
    pub evaluate: bool,
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
            evaluate: settings.browser.allow_evaluate,
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
            | usize::from(self.evaluate) << 8
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
            evaluate: true,
        }
    }
}

/// A category's registry: one line per tool, `name => name_router`. It declares the tool's
/// module (`name.rs`), adds it to the category's router and to the built-in table with its
/// category and search keywords; nothing else is maintained by hand.
macro_rules! registry {
    ($category:expr; $($name:ident => $router:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// This category's tools: name, category (for toolsets) and search keywords.
        pub const TOOLS: &[(&str, Option<crate::policy::tools::Category>, &str)] = &[
            $((stringify!($name), $category, $name::KEYWORDS)),*
        ];

        /// Every tool of this category.
        fn registered() -> rmcp::handler::server::router::tool::ToolRouter<crate::server::Switchboard> {
            rmcp::handler::server::router::tool::ToolRouter::new()
                $(+ crate::server::Switchboard::$router())*
        }
    };
}
pub(crate) use registry;

/// Every built-in tool (name, category, search keywords), sorted by name: derived once from the
/// categories' registries.
pub fn built_in_table() -> &'static [(&'static str, Option<Category>, &'static str)] {
    static TABLE: std::sync::OnceLock<Vec<(&str, Option<Category>, &str)>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all: Vec<_> = [
            ai::TOOLS,
            browser::TOOLS,
            comms::TOOLS,
            database::TOOLS,
            discovery::TOOLS,
            exec::TOOLS,
            files::TOOLS,
            memory::TOOLS,
            proxy::TOOLS,
            system::TOOLS,
            web::TOOLS,
        ]
        .concat();
        all.sort_by_key(|(n, _, _)| *n);
        all
    })
}

/// The toolset of the built-in tool `name`.
pub fn category_of(name: &str) -> Option<Category> {
    built_in(name).and_then(|(_, c, _)| *c)
}

pub fn is_built_in(name: &str) -> bool {
    built_in(name).is_some()
}

/// The search keywords of the built-in tool `name` (empty for any other).
pub fn keywords_of(name: &str) -> &'static str {
    built_in(name).map_or("", |(_, _, k)| k)
}

fn built_in(name: &str) -> Option<&'static (&'static str, Option<Category>, &'static str)> {
    let table = built_in_table();
    table
        .binary_search_by(|(n, _, _)| (*n).cmp(name))
        .ok()
        .map(|i| &table[i])
}

/// Every built-in tool `toolsets` offers. With `read_only`, only tools whose `readOnlyHint` is
/// true.
pub fn router(shape: Shape, toolsets: &Toolsets) -> ToolRouter<Switchboard> {
    let mut router = files::router() + system::router() + discovery::router();
    if !shape.read_only {
        // Running programs can change anything, so read-only mode has none of these tools;
        // nor the browser's, as a page's scripts and forms can change things elsewhere.
        router += exec::router();
        router += browser::router(shape.evaluate);
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
    if shape.read_only {
        for name in ["call_tool", "run_workflow"] {
            if let Some(route) = router.map.get_mut(name)
                && let Some(a) = route.attr.annotations.as_mut()
            {
                // In read-only mode every tool it can reach only reads.
                a.read_only_hint = Some(true);
                a.destructive_hint = Some(false);
            }
        }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Category, Shape, Toolsets, built_in_table, category_of, router};

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
        let table: Vec<&str> = built_in_table().iter().map(|(n, _, _)| *n).collect();
        assert!(table.is_sorted(), "the table is searched by halves");
        assert_eq!(names(&Toolsets::everything()), table);
        // Each tool sits in the category whose folder holds its file.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tools");
        for (name, category, _) in built_in_table() {
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
    /// with it): `run_workflow` and `search_tools`' typescript and toolset moved it from
    /// 24,000 (23,958 used) to 24,400 (24,218 used); the browser toolset (14 tools, about
    /// 2,000 tokens) to 26,300 (26,227 used); `read_document` (290 tokens) to 26,600 (26,558
    /// used); the context fields of `ai_agent`, `ai_model_info` and `ai_list_models` to 26,700.
    const FULL_BUDGET: usize = 26_700;
    /// Compact mode's list with the default `tools.always` (list_roots, read_file, edit_file),
    /// whatever the catalogue's size: 717 tokens with list_roots alone before tool search
    /// gained server, example, near-tie and meaning fields; 1,366 then; 1,749 with
    /// `run_workflow` in the core.
    const COMPACT_BUDGET: usize = 1_800;

    #[test]
    fn the_catalogue_stays_within_its_token_budget() {
        use crate::policy::tools::{CORE, DISCOVERY};
        use crate::tools::discovery::list_tokens;
        let all = router(Shape::everything(), &Toolsets::everything()).list_all();
        let pick = |keep: &dyn Fn(&str) -> bool| -> Vec<_> {
            all.iter().filter(|t| keep(&t.name)).cloned().collect()
        };
        let full = pick(&|n| !DISCOVERY.contains(&n));
        let always = crate::config::raw::RawTools::default().always;
        let core = pick(&|n| CORE.contains(&n) || always.iter().any(|a| a == n));
        assert_eq!(core.len(), 6);
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
                "read_document",
                "read_file",
                "read_graph",
                "read_many",
                "read_media",
                "run_workflow",
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
                    } else if *line == "}" {
                        // The end of the struct: what follows is not one of its fields.
                        in_output = false;
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
