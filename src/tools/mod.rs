//! The tool catalogue. Each category folder holds one file per tool (file name = tool name) and
//! a `mod.rs` that is its registry. A tool file has a plain function holding the logic, which
//! unit tests call directly, and a short `#[tool]` adapter on [`Switchboard`].
//!
//! Errors a model can act on are [`ToolError`]s and come back as `isError: true` results;
//! protocol errors are reserved for unknown tools and real bugs.

pub mod ai;
pub(crate) mod ask;
pub mod browser;
pub mod catalogue;
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

use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};

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

/// One built-in tool as its category's registry declares it.
#[derive(Clone, Copy)]
pub struct BuiltIn {
    pub name: &'static str,
    /// Its toolset (`None`: the discovery tools, always offered).
    pub category: Option<Category>,
    /// Words a model uses for its job beyond its description: `search_tools` matches them.
    pub keywords: &'static str,
    /// Its route: the definition given (the precomputed catalogue's) and its handler.
    pub route: fn(rmcp::model::Tool) -> ToolRoute<Switchboard>,
}

/// A category's registry: one line per tool, `name => name_router`. It declares the tool's
/// module (`name.rs`) and adds it to the built-in table with its category, search keywords and
/// handler; nothing else is maintained by hand. Its definition (description, schemas,
/// annotations) comes from the precomputed catalogue, which the golden test keeps equal to the
/// one `name_router` generates (see [`catalogue`]).
macro_rules! registry {
    ($category:expr; $($name:ident => $router:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// This category's tools.
        pub const TOOLS: &[crate::tools::BuiltIn] = &[
            $(crate::tools::BuiltIn {
                name: stringify!($name),
                category: $category,
                keywords: $name::KEYWORDS,
                route: |tool| {
                    rmcp::handler::server::router::tool::ToolRoute::new(
                        tool,
                        crate::server::Switchboard::$name,
                    )
                },
            }),*
        ];

        /// Every tool of this category as the code generates it (the precomputed catalogue's
        /// source).
        #[cfg(test)]
        pub(crate) fn generated() -> rmcp::handler::server::router::tool::ToolRouter<crate::server::Switchboard> {
            rmcp::handler::server::router::tool::ToolRouter::new()
                $(+ crate::server::Switchboard::$router())*
        }
    };
}
pub(crate) use registry;

/// Every built-in tool, sorted by name: derived once from the categories' registries.
pub fn built_in_table() -> &'static [BuiltIn] {
    static TABLE: std::sync::OnceLock<Vec<BuiltIn>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all: Vec<BuiltIn> = [
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
        all.sort_by_key(|t| t.name);
        all
    })
}

/// The toolset of the built-in tool `name`.
pub fn category_of(name: &str) -> Option<Category> {
    built_in(name).and_then(|t| t.category)
}

pub fn is_built_in(name: &str) -> bool {
    built_in(name).is_some()
}

/// The search keywords of the built-in tool `name` (empty for any other).
pub fn keywords_of(name: &str) -> &'static str {
    built_in(name).map_or("", |t| t.keywords)
}

pub(crate) fn built_in(name: &str) -> Option<&'static BuiltIn> {
    let table = built_in_table();
    table
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &table[i])
}

/// Every built-in tool `toolsets` offers in this shape, with its route. With `read_only`,
/// only tools whose `readOnlyHint` is true.
pub fn router(shape: Shape, toolsets: &Toolsets) -> ToolRouter<Switchboard> {
    routes(&catalogue::list(shape, toolsets))
}

/// The routes of the built-in tools among `tools`, each with its definition.
pub fn routes(tools: &[rmcp::model::Tool]) -> ToolRouter<Switchboard> {
    let mut router = ToolRouter::new();
    for tool in tools {
        if let Some(b) = built_in(&tool.name) {
            // Not `add_route`: its name check builds a set of characters per tool (2 M
            // instructions at start-up), and our names are Rust identifiers.
            router
                .map
                .insert(tool.name.clone(), (b.route)(tool.clone()));
        }
    }
    router
}

#[cfg(test)]
mod tests {
    use super::{BuiltIn, Category, Shape, Toolsets, built_in_table, category_of, router};

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
        let table: Vec<&str> = built_in_table().iter().map(|t| t.name).collect();
        assert!(table.is_sorted(), "the table is searched by halves");
        assert_eq!(names(&Toolsets::everything()), table);
        // Each tool sits in the category whose folder holds its file.
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tools");
        for BuiltIn { name, category, .. } in built_in_table() {
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
}
