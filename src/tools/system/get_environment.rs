//! `get_environment`: switchboard's environment variables, with the values of anything that
//! looks secret (by name, or a URL carrying a password) redacted.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "environment variables env vars printenv echo $ path home variable set value";

use crate::support::secrets::{REDACTED, looks_secret};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetEnvironmentArgs {
    /// Only these variables (default: all).
    pub names: Option<Vec<String>>,
    /// Only variables whose name contains this text (case-insensitive).
    pub filter: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Variable {
    pub name: String,
    /// The value, or a redaction marker for secrets; absent when a named variable is not set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetEnvironmentOutput {
    pub variables: Vec<Variable>,
    /// How many values were redacted.
    pub redacted: usize,
}

pub fn get_environment(
    args: &GetEnvironmentArgs,
    vars: impl Iterator<Item = (String, String)>,
) -> GetEnvironmentOutput {
    let mut all: Vec<(String, String)> = vars.collect();
    all.sort();
    let filter = args.filter.as_ref().map(|f| f.to_lowercase());
    let mut redacted = 0;
    let mut show = |name: &str, value: Option<&str>| Variable {
        name: name.to_owned(),
        value: value.map(|v| {
            if looks_secret(name, v) {
                redacted += 1;
                REDACTED.to_owned()
            } else {
                v.to_owned()
            }
        }),
    };
    let variables = match &args.names {
        Some(names) => names
            .iter()
            .map(|n| show(n, all.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())))
            .collect(),
        None => all
            .iter()
            .filter(|(k, _)| filter.as_ref().is_none_or(|f| k.to_lowercase().contains(f)))
            .map(|(k, v)| show(k, Some(v)))
            .collect(),
    };
    GetEnvironmentOutput {
        variables,
        redacted,
    }
}

#[tool_router(router = get_environment_router, vis = "pub(crate)")]
impl Switchboard {
    /// List switchboard's environment variables (all, by name, or filtered); values that look secret are redacted.
    #[tool(annotations(
        title = "Environment variables",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn get_environment(
        &self,
        Parameters(args): Parameters<GetEnvironmentArgs>,
    ) -> Result<Json<GetEnvironmentOutput>, ToolError> {
        let vars = std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        });
        Ok(Json(get_environment(&args, vars)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let vars = [
            ("OPENAI_API_KEY", "sk-123"),
            ("GITHUB_TOKEN", "ghp_x"),
            ("DATABASE_URL", "postgres://app:hunter2@db/app"),
            ("PLAIN_URL", "https://example.org/a@b"),
            ("LANG", "C.UTF-8"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let out = get_environment(
            &GetEnvironmentArgs {
                names: None,
                filter: None,
            },
            vars.clone().into_iter(),
        );
        let json = serde_json::to_string(&out).unwrap();
        for secret in ["sk-123", "ghp_x", "hunter2"] {
            assert!(!json.contains(secret), "{json}");
        }
        assert!(json.contains("C.UTF-8") && json.contains("https://example.org/a@b"));
        assert_eq!(out.redacted, 3);
        let out = get_environment(
            &GetEnvironmentArgs {
                names: Some(vec!["LANG".into(), "NOPE".into()]),
                filter: None,
            },
            vars.into_iter(),
        );
        assert_eq!(out.variables[0].value.as_deref(), Some("C.UTF-8"));
        assert!(out.variables[1].value.is_none());
    }
}
