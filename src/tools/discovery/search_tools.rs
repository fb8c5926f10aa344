//! `search_tools`: ranks every offered tool (built-in, declarative and the child servers')
//! against the task as the model describes it, through the index of [`crate::discovery`],
//! and returns the best with what the next call needs: the input schema, an example call,
//! the server each comes from, and for a near tie which other tool to use instead when.

/// None: the discovery tools are not in the index they search.
pub const KEYWORDS: &str = "";

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::Tool;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::tools::SearchEmbed;
use crate::discovery::{Entry, Hit, Index, meaning};
use crate::folders::Folders;
use crate::proxy::View;
use crate::server::Switchboard;
use crate::tools::ToolError;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchToolsArgs {
    /// What you want to do, in your own words (e.g. "read a file", "grep for TODO", "what is using port 3000"), or a tool's name.
    pub query: String,
    /// How many tools to return (default tools.search_results).
    pub limit: Option<usize>,
    /// Only tools of this toolset (files, web, …) or child server; query `*` lists them all.
    pub toolset: Option<String>,
    /// Give TypeScript declarations for run_workflow scripts instead of schemas.
    #[serde(default)]
    pub typescript: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundTool {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub description: String,
    /// Where the tool comes from: "switchboard", or the child server's name.
    pub server: String,
    /// JSON Schema of the `arguments` to pass to call_tool (on the first results; search a
    /// tool's exact name for the schema of a brief one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<serde_json::Map<String, Value>>,
    /// One call's arguments: the required ones, with placeholders in <>.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<serde_json::Map<String, Value>>,
    /// Whether it only reads (false: it may change or delete things).
    pub read_only: bool,
    /// On the best match when another ranks close behind: which to use instead, when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead: Option<String>,
    /// With `typescript`: how a workflow script calls it, as `tools.<declaration>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typescript: Option<String>,
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
    /// With an embedding model configured: "hybrid" (words and meaning) or "words".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// Why this search ranked by words only, when meaning was configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<String>,
}

/// A runner-up within this fraction of the best score is a near tie, worth a word.
const NEAR_TIE: f64 = 0.8;

/// The offered tools and their index: built once per catalogue (the folders' snapshot and
/// the children's view) and shared by every search until either changes.
pub struct Searchable {
    tools: Vec<Tool>,
    index: Index,
    /// The tools' embeddings for search by meaning, made once, in the background.
    vectors: Mutex<Vectors>,
}

/// Where the tools' embeddings stand. A std mutex: held only to read or swap the state.
enum Vectors {
    Idle,
    Making,
    Ready(Arc<Vec<meaning::Vector>>),
    Failed { error: String, at: Instant },
}

/// A failed attempt to embed the tools is tried again after this long.
const RETRY: Duration = Duration::from_secs(60);

impl Searchable {
    /// Indexes `tools`: the built-in tools' keywords come from their files, the declarative
    /// tools' from `folders`, a child tool's server from `view`.
    pub fn new(tools: Vec<Tool>, folders: Option<&Folders>, view: Option<&View>) -> Self {
        Self::with(tools, |t| {
            let name = t.name.as_ref();
            let server = view.and_then(|v| v.server_of(name)).map(str::to_owned);
            let keywords = match (&server, folders.and_then(|f| f.tools.get(name))) {
                (Some(_), _) => String::new(),
                (None, Some(declared)) => declared.keywords.clone(),
                (None, None) => crate::tools::keywords_of(name).to_owned(),
            };
            (keywords, server)
        })
    }

    /// The names of the tools a `query` matches, best first (by words, not by meaning).
    pub fn ranked(&self, query: &str) -> Vec<String> {
        self.index
            .search(query)
            .into_iter()
            .filter_map(|h| self.tools.get(h.entry).map(|t| t.name.to_string()))
            .collect()
    }

    /// Indexes `tools`, `about` telling each one's keywords and child server.
    pub fn with(tools: Vec<Tool>, about: impl Fn(&Tool) -> (String, Option<String>)) -> Self {
        let entries = tools
            .iter()
            .map(|t| {
                let (keywords, server) = about(t);
                entry(t, keywords, server)
            })
            .collect();
        Self {
            index: Index::new(entries),
            tools,
            vectors: Mutex::new(Vectors::Idle),
        }
    }

    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }
}

