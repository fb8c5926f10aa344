//! Which tools the host may see and call: the enabled toolsets (categories), the allow and deny
//! globs over tool names, and how the catalogue is shown (`tools.exposure`). Built-in,
//! declarative and child tools all pass [`Toolsets::admits`], whether called directly, through
//! `call_tool` or by `ai_agent`, so a tool turned off is unreachable by every route.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A group of tools switched on or off together (`tools.enabled`, `--toolsets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Files,
    Exec,
    Web,
    System,
    Database,
    Memory,
    Ai,
    Comms,
    /// A real Chromium driven over the DevTools protocol.
    Browser,
    /// Tools defined by YAML files in the `tools/` folders (and the shipped git tools).
    Declarative,
    /// The child servers' tools and the `proxy_*` tools that manage them.
    Proxy,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::Files,
        Category::Exec,
        Category::Web,
        Category::System,
        Category::Database,
        Category::Memory,
        Category::Ai,
        Category::Comms,
        Category::Browser,
        Category::Declarative,
        Category::Proxy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Files => "files",
            Category::Exec => "exec",
            Category::Web => "web",
            Category::System => "system",
            Category::Database => "database",
            Category::Memory => "memory",
            Category::Ai => "ai",
            Category::Comms => "comms",
            Category::Browser => "browser",
            Category::Declarative => "declarative",
            Category::Proxy => "proxy",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s.trim())
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Tool-name globs (`*` and `?`), kept with their text so two filters can be compared.
#[derive(Debug, Clone, Default)]
pub struct NameGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl NameGlobs {
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            let glob = GlobBuilder::new(p.trim())
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("`{p}` is not a glob: {e}"))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            patterns: patterns.iter().map(|p| p.trim().to_owned()).collect(),
            set,
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        !self.patterns.is_empty() && self.set.is_match(name)
    }
}

/// The tools this configuration offers: a tool is offered when no `deny` glob matches it and
/// its category is enabled or an `allow` glob names it.
#[derive(Debug, Clone)]
pub struct Toolsets {
    enabled: u16,
    allow: NameGlobs,
    deny: NameGlobs,
}

impl Default for Toolsets {
    fn default() -> Self {
        Self::everything()
    }
}

impl PartialEq for Toolsets {
    fn eq(&self, other: &Self) -> bool {
        self.enabled == other.enabled
            && self.allow.patterns == other.allow.patterns
            && self.deny.patterns == other.deny.patterns
    }
}

impl Eq for Toolsets {}

impl Toolsets {
    /// Every category, nothing denied: the default, and what the README documents.
    pub fn everything() -> Self {
        Self {
            enabled: Category::ALL.iter().fold(0, |m, c| m | c.bit()),
            allow: NameGlobs::default(),
            deny: NameGlobs::default(),
        }
    }

    pub fn new(enabled: &[Category], allow: NameGlobs, deny: NameGlobs) -> Self {
        Self {
            enabled: enabled.iter().fold(0, |m, c| m | c.bit()),
            allow,
            deny,
        }
    }

    pub fn is_enabled(&self, category: Category) -> bool {
        self.enabled & category.bit() != 0
    }

    pub fn enabled(&self) -> impl Iterator<Item = Category> + '_ {
        Category::ALL.into_iter().filter(|c| self.is_enabled(*c))
    }

    /// Whether the tool `name` of `category` is offered.
    pub fn admits(&self, name: &str, category: Category) -> bool {
        !self.deny.matches(name) && (self.is_enabled(category) || self.allow.matches(name))
    }

    /// Why `name` is not offered, worded for the model (for a tool that exists).
    pub fn why_not(&self, name: &str, category: Category) -> String {
        if self.deny.matches(name) {
            format!("the tool `{name}` is turned off by this server's configuration (tools.deny)")
        } else {
            format!(
                "the tool `{name}` belongs to the `{category}` toolset, which this server's configuration does not enable (tools.enabled or --toolsets)"
            )
        }
    }
}

/// How `tools/list` shows the offered tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// Every offered tool with its schema.
    Full,
    /// A small core: `search_tools`, `call_tool` and `tools.always`.
    Compact,
    /// Compact when the full list would cost more than the budget, else full.
    Auto,
}

impl Exposure {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "full" => Some(Self::Full),
            "compact" => Some(Self::Compact),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Compact => "compact",
            Self::Auto => "auto",
        }
    }
}

/// The two tools compact mode is built on. They reach only offered tools, so toolsets do not
/// apply to them; full mode does not list them, though they still answer a direct call.
pub const DISCOVERY: [&str; 2] = ["search_tools", "call_tool"];

/// What compact mode lists before `tools.always`: the discovery tools and `run_workflow`
/// (which full mode lists too: a script of calls serves every host).
pub const CORE: [&str; 3] = ["search_tools", "call_tool", "run_workflow"];

/// Whether a tool says it only reads (`readOnlyHint: true`); a tool that says nothing may change things.
pub fn is_read_only(tool: &rmcp::model::Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(p: &[&str]) -> NameGlobs {
        NameGlobs::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn deny_wins_and_allow_adds_to_the_enabled_categories() {
        let t = Toolsets::new(
            &[Category::Files],
            globs(&["web_search", "git_*"]),
            globs(&["delete_*", "*__danger"]),
        );
        assert!(t.admits("read_file", Category::Files));
        assert!(!t.admits("delete_path", Category::Files));
        assert!(t.admits("web_search", Category::Web));
        assert!(!t.admits("fetch_url", Category::Web));
        assert!(t.admits("git_log", Category::Declarative));
        assert!(!t.admits("child__danger", Category::Proxy));
        assert!(
            t.why_not("fetch_url", Category::Web)
                .contains("`web` toolset")
        );
        assert!(
            t.why_not("delete_path", Category::Files)
                .contains("tools.deny")
        );
    }

    #[test]
    fn everything_admits_all_and_filters_compare_by_content() {
        let all = Toolsets::everything();
        for c in Category::ALL {
            assert!(all.admits("x", c));
            assert_eq!(Category::parse(c.name()), Some(c));
        }
        assert_eq!(
            Toolsets::new(&[Category::Web], globs(&["a*"]), globs(&[])),
            Toolsets::new(&[Category::Web], globs(&["a*"]), globs(&[]))
        );
        assert_ne!(
            Toolsets::new(&[Category::Web], globs(&["a*"]), globs(&[])),
            Toolsets::new(&[Category::Web], globs(&[]), globs(&["a*"]))
        );
        assert!(NameGlobs::new(&["[".into()]).is_err());
        assert_eq!(Category::parse("shell"), None);
    }
}
