//! The `tools` section validated: declarative tool folders and output cap, the toolsets
//! (`tools.enabled` or `--toolsets`, allow and deny globs) and the exposure mode with its limits.

use std::path::{Path, PathBuf};

use super::raw::RawTools;
use super::{ConfigError, nonzero};
use crate::policy::tools::{Category, Exposure, NameGlobs, Toolsets};

#[derive(Debug, Clone)]
pub struct ToolSettings {
    /// Folders of declarative tools (`*.yaml`), in search order.
    pub dirs: Vec<PathBuf>,
    /// Most bytes of output a declarative tool returns (`tools.max_output_bytes`).
    pub max_output_bytes: usize,
    pub toolsets: Toolsets,
    pub exposure: Exposure,
    /// Listed beside the discovery tools in compact mode (when offered).
    pub always: Vec<String>,
    pub auto_budget_tokens: usize,
    pub auto_max_tools: usize,
    pub search_results: usize,
    pub max_search_results: usize,
    /// Results of a search that carry schema and example (`tools.search_detailed`).
    pub search_detailed: usize,
    /// Longest `search_tools` query (`tools.max_search_query_chars`).
    pub max_search_query_chars: usize,
    /// Ranking tools by meaning too (`tools.search_embed_model`); `None`: words only.
    pub search_embed: Option<SearchEmbed>,
}

/// Tool search by meaning: the embedding model, its weight and how long a query may wait.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchEmbed {
    pub model: String,
    pub weight: f64,
    pub timeout: std::time::Duration,
}

/// `toolsets` and `exposure` come from the command line and replace `tools.enabled` and
/// `tools.exposure`.
pub(super) fn tool_settings(
    raw: &RawTools,
    dirs: Vec<PathBuf>,
    toolsets: Option<&[String]>,
    exposure: Option<&str>,
    file: Option<&Path>,
) -> Result<ToolSettings, ConfigError> {
    let err = |key: &str, msg: String| ConfigError::new(file, key, msg);
    let names: Option<(&[String], &str)> = match toolsets {
        Some(t) => Some((t, "--toolsets")),
        None => raw.enabled.as_deref().map(|e| (e, "tools.enabled")),
    };
    let enabled: Vec<Category> = match names {
        None => Category::ALL.to_vec(),
        Some((names, key)) => {
            let mut v = Vec::new();
            for n in names.iter().filter(|n| !n.trim().is_empty()) {
                v.push(Category::parse(n).ok_or_else(|| {
                    let all: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                    err(
                        key,
                        format!("`{n}` is not a toolset: use {}", all.join(", ")),
                    )
                })?);
            }
            v
        }
    };
    let allow = NameGlobs::new(&raw.allow).map_err(|m| err("tools.allow", m))?;
    let deny = NameGlobs::new(&raw.deny).map_err(|m| err("tools.deny", m))?;
    let (mode, key) = match exposure {
        Some(e) => (e, "--exposure"),
        None => (raw.exposure.as_str(), "tools.exposure"),
    };
    let exposure = Exposure::parse(mode).ok_or_else(|| {
        err(
            key,
            format!("`{mode}` is not an exposure: use full, compact or auto"),
        )
    })?;
    nonzero(
        file,
        &[
            ("tools.max_output_bytes", raw.max_output_bytes as u64),
            ("tools.auto_budget_tokens", raw.auto_budget_tokens as u64),
            ("tools.auto_max_tools", raw.auto_max_tools as u64),
            ("tools.search_results", raw.search_results as u64),
            ("tools.max_search_results", raw.max_search_results as u64),
            ("tools.search_detailed", raw.search_detailed as u64),
            (
                "tools.max_search_query_chars",
                raw.max_search_query_chars as u64,
            ),
            ("tools.search_embed_timeout_ms", raw.search_embed_timeout_ms),
        ],
    )?;
    if raw.search_results > raw.max_search_results {
        return Err(err(
            "tools.search_results",
            format!(
                "{} is more than tools.max_search_results ({})",
                raw.search_results, raw.max_search_results
            ),
        ));
    }
    if !(raw.search_embed_weight > 0.0 && raw.search_embed_weight <= 1.0) {
        return Err(err(
            "tools.search_embed_weight",
            format!(
                "{} is not a weight: use a number above 0 and at most 1 (0.3 measured best)",
                raw.search_embed_weight
            ),
        ));
    }
    let search_embed = raw
        .search_embed_model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|model| SearchEmbed {
            model: model.to_owned(),
            weight: raw.search_embed_weight,
            timeout: std::time::Duration::from_millis(raw.search_embed_timeout_ms),
        });
    if let Some(bad) = raw.always.iter().find(|n| !is_tool_name(n)) {
        return Err(err(
            "tools.always",
            format!("`{bad}` is not a tool name (letters, digits, `_`, `-` and `.`)"),
        ));
    }
    Ok(ToolSettings {
        dirs,
        max_output_bytes: raw.max_output_bytes,
        toolsets: Toolsets::new(&enabled, allow, deny),
        exposure,
        always: raw.always.iter().map(|n| n.trim().to_owned()).collect(),
        auto_budget_tokens: raw.auto_budget_tokens,
        auto_max_tools: raw.auto_max_tools,
        search_results: raw.search_results,
        max_search_results: raw.max_search_results,
        search_detailed: raw.search_detailed,
        max_search_query_chars: raw.max_search_query_chars,
        search_embed,
    })
}