/// What the index reads of a tool.
pub fn entry(t: &Tool, keywords: String, server: Option<String>) -> Entry {
    Entry {
        name: t.name.to_string(),
        title: title(t).map(str::to_owned),
        description: t.description.as_deref().unwrap_or_default().to_owned(),
        params: match t.input_schema.get("properties") {
            Some(Value::Object(props)) => props.keys().cloned().collect(),
            _ => Vec::new(),
        },
        keywords,
        server,
    }
}

/// A tool's title: its own, else its annotations'.
fn title(t: &Tool) -> Option<&str> {
    t.title
        .as_deref()
        .or_else(|| t.annotations.as_ref()?.title.as_deref())
}

/// The first sentence of a description, for a one-line mention.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            matches!(c, '.' | '\n') && text[i + 1..].chars().next().is_none_or(char::is_whitespace)
        })
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// The tools of `searchable` that best match `query`, at most `limit`, a tool named exactly by
/// the query first; the first `detailed` with their input schema and an example call.
pub fn search(
    searchable: &Searchable,
    query: &str,
    limit: usize,
    detailed: usize,
) -> Result<SearchToolsOutput, ToolError> {
    let hits = rank(searchable, query)?;
    Ok(answer(searchable, query, &hits, limit, detailed, false))
}

/// A tool as a member of a workflow script's `tools`.
pub fn declaration(t: &Tool) -> String {
    let input = Value::Object(t.input_schema.as_ref().clone());
    let output = t.output_schema.as_ref().map(|o| Value::Object(o.as_ref().clone()));
    crate::workflow::typescript::declaration(
        &t.name,
        t.description.as_deref().unwrap_or_default(),
        &input,
        output.as_ref(),
    )
}

/// Whether the tool at `entry` belongs to `toolset`: a toolset's name (`files`, `web`, …,
/// `declarative`, `proxy`) or a child server's.
fn in_toolset(searchable: &Searchable, entry: usize, toolset: &str) -> bool {
    let toolset = toolset.trim();
    let e = &searchable.index.entries()[entry];
    if let Some(server) = &e.server {
        return server == toolset || toolset == "proxy";
    }
    let category = match crate::tools::category_of(&e.name) {
        Some(c) => c.name(),
        None if crate::tools::is_built_in(&e.name) => "discovery",
        None => "declarative",
    };
    category == toolset
}

/// The word ranking of `query`.
fn rank(searchable: &Searchable, query: &str) -> Result<Vec<Hit>, ToolError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(ToolError::invalid(
            "`query` is empty: describe the task in a few words, e.g. \"list a directory\"",
        ));
    }
    Ok(searchable.index.search(query))
}

/// The answer for a ranking: the first `limit` tools, the first `detailed` in full.
fn answer(
    searchable: &Searchable,
    query: &str,
    hits: &[Hit],
    limit: usize,
    detailed: usize,
    typescript: bool,
) -> SearchToolsOutput {
    let query = query.trim();
    let note = hits.is_empty().then(|| {
        format!(
            "no tool matched `{query}`; try other words for the task (e.g. \"read\", \"search\", \"http\", \"sql\") or fewer of them"
        )
    });
    let entries = searchable.index.entries();
    let mut tools: Vec<FoundTool> = hits
        .iter()
        .take(limit)
        .enumerate()
        .map(|(rank, h)| {
            let t = &searchable.tools[h.entry];
            // A declaration says what the schema says, in the form a script is written in.
            let detail = rank < detailed && !typescript;
            FoundTool {
                name: t.name.to_string(),
                title: title(t).map(str::to_owned),
                description: t.description.as_deref().unwrap_or_default().to_owned(),
                server: entries[h.entry]
                    .server
                    .clone()
                    .unwrap_or_else(|| "switchboard".to_owned()),
                input_schema: detail.then(|| t.input_schema.as_ref().clone()),
                example: detail.then(|| crate::discovery::example::arguments(&t.input_schema)),
                read_only: crate::tools::is_read_only(t),
                instead: None,
                typescript: typescript.then(|| declaration(t)),
            }
        })
        .collect();
    if let ([best, second, ..], [first, ..]) = (hits, tools.as_mut_slice())
        && best.score < f64::MAX
        // A listing (`query: "*"`) has no ranking, so no near tie.
        && best.score > 0.0
        && second.score >= NEAR_TIE * best.score
    {
        let other = &entries[second.entry];
        first.instead = Some(format!(
            "use `{}` instead for: {}",
            other.name,
            first_sentence(&other.description)
        ));
    }
    SearchToolsOutput {
        tools,
        searched: searchable.tools.len(),
        note,
        mode: None,
        semantic: None,
    }
}

