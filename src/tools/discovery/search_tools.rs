//! `search_tools`: ranks every offered tool (built-in, declarative and the child servers')
//! against a description of the task, BM25 over names, titles, descriptions and parameter
//! names, and returns the best with their input schemas, ready for `call_tool`.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::Tool;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::server::Switchboard;
use crate::support::rank::{Doc, rank};
use crate::tools::ToolError;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchToolsArgs {
    /// What you want to do, in a few words (e.g. "read a file", "query postgres"), or a tool's name.
    pub query: String,
    /// How many tools to return (default tools.search_results).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundTool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    /// JSON Schema of the `arguments` to pass to call_tool.
    pub input_schema: serde_json::Map<String, Value>,
    /// Whether it only reads (false: it may change or delete things).
    pub read_only: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchToolsOutput {
    /// Best match first.
    pub tools: Vec<FoundTool>,
    /// How many tools were searched.
    pub searched: usize,
    /// Present when nothing matched or the limit was lowered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A tool's title: its own, else its annotations'.
fn title(t: &Tool) -> Option<&str> {
    t.title
        .as_deref()
        .or_else(|| t.annotations.as_ref()?.title.as_deref())
}

/// A word in the name counts three times a word of the description; titles and parameter
/// names fall between.
fn doc(t: &Tool) -> Doc<'_> {
    let mut fields = vec![(3.0, t.name.as_ref())];
    if let Some(title) = title(t) {
        fields.push((2.0, title));
    }
    if let Some(d) = t.description.as_deref() {
        fields.push((1.0, d));
    }
    if let Some(Value::Object(props)) = t.input_schema.get("properties") {
        fields.extend(props.keys().map(|k| (1.5, k.as_str())));
    }
    Doc { fields }
}

/// The tools of `offered` that best match `query`, at most `limit`, a tool named exactly by
/// the query first.
pub fn search(offered: &[Tool], query: &str, limit: usize) -> Result<SearchToolsOutput, ToolError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(ToolError::invalid(
            "`query` is empty: describe the task in a few words, e.g. \"list a directory\"",
        ));
    }
    let docs: Vec<Doc<'_>> = offered.iter().map(doc).collect();
    let mut order: Vec<usize> = rank(&docs, query).into_iter().map(|(i, _)| i).collect();
    if let Some(exact) = offered.iter().position(|t| t.name == query) {
        order.retain(|i| *i != exact);
        order.insert(0, exact);
    }
    let note = order.is_empty().then(|| {
        format!(
            "no tool matched `{query}`; try other words for the task (e.g. \"read\", \"search\", \"http\", \"sql\") or fewer of them"
        )
    });
    let tools = order
        .into_iter()
        .take(limit)
        .map(|i| {
            let t = &offered[i];
            FoundTool {
                name: t.name.to_string(),
                title: title(t).map(str::to_owned),
                description: t.description.as_deref().unwrap_or_default().to_owned(),
                input_schema: t.input_schema.as_ref().clone(),
                read_only: crate::tools::is_read_only(t),
            }
        })
        .collect();
    Ok(SearchToolsOutput {
        tools,
        searched: offered.len(),
        note,
    })
}

#[tool_router(router = search_tools_router, vis = "pub(crate)")]
impl Switchboard {
    /// Find tools by what they do. Returns the best matches with their input schemas; run one with call_tool. Every tool this server offers is searchable, including ones tools/list does not show.
    #[tool(annotations(
        title = "Search tools",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn search_tools(
        &self,
        Parameters(args): Parameters<SearchToolsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SearchToolsOutput>, ToolError> {
        let t = &self.settings.tools;
        let wanted = args.limit.unwrap_or(t.search_results).max(1);
        let limit = wanted.min(t.max_search_results);
        let offered = self.offered_tools(&ctx).await;
        let mut out = search(&offered, &args.query, limit)?;
        if wanted > limit && out.note.is_none() {
            out.note = Some(format!(
                "at most {limit} tools per search (tools.max_search_results); make the query more specific"
            ));
        }
        Ok(Json(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::tools::Toolsets;
    use crate::tools::{Shape, router};

    fn catalogue() -> Vec<Tool> {
        router(Shape::everything(), &Toolsets::everything()).list_all()
    }

    #[test]
    fn common_tasks_find_their_tool_in_the_first_three() {
        let tools = catalogue();
        let mut missed = Vec::new();
        for (query, want) in [
            ("read a file", "read_file"),
            ("edit lines in a file", "edit_file"),
            ("list directory contents", "list_directory"),
            ("grep for text inside files", "search_content"),
            ("run a shell command", "run_command"),
            ("search the web", "web_search"),
            ("fetch a web page as markdown", "fetch_url"),
            ("sql query", "db_query"),
            ("remember a note", "memory_save"),
            ("what time is it in Tokyo", "current_time"),
            ("send an email", "send_email"),
            ("chat with a local model", "ai_chat"),
            ("kill a process", "kill_process"),
            ("delete_path", "delete_path"),
        ] {
            let out = search(&tools, query, 3).unwrap();
            let names: Vec<String> = out.tools.into_iter().map(|t| t.name).collect();
            if !names.iter().any(|n| n == want) {
                missed.push(format!("{query:?} gave {names:?}"));
            }
        }
        assert!(missed.is_empty(), "{missed:#?}");
    }

    #[test]
    fn results_carry_schemas_and_no_match_says_what_to_do() {
        let tools = catalogue();
        let out = search(&tools, "write_file", 2).unwrap();
        assert_eq!(out.tools[0].name, "write_file");
        assert!(!out.tools[0].read_only);
        assert!(out.tools[0].input_schema["properties"]["path"].is_object());
        assert_eq!(out.searched, tools.len());
        let none = search(&tools, "zzyzx qwv", 5).unwrap();
        assert!(none.tools.is_empty());
        assert!(none.note.unwrap().contains("other words"));
        assert!(search(&tools, "  ", 5).is_err());
    }
}