fn is_tool_name(n: &str) -> bool {
    let n = n.trim();
    !n.is_empty()
        && n.len() <= 128
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> RawTools {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn toolsets_flag_replaces_the_config_and_names_are_checked() {
        let r = raw("enabled: [files]\ndeny: ['delete_*']\nexposure: compact");
        let t = tool_settings(&r, vec![], None, None, None).unwrap();
        assert!(t.toolsets.is_enabled(Category::Files));
        assert!(!t.toolsets.is_enabled(Category::Web));
        assert!(!t.toolsets.admits("delete_path", Category::Files));
        assert_eq!(t.exposure, Exposure::Compact);
        let flag = ["web".to_owned(), "memory".to_owned()];
        let t = tool_settings(&r, vec![], Some(&flag), None, None).unwrap();
        assert!(!t.toolsets.is_enabled(Category::Files));
        assert!(t.toolsets.is_enabled(Category::Memory));

        let e = tool_settings(&r, vec![], Some(&["shell".into()]), None, None).unwrap_err();
        assert_eq!(e.key, "--toolsets");
        assert!(e.message.contains("files, exec, web"), "{e}");
        let e = tool_settings(&raw("enabled: [filez]"), vec![], None, None, None).unwrap_err();
        assert_eq!(e.key, "tools.enabled");
        let e = tool_settings(&raw("exposure: some"), vec![], None, None, None).unwrap_err();
        assert!(e.message.contains("full, compact or auto"));
        let t = tool_settings(&r, vec![], None, Some("full"), None).unwrap();
        assert_eq!(t.exposure, Exposure::Full);
        let e = tool_settings(&r, vec![], None, Some("tiny"), None).unwrap_err();
        assert_eq!(e.key, "--exposure");
        let e = tool_settings(&raw("deny: ['[a']"), vec![], None, None, None).unwrap_err();
        assert_eq!(e.key, "tools.deny");
        let e = tool_settings(&raw("search_results: 30"), vec![], None, None, None).unwrap_err();
        assert_eq!(e.key, "tools.search_results");
        let e = tool_settings(&raw("always: ['a b']"), vec![], None, None, None).unwrap_err();
        assert_eq!(e.key, "tools.always");
    }

    #[test]
    fn defaults_offer_everything_in_auto_mode() {
        let t = tool_settings(&RawTools::default(), vec![], None, None, None).unwrap();
        assert_eq!(t.exposure, Exposure::Auto);
        assert_eq!(t.toolsets, Toolsets::everything());
        assert_eq!(t.always, ["list_roots", "read_file", "edit_file"]);
        assert_eq!(t.search_detailed, 3);
        let e = tool_settings(&raw("search_detailed: 0"), vec![], None, None, None).unwrap_err();
        assert_eq!(e.key, "tools.search_detailed");
        assert!(t.search_embed.is_none());
        let on = raw("search_embed_model: all-minilm\nsearch_embed_weight: 0.5");
        let e = tool_settings(&on, vec![], None, None, None)
            .unwrap()
            .search_embed;
        assert_eq!(e.unwrap().weight, 0.5);
        for bad in ["0", "1.5", "-1", ".nan"] {
            let r = raw(&format!("search_embed_weight: {bad}"));
            let e = tool_settings(&r, vec![], None, None, None).unwrap_err();
            assert_eq!(e.key, "tools.search_embed_weight", "{bad}");
        }
        assert_eq!((t.auto_budget_tokens, t.auto_max_tools), (8000, 100));
    }
}
