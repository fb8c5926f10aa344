//! `search_content`: regex or literal search inside files with ripgrep's own crates: parallel,
//! .gitignore-aware, binary files skipped, one open file per worker (works under a 256 open-file
//! limit), results sorted by path and line and paged.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use grep_regex::{RegexMatcher, RegexMatcherBuilder};
use grep_searcher::{BinaryDetection, Searcher, SearcherBuilder, Sink, SinkContext, SinkMatch};
use ignore::WalkState;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{display, overrides, walker};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::text::{decode_lossy, truncate_chars};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "grep rg ripgrep ack search text inside files code codebase find string pattern regex where defined definition used usage references occurrences callers mentions todo";

/// Most context lines a call may ask for on each side.
const MAX_CONTEXT: usize = 10;

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseMode {
    /// Case-insensitive unless the pattern has an upper-case letter.
    #[default]
    Smart,
    Sensitive,
    Insensitive,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchContentArgs {
    /// What to look for: a regular expression (Rust/ripgrep syntax), or plain text with literal: true.
    pub pattern: String,
    /// Folder or file to search: absolute, or relative to the first root (default: the first root).
    #[serde(default)]
    pub path: Option<String>,
    /// Treat the pattern as plain text, not a regex.
    #[serde(default)]
    pub literal: bool,
    /// `smart` (default), `sensitive` or `insensitive`.
    #[serde(default)]
    pub case: CaseMode,
    /// Only search files matching these globs, e.g. ["*.rs", "src/**"].
    #[serde(default)]
    pub include: Vec<String>,
    /// Skip files matching these globs, e.g. ["*.min.js", "vendor/**"].
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Lines of context before and after each match (0-10, default 0).
    #[serde(default)]
    pub context: usize,
    /// Honour .gitignore and .ignore files (default true).
    pub gitignore: Option<bool>,
    /// Search hidden files and folders too.
    #[serde(default)]
    pub hidden: bool,
    /// Skip this many matches (for paging).
    #[serde(default)]
    pub offset: usize,
    /// At most this many matches (default files.max_search_results).
    pub max_results: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Match {
    pub path: String,
    /// 1-based line number.
    pub line: u64,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchContentOutput {
    pub matches: Vec<Match>,
    /// Matching lines found in all (the page is `matches`).
    pub total: usize,
    /// Files that had at least one match.
    pub files_matched: usize,
    /// Present when more matches follow: pass it as `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Present when the search stopped early: narrow the pattern, path or include globs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One file's kept lines: number → (text, is a match rather than context).
type FileLines = BTreeMap<u64, (String, bool)>;

/// Collects one file's matching and context lines.
struct Collect<'a> {
    lines: FileLines,
    max_chars: usize,
    total: &'a AtomicUsize,
    cap: usize,
}

impl Collect<'_> {
    fn keep(&mut self, n: Option<u64>, bytes: &[u8], is_match: bool) {
        let Some(n) = n else { return };
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let (text, _) = decode_lossy(bytes);
        let entry = self.lines.entry(n).or_insert((String::new(), false));
        entry.0 = truncate_chars(&text, self.max_chars);
        entry.1 |= is_match;
    }
}

impl Sink for Collect<'_> {
    type Error = io::Error;

    fn matched(&mut self, _: &Searcher, m: &SinkMatch<'_>) -> Result<bool, io::Error> {
        self.keep(m.line_number(), m.bytes(), true);
        Ok(self.total.fetch_add(1, Ordering::Relaxed) < self.cap)
    }

    fn context(&mut self, _: &Searcher, c: &SinkContext<'_>) -> Result<bool, io::Error> {
        self.keep(c.line_number(), c.bytes(), false);
        Ok(true)
    }
}

fn matcher(args: &SearchContentArgs) -> Result<RegexMatcher, ToolError> {
    let mut b = RegexMatcherBuilder::new();
    match args.case {
        CaseMode::Smart => b.case_smart(true),
        CaseMode::Sensitive => b.case_insensitive(false),
        CaseMode::Insensitive => b.case_insensitive(true),
    };
    b.fixed_strings(args.literal);
    use crate::support::regex::{RegexError, limit_matcher, matcher_error};
    limit_matcher(&mut b)
        .build(&args.pattern)
        .map_err(|e| match matcher_error(e) {
            e @ RegexError::TooBig { .. } => ToolError::invalid(e.to_string()),
            e => ToolError::invalid(format!(
                "`{}` is not a valid regex: {e}. Escape special characters or pass literal: true",
                crate::support::text::quote(&args.pattern, 200)
            )),
        })
}

pub fn search_content(
    scope: &FileScope,
    args: &SearchContentArgs,
) -> Result<SearchContentOutput, ToolError> {
    if args.pattern.is_empty() {
        return Err(ToolError::invalid("pattern is empty"));
    }
    if args.context > MAX_CONTEXT {
        return Err(ToolError::invalid(format!(
            "context is at most {MAX_CONTEXT} lines"
        )));
    }
    let input = args.path.clone().unwrap_or_else(|| ".".to_owned());
    let resolved = scope.existing(&input)?;
    let matcher = matcher(args)?;
    let cap = scope.files.max_search_matches;
    let max_chars = scope.files.max_line_chars;
    let mut builder = walker(&resolved.path, args.gitignore.unwrap_or(true), args.hidden);
    if !args.include.is_empty() || !args.exclude.is_empty() {
        builder.overrides(overrides(&resolved.path, &args.include, &args.exclude)?);
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8);
    builder.threads(threads);

    let total = AtomicUsize::new(0);
    let deadline = std::time::Instant::now() + scope.files.search_timeout;
    let timed_out = AtomicBool::new(false);
    let long_lines = AtomicUsize::new(0);
    let line_cap = scope.files.max_search_line_bytes;
    let walk_cap = scope.files.max_walk_entries;
    let walked = AtomicUsize::new(0);
    let walk_stopped = AtomicBool::new(false);
    let results: Mutex<Vec<(String, FileLines)>> = Mutex::new(Vec::new());
    let context = args.context;
    let roots: Arc<Vec<std::path::PathBuf>> =
        Arc::new(scope.roots().iter().map(|r| r.path.clone()).collect());

    builder.build_parallel().run(|| {
        let matcher = matcher.clone();
        let mut searcher = SearcherBuilder::new()
            .line_number(true)
            .before_context(context)
            .after_context(context)
            .binary_detection(BinaryDetection::quit(0))
            .heap_limit(Some(line_cap))
            .build();
        let (total, results, walked, walk_stopped, roots) =
            (&total, &results, &walked, &walk_stopped, roots.clone());
        let (timed_out, long_lines) = (&timed_out, &long_lines);
        Box::new(move |entry| {
            if total.load(Ordering::Relaxed) >= cap {
                return WalkState::Quit;
            }
            if std::time::Instant::now() >= deadline {
                timed_out.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            }
            if walked.fetch_add(1, Ordering::Relaxed) >= walk_cap {
                walk_stopped.store(true, Ordering::Relaxed);
                return WalkState::Quit;
            }
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            // The walk never follows symlinks; a file still outside the roots is skipped.
            if !roots.iter().any(|r| entry.path().starts_with(r)) {
                return WalkState::Continue;
            }
            let mut sink = Collect {
                lines: BTreeMap::new(),
                max_chars,
                total,
                cap,
            };
            // Read through a clock: one file cannot hold the search past its time.
            let searched = std::fs::File::open(entry.path()).and_then(|file| {
                let reader = Timed { inner: file, deadline };
                searcher.search_reader(&matcher, reader, &mut sink)
            });
            match searched {
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    timed_out.store(true, Ordering::Relaxed);
                    return WalkState::Quit;
                }
                // The heap limit: a line longer than the cap. grep-searcher reports it only as
                // text ("configured allocation limit … exceeded").
                Err(e) if e.to_string().contains("allocation limit") => {
                    long_lines.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
            if sink.lines.values().any(|(_, m)| *m) {
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((display(entry.path()), sink.lines));
            }
            WalkState::Continue
        })
    });

    let mut files = results.into_inner().unwrap_or_else(|e| e.into_inner());
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let files_matched = files.len();
    let mut all: Vec<Match> = Vec::new();
    for (path, lines) in files {
        for (&n, (text, is_match)) in &lines {
            if !is_match {
                continue;
            }
            let ctx = |range: std::ops::RangeInclusive<u64>| -> Vec<String> {
                range
                    .filter_map(|k| lines.get(&k).map(|(t, _)| t.clone()))
                    .collect()
            };
            let c = context as u64;
            let (before, after) = if c == 0 {
                (vec![], vec![])
            } else {
                (ctx(n.saturating_sub(c).max(1)..=n - 1), ctx(n + 1..=n + c))
            };
            all.push(Match {
                path: path.clone(),
                line: n,
                text: text.clone(),
                before,
                after,
            });
        }
    }
    let count = all.len();
    let limit = args
        .max_results
        .unwrap_or(scope.files.max_search_results)
        .clamp(1, scope.files.max_search_matches);
    let page: Vec<Match> = all.into_iter().skip(args.offset).take(limit).collect();
    let end = args.offset + page.len();
    let skipped = long_lines.load(Ordering::Relaxed);
    let note = if timed_out.load(Ordering::Relaxed) {
        Some(format!(
            "stopped after {} s (files.search_timeout_secs): the results are partial; search a smaller folder, add include globs or simplify the pattern",
            scope.files.search_timeout.as_secs()
        ))
    } else if skipped > 0 {
        Some(format!(
            "{skipped} file(s) skipped: a line longer than {} (files.max_search_line_bytes)",
            crate::support::text::human_bytes(line_cap as u64)
        ))
    } else if walk_stopped.load(Ordering::Relaxed) {
        Some(format!(
            "stopped after {walk_cap} entries (files.max_walk_entries); search a deeper folder or add include globs"
        ))
    } else if total.load(Ordering::Relaxed) >= cap {
        Some(format!(
            "stopped at {cap} matches (files.max_search_matches); narrow the pattern, path or include globs"
        ))
    } else {
        None
    };
    Ok(SearchContentOutput {
        matches: page,
        total: count,
        files_matched,
        next_offset: (end < count).then_some(end),
        note,
    })
}

/// A reader that fails with `TimedOut` once the search's time is over, so a search ends within
/// one read of its limit even inside one huge file.
struct Timed<R> {
    inner: R,
    deadline: std::time::Instant,
}

impl<R: io::Read> io::Read for Timed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::time::Instant::now() >= self.deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "files.search_timeout_secs",
            ));
        }
        self.inner.read(buf)
    }
}

#[tool_router(router = search_content_router, vis = "pub(crate)")]
impl Switchboard {
    /// Search inside files for a regex or literal text, like ripgrep (grep). Skips binary, hidden and .gitignored files by default. Returns matching lines by path and line, paged.
    #[tool(annotations(
        title = "Search in files",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn search_content(
        &self,
        Parameters(args): Parameters<SearchContentArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SearchContentOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || search_content(&scope, &args).map(Json)).await
    }
}