impl Switchboard {
    /// The tools nearest `query` by meaning, or why there are none this time (the tools'
    /// vectors not made yet, the model unreachable or slow): the search then goes on with
    /// words only.
    async fn by_meaning(
        &self,
        searchable: &Arc<Searchable>,
        embed: &SearchEmbed,
        query: &str,
    ) -> Result<Vec<usize>, String> {
        let making = || {
            format!(
                "the {} tools' vectors are being made with {} in the background; words only until then",
                searchable.tools.len(),
                embed.model
            )
        };
        let vectors = {
            let mut state = crate::support::lock(&searchable.vectors);
            match &*state {
                Vectors::Ready(v) => v.clone(),
                Vectors::Making => return Err(making()),
                Vectors::Failed { error, at } if at.elapsed() < RETRY => {
                    return Err(format!(
                        "meaning search skipped ({error}); words only, tried again within a minute"
                    ));
                }
                Vectors::Idle | Vectors::Failed { .. } => {
                    *state = Vectors::Making;
                    drop(state);
                    self.make_vectors(searchable.clone(), embed.model.clone());
                    return Err(making());
                }
            }
        };
        let ai = self.ai().map_err(|e| e.to_string())?;
        let embedded = tokio::time::timeout(embed.timeout, async {
            let target = ai.resolve(Some(&embed.model)).await?;
            target
                .backend
                .embed(&target.model, &[query.to_owned()])
                .await
        })
        .await;
        let q = match embedded {
            Err(_) => {
                return Err(format!(
                    "the query's embedding took longer than {} ms (tools.search_embed_timeout_ms); words only",
                    embed.timeout.as_millis()
                ));
            }
            Ok(Err(e)) => return Err(format!("meaning search skipped ({e}); words only")),
            Ok(Ok(e)) => e.vectors.into_iter().next().unwrap_or_default(),
        };
        Ok(meaning::nearest(&vectors, &q, searchable.tools.len()))
    }

    /// Embeds every tool's text on a task of its own (stopped with the session), then stores
    /// the vectors, or why they could not be made, in `searchable`.
    fn make_vectors(&self, searchable: Arc<Searchable>, model: String) {
        let sb = self.clone();
        tokio::spawn(async move {
            let texts: Vec<String> = searchable
                .index
                .entries()
                .iter()
                .map(meaning::tool_text)
                .collect();
            let made = tokio::select! {
                _ = sb.shutdown.cancelled() => return,
                made = embed_all(&sb, &model, &texts) => made,
            };
            let mut state = crate::support::lock(&searchable.vectors);
            *state = match made {
                Ok(v) => Vectors::Ready(Arc::new(v)),
                Err(error) => {
                    tracing::warn!(model, error, "tool search: could not embed the tools");
                    Vectors::Failed {
                        error,
                        at: Instant::now(),
                    }
                }
            };
        });
    }
}

