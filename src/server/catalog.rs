//! The tool catalogue: the built-in router built once per configuration, what a session offers
//! (built-in, declarative, child tools) and what `tools/list` shows of it (full or compact), and
//! why a name is not offered.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use rmcp::RoleServer;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::*;
use rmcp::service::RequestContext;

use super::Switchboard;
use crate::config::Settings;
use crate::folders::Folders;
use crate::policy::tools::{Category, DISCOVERY, Exposure, Toolsets};
use crate::tools::Shape;

/// The tool router and the built-in tools a full `tools/list` shows (sorted by name; the
/// discovery tools are left out).
pub(crate) struct Catalog {
    pub(crate) router: ToolRouter<Switchboard>,
    pub(crate) tools: Vec<Tool>,
    /// Each routed tool's name and input schema, looked up once per call by the dispatcher
    /// (a fast hash: the names are ours, not an attacker's). The schema's JSON value for the
    /// argument check is made on the tool's first call (not at start-up, not on every call).
    schemas:
        rustc_hash::FxHashMap<String, (Arc<JsonObject>, std::sync::OnceLock<serde_json::Value>)>,
}

impl Catalog {
    /// The routed tool `name`: its name as the catalogue keeps it, and its input schema as a
    /// JSON value.
    pub(crate) fn schema(&self, name: &str) -> Option<(&str, &serde_json::Value)> {
        let (key, (schema, cell)) = self.schemas.get_key_value(name)?;
        let value = cell.get_or_init(|| serde_json::Value::Object(schema.as_ref().clone()));
        Some((key.as_str(), value))
    }

    pub(crate) fn build(shape: Shape, toolsets: &Toolsets) -> Self {
        let mut tools = crate::tools::catalogue::list(shape, toolsets);
        let router = crate::tools::routes(&tools);
        let schemas = tools
            .iter()
            .map(|t| {
                let entry = (t.input_schema.clone(), std::sync::OnceLock::new());
                (t.name.to_string(), entry)
            })
            .collect();
        tools.retain(|t| !DISCOVERY.contains(&t.name.as_ref()));
        Self {
            router,
            tools,
            schemas,
        }
    }
}

/// One catalogue per process and configuration ([`Shape`] and toolsets), so every session in
/// the process shares it. Generating the schemas is most of the cost of a first `tools/list`.
static CATALOGS: Mutex<Vec<(usize, Toolsets, &'static Catalog)>> = Mutex::new(Vec::new());

pub(crate) fn catalog_for(settings: &Settings) -> &'static Catalog {
    let shape = Shape::of(settings);
    let toolsets = &settings.tools.toolsets;
    let mut all = crate::support::lock(&CATALOGS);
    if let Some((_, _, c)) = all
        .iter()
        .find(|(i, t, _)| *i == shape.index() && t == toolsets)
    {
        return c;
    }
    // Leaked on purpose: a process has one configuration (a test process a few), and every
    // session of it keeps using the catalogue until exit.
    let built: &'static Catalog = Box::leak(Box::new(Catalog::build(shape, toolsets)));
    all.push((shape.index(), toolsets.clone(), built));
    built
}

/// An index of the offered tools and what it was built from.
pub(crate) struct SearchIndex {
    pub(crate) folders: Arc<Folders>,
    pub(crate) view: Option<Arc<crate::proxy::View>>,
    pub(crate) searchable: Arc<crate::tools::discovery::search_tools::Searchable>,
}

impl Switchboard {
    /// The built-in tools' definitions, without the discovery tools (the declarative ones come
    /// from [`Self::folders`]).
    pub fn tools(&self) -> &[Tool] {
        &self.catalog().tools
    }

    /// `search_tools`, `call_tool` and `run_workflow`, as compact mode lists them.
    pub fn discovery_tools(&self) -> Vec<Tool> {
        crate::policy::tools::CORE
            .iter()
            .filter_map(|n| self.catalog().router.get(n).cloned())
            .collect()
    }

    /// Every tool of switchboard's own this configuration offers: built-in and declarative,
    /// sorted by name (the discovery tools are not among them).
    pub fn all_tools(&self) -> Vec<Tool> {
        self.offered(&self.folders(), None)
    }

    /// Every tool this configuration offers, the child servers' included (waiting, on first
    /// use, for the children's start-up like `tools/list`): what a full list shows and what the
    /// discovery tools search and call.
    pub async fn offered_tools(&self, ctx: &RequestContext<RoleServer>) -> Vec<Tool> {
        let view = self.children_view(ctx).await;
        self.offered(&self.folders(), view.as_deref())
    }