/// One vector per text: those the server made before from the same text, the rest made now
/// in batches of `ai.max_embed_inputs` (and kept for the next catalogue).
async fn embed_all(
    sb: &Switchboard,
    model: &str,
    texts: &[String],
) -> Result<Vec<meaning::Vector>, String> {
    let (mut found, missing) = sb.search_vectors.lookup(texts);
    if !missing.is_empty() {
        let ai = sb.ai().map_err(|e| e.to_string())?;
        let target = ai.resolve(Some(model)).await.map_err(|e| e.to_string())?;
        let mut made = Vec::with_capacity(missing.len());
        for chunk in missing.chunks(ai.settings.max_embed_inputs.max(1)) {
            let inputs: Vec<String> = chunk.iter().map(|&i| texts[i].clone()).collect();
            let e = target
                .backend
                .embed(&target.model, &inputs)
                .await
                .map_err(|e| e.to_string())?;
            if e.vectors.len() != chunk.len() {
                return Err(format!(
                    "the embedding model returned {} vectors for {} tools",
                    e.vectors.len(),
                    chunk.len()
                ));
            }
            for (&i, v) in chunk.iter().zip(e.vectors) {
                let v: meaning::Vector = Arc::from(v);
                found[i] = Some(v.clone());
                made.push((texts[i].clone(), v));
            }
        }
        sb.search_vectors.store(made, texts.len());
    }
    Ok(found.into_iter().map(Option::unwrap_or_default).collect())
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
        let chars = args.query.chars().count();
        if chars > t.max_search_query_chars {
            return Err(ToolError::invalid(format!(
                "`query` is {chars} characters, more than {} (tools.max_search_query_chars): describe the task in a sentence, e.g. \"find where a function is defined\"",
                t.max_search_query_chars
            )));
        }
        let searchable: Arc<Searchable> = self.searchable_tools(&ctx).await;
        let every = args.query.trim() == "*" && args.toolset.is_some();
        let mut hits = if every {
            (0..searchable.tools.len())
                .map(|entry| Hit { entry, score: 0.0 })
                .collect()
        } else {
            rank(&searchable, &args.query)?
        };
        let (mode, semantic) = match &t.search_embed {
            _ if every => (None, None),
            None => (None, None),
            Some(embed) => match self.by_meaning(&searchable, embed, args.query.trim()).await {
                Ok(nearest) => {
                    hits = meaning::fuse(&hits, &nearest, embed.weight);
                    (Some("hybrid"), None)
                }
                Err(why) => (Some("words"), Some(why)),
            },
        };
        if let Some(toolset) = &args.toolset {
            hits.retain(|h| in_toolset(&searchable, h.entry, toolset));
            if hits.is_empty() {
                return Err(ToolError::invalid(format!(
                    "no tool of `{}` matched; toolsets are files, exec, web, system, database, memory, ai, comms, declarative, proxy, or a child server's name",
                    crate::support::text::quote(toolset, 60)
                )));
            }
        }
        // Listing a whole toolset returns as many as a search may.
        let limit = if every && args.limit.is_none() {
            t.max_search_results
        } else {
            limit
        };
        let mut out = answer(
            &searchable,
            &args.query,
            &hits,
            limit,
            t.search_detailed,
            args.typescript,
        );
        out.mode = mode;
        out.semantic = semantic;
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

    fn catalogue() -> Searchable {
        let mut tools = router(Shape::everything(), &Toolsets::everything()).list_all();
        tools.retain(|t| !crate::policy::tools::DISCOVERY.contains(&t.name.as_ref()));
        Searchable::new(tools, None, None)
    }

    #[test]
    fn results_carry_schemas_examples_and_no_match_says_what_to_do() {
        let tools = catalogue();
        let out = search(&tools, "write_file", 3, 2).unwrap();
        assert_eq!(out.tools[0].name, "write_file");
        assert_eq!(out.tools[0].server, "switchboard");
        assert!(!out.tools[0].read_only);
        let schema = out.tools[0].input_schema.as_ref().unwrap();
        assert!(schema["properties"]["path"].is_object());
        assert_eq!(out.tools[0].example.as_ref().unwrap()["path"], "<path>");
        // Past the detailed ones, a result is brief.
        assert!(out.tools[1].input_schema.is_some());
        assert!(out.tools[2].input_schema.is_none() && out.tools[2].example.is_none());
        assert_eq!(out.searched, tools.tools().len());
        let none = search(&tools, "zzyzx qwv", 5, 3).unwrap();
        assert!(none.tools.is_empty());
        assert!(none.note.unwrap().contains("other words"));
        assert!(search(&tools, "  ", 5, 3).is_err());
    }

    #[test]
    fn a_near_tie_names_the_other_tool() {
        let tools = catalogue();
        let mut ties = 0;
        for query in [
            "what time is it",
            "list processes",
            "delete it",
            "run a command",
            "show the notes",
        ] {
            let out = search(&tools, query, 3, 3).unwrap();
            if let Some(instead) = &out.tools[0].instead {
                ties += 1;
                let other = &out.tools[1];
                assert!(
                    instead.starts_with(&format!("use `{}` instead for: ", other.name)),
                    "{query}: {instead}"
                );
            }
        }
        assert!(ties > 0, "no near tie among the queries");
        // A tool named exactly gets no such line.
        let out = search(&tools, "read_file", 3, 3).unwrap();
        assert!(out.tools[0].instead.is_none());
    }

    #[test]
    fn first_sentences_end_at_a_full_stop_not_inside_a_name() {
        assert_eq!(first_sentence("Read a file. Then more."), "Read a file");
        assert_eq!(first_sentence("Use v1.2 here. x"), "Use v1.2 here");
        assert_eq!(first_sentence("No stop"), "No stop");
    }
}