    /// The children's current view, once their start-up is over (`None`: no servers file).
    pub(crate) async fn children_view(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Arc<crate::proxy::View>> {
        let hub = self.start_proxy()?;
        hub.set_host(&ctx.peer);
        hub.wait_startup().await;
        Some(hub.view())
    }

    /// The offered tools of a folders' snapshot and a children's view.
    pub(crate) fn offered(
        &self,
        folders: &Folders,
        view: Option<&crate::proxy::View>,
    ) -> Vec<Tool> {
        let mut tools = self.tools().to_vec();
        tools.extend(
            folders
                .visible_tools(&self.settings)
                .map(|t| t.tool.clone()),
        );
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(view) = view {
            let toolsets = &self.settings.tools.toolsets;
            tools.extend(
                view.tools
                    .iter()
                    .filter(|t| toolsets.admits(&t.name, Category::Proxy))
                    .cloned(),
            );
        }
        tools
    }

    /// The offered tools with their search index, built once per folders' snapshot and
    /// children's view.
    pub async fn searchable_tools(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> Arc<crate::tools::discovery::search_tools::Searchable> {
        let view = self.children_view(ctx).await;
        let folders = self.folders();
        let same_view = |cached: &Option<Arc<crate::proxy::View>>| match (cached, &view) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if let Some(c) = crate::support::lock(&self.search_index).as_ref()
            && Arc::ptr_eq(&c.folders, &folders)
            && same_view(&c.view)
        {
            return c.searchable.clone();
        }
        let tools = self.offered(&folders, view.as_deref());
        let searchable = Arc::new(crate::tools::discovery::search_tools::Searchable::new(
            tools,
            Some(&folders),
            view.as_deref(),
        ));
        *crate::support::lock(&self.search_index) = Some(SearchIndex {
            folders,
            view,
            searchable: searchable.clone(),
        });
        searchable
    }

    /// What `tools/list` shows: every offered tool, or the compact core.
    pub(crate) fn shown_tools(&self, offered: Vec<Tool>) -> Vec<Tool> {
        if !self.is_compact(&offered) {
            return offered;
        }
        let mut core = self.discovery_tools();
        for name in &self.settings.tools.always {
            if let Some(t) = offered.iter().find(|t| t.name == name.as_str()) {
                core.push(t.clone());
            }
        }
        core
    }

    /// Whether `tools/list` shows the compact core instead of `offered`.
    pub fn is_compact(&self, offered: &[Tool]) -> bool {
        let t = &self.settings.tools;
        match t.exposure {
            Exposure::Full => false,
            Exposure::Compact => true,
            Exposure::Auto if offered.len() > t.auto_max_tools => true,
            Exposure::Auto => {
                let tokens = crate::tools::discovery::list_tokens_estimate(offered);
                tokens > t.auto_budget_tokens
            }
        }
    }

    /// Why `name` cannot be called, worded for the model: turned off by the configuration, or
    /// no such tool (with the closest offered names).
    pub fn not_offered(&self, name: &str, offered: &[Tool]) -> String {
        let toolsets = &self.settings.tools.toolsets;
        let folders = self.folders();
        let declared = folders.tools.get(name);
        let category = crate::tools::category_of(name)
            .or_else(|| declared.map(|_| Category::Declarative))
            .or_else(|| {
                self.hub()
                    .filter(|h| h.has_tool(name))
                    .map(|_| Category::Proxy)
            });
        match category {
            Some(c) if !toolsets.admits(name, c) => toolsets.why_not(name, c),
            Some(_) if declared.is_some_and(|d| !d.enabled) => format!(
                "the tool `{name}` is turned off in its file ({}: enabled: false)",
                declared.map_or("", |d| d.source.as_str())
            ),
            Some(_) if self.settings.read_only => format!(
                "the tool `{name}` is not available: switchboard runs in read-only mode, which offers only tools that never change anything"
            ),
            Some(_) => format!(
                "the tool `{name}` is not available until it is configured (exec.shell for run_shell, exec.packages for install_package, comms for the sending tools, a servers file for proxy_*, browser.allow_evaluate for browser_evaluate)"
            ),
            // No tool name is longer (SEP-986): nothing is close, and a huge name is not worth
            // comparing.
            None if name.len() > 128 => format!(
                "there is no tool named `{}…` (tool names have at most 128 characters); search_tools finds tools by what they do",
                name.chars().take(60).collect::<String>()
            ),
            None => {
                // Names a letter or two away first (a typo), then tools that do what the
                // name says.
                let names: Vec<&str> = offered.iter().map(|t| t.name.as_ref()).collect();
                let mut close: Vec<String> = crate::discovery::spelling::close_names(&names, name)
                    .into_iter()
                    .map(|i| names[i].to_owned())
                    .collect();
                let searchable = crate::tools::discovery::search_tools::Searchable::new(
                    offered.to_vec(),
                    Some(&folders),
                    self.hub().map(|h| h.view()).as_deref(),
                );
                if let Ok(found) =
                    crate::tools::discovery::search_tools::search(&searchable, name, 3, 0)
                {
                    close.extend(found.tools.into_iter().map(|t| t.name));
                }
                let mut seen = std::collections::HashSet::new();
                close.retain(|n| seen.insert(n.clone()));
                let close: Vec<String> = close
                    .into_iter()
                    .take(3)
                    .map(|n| format!("`{n}`"))
                    .collect();
                if close.is_empty() {
                    format!(
                        "there is no tool named `{name}`; search_tools finds tools by what they do"
                    )
                } else {
                    format!(
                        "there is no tool named `{name}`; similar: {}. search_tools finds tools by what they do",
                        close.join(", ")
                    )
                }
            }
        }
    }
}
