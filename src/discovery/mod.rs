//! Tool search: how a model that sees only the compact core finds the tool for its task. An
//! [`Index`] over every offered tool (built-in, declarative and the child servers'), built once
//! per catalogue and reused, ranks tools for a task described in the model's own words:
//! BM25F over the name, title, search keywords, description and parameter names,
//! with the query's slang and synonyms expanded ([`synonyms`]), a bonus for a tool whose whole
//! name the query says, and a boost for the tools of a child server the query names. Plain
//! data in, indexes out: no MCP types here (the `search_tools` adapter builds the entries).
//!
//! Measured on the query sets of `tests/discovery/` (see `tools::discovery::quality`).

pub mod example;
pub mod meaning;
pub mod spelling;
pub mod synonyms;
pub mod words;

use std::collections::HashMap;

use words::{query_words, terms};

/// Term-frequency saturation and length normalisation, the usual BM25 values.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// How much a word counts in each field (BM25F): a word of the name says most about what the
/// tool does, a word of the description least.
const NAME: f64 = 3.0;
const TITLE: f64 = 2.0;
const KEYWORDS: f64 = 1.5;
const DESCRIPTION: f64 = 1.0;
const PARAMS: f64 = 0.75;

/// A word the query's own text holds counts fully; one its synonyms added counts this much.
const EXPANDED: f64 = 0.6;
/// A tool whose every name word the query holds ("send a push", "git status") scores this
/// much more.
const WHOLE_NAME: f64 = 1.35;
/// The tools of a child server the query names ("with the git server") score this much more.
const NAMED_SERVER: f64 = 1.6;
/// A child's tool scores this much of its own when the query names no server: where a child
/// duplicates a tool of switchboard's (the official filesystem server's `read_file`), the
/// one under switchboard's own path and network policy comes first, the child's next.
const CHILD: f64 = 0.9;

/// What the index knows of one tool.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub name: String,
    pub title: Option<String>,
    pub description: String,
    pub params: Vec<String>,
    /// Words a model uses for this tool's job that its description does not hold ("grep",
    /// "find definition", "where is … used" for `search_content`).
    pub keywords: String,
    /// The child server it comes from (its alias); `None` for switchboard's own tools.
    pub server: Option<String>,
}

impl Entry {
    /// The name without a child's alias prefix (`git__git_log` → `git_log`): the alias says
    /// which server, not what the tool does.
    pub fn own_name(&self) -> &str {
        match &self.server {
            Some(alias) => self
                .name
                .strip_prefix(alias.as_str())
                .and_then(|n| n.strip_prefix("__"))
                .unwrap_or(&self.name),
            None => &self.name,
        }
    }

    fn name_terms(&self) -> Vec<String> {
        let mut t = terms(self.own_name());
        t.sort();
        t.dedup();
        t
    }
}

/// One tool's place in a ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the entries the index was built from.
    pub entry: usize,
    pub score: f64,
}

/// An inverted index over the entries, built once per catalogue.
pub struct Index {
    entries: Vec<Entry>,
    /// Word → (entry, weighted frequency).
    postings: HashMap<String, Vec<(u32, f64)>>,
    /// Each entry's weighted length and name words.
    lengths: Vec<f64>,
    names: Vec<Vec<String>>,
    avg_len: f64,
    /// Alias words → entries of that child server.
    servers: Vec<(Vec<String>, Vec<u32>)>,
}

impl Index {
    pub fn new(entries: Vec<Entry>) -> Self {
        let mut postings: HashMap<String, Vec<(u32, f64)>> = HashMap::new();
        let mut lengths = Vec::with_capacity(entries.len());
        let mut names = Vec::with_capacity(entries.len());
        let mut servers: Vec<(Vec<String>, Vec<u32>)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            let mut tf: HashMap<String, f64> = HashMap::new();
            let mut len = 0.0;
            // Keywords are a bag of alternatives, not prose: they add to what a tool
            // matches but not to its length, so a rich vocabulary is not a penalty.
            let mut add = |weight: f64, text: &str, counts: bool| {
                for t in terms(text) {
                    *tf.entry(t).or_default() += weight;
                    if counts {
                        len += weight;
                    }
                }
            };
            add(NAME, e.own_name(), true);
            if let Some(t) = &e.title {
                add(TITLE, t, true);
            }
            add(KEYWORDS, &e.keywords, false);
            add(DESCRIPTION, &e.description, true);
            for p in &e.params {
                add(PARAMS, p, true);
            }
            if let Some(alias) = &e.server {
                let words = terms(alias);
                match servers.iter_mut().find(|(w, _)| *w == words) {
                    Some((_, members)) => members.push(i),
                    None => servers.push((words, vec![i])),
                }
            }
            for (t, f) in tf {
                postings.entry(t).or_default().push((i, f));
            }
            lengths.push(len);
            names.push(e.name_terms());
        }
        let avg_len = (lengths.iter().sum::<f64>() / entries.len().max(1) as f64).max(1.0);
        Self {
            entries,
            postings,
            lengths,
            names,
            avg_len,
            servers,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every entry holding a word of `query`, best first (ties in entry order). An entry
    /// named exactly by the query comes first.
    pub fn search(&self, query: &str) -> Vec<Hit> {
        let query = query.trim();
        let mut words = query_words(query);
        // An identifier that is a tool's name is the model naming the tool: its words count.
        for id in std::mem::take(&mut words.identifiers) {
            if self
                .entries
                .iter()
                .any(|e| e.name.eq_ignore_ascii_case(&id))
            {
                let named = terms(&id);
                for (w, inside) in &mut words.words {
                    if named.contains(w) {
                        *inside = false;
                    }
                }
            }
        }
        let weighted = synonyms::expand(&words);
        if weighted.is_empty() || self.entries.is_empty() {
            return self.exact(query).into_iter().collect();
        }
        let n = self.entries.len() as f64;
        let mut scores = vec![0.0; self.entries.len()];
        for (term, qw) in &weighted {
            let Some(list) = self.postings.get(term) else {
                continue;
            };
            let df = list.len() as f64;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(i, f) in list {
                let len = self.lengths[i as usize];
                let norm = f + K1 * (1.0 - B + B * len / self.avg_len);
                scores[i as usize] += qw * idf * f * (K1 + 1.0) / norm;
            }
        }
        let said: Vec<&str> = weighted.iter().map(|(t, _)| t.as_str()).collect();
        for (i, name) in self.names.iter().enumerate() {
            if scores[i] > 0.0 && !name.is_empty() && name.iter().all(|w| said.contains(&&**w)) {
                scores[i] *= WHOLE_NAME;
            }
        }
        // "with the git server", "the filesystem MCP server": that child's tools first.
        let typed: Vec<&str> = weighted
            .iter()
            .filter(|(_, w)| *w >= 1.0)
            .map(|(t, _)| t.as_str())
            .collect();
        let says_server = typed.iter().any(|t| matches!(*t, "server" | "mcp"));
        for (words, members) in &self.servers {
            let named = says_server
                && !words.is_empty()
                && words.iter().all(|w| typed.contains(&w.as_str()));
            for &i in members {
                scores[i as usize] *= if named { NAMED_SERVER } else { CHILD };
            }
        }
        let mut hits: Vec<Hit> = scores
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(entry, score)| Hit { entry, score })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        if let Some(exact) = self.exact(query) {
            hits.retain(|h| h.entry != exact.entry);
            hits.insert(0, exact);
        }
        hits
    }

    /// The entry the query names exactly, if any, scored above everything.
    fn exact(&self, query: &str) -> Option<Hit> {
        self.entries
            .iter()
            .position(|e| e.name == query)
            .map(|entry| Hit {
                entry,
                score: f64::MAX,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, description: &str, keywords: &str, server: Option<&str>) -> Entry {
        Entry {
            name: name.into(),
            description: description.into(),
            keywords: keywords.into(),
            server: server.map(Into::into),
            ..Entry::default()
        }
    }

    fn names(index: &Index, query: &str) -> Vec<String> {
        index
            .search(query)
            .into_iter()
            .map(|h| index.entries()[h.entry].name.clone())
            .collect()
    }

    #[test]
    fn names_keywords_and_servers_steer_the_ranking() {
        let index = Index::new(vec![
            entry(
                "read_file",
                "Read a text file from disk.",
                "cat show contents",
                None,
            ),
            entry(
                "write_file",
                "Write text to a file, replacing it.",
                "save",
                None,
            ),
            entry(
                "web_search",
                "Search the web for pages.",
                "google online",
                None,
            ),
            entry(
                "search_content",
                "Search inside files for text.",
                "grep references",
                None,
            ),
            entry("fs__read_text_file", "Read a file as text.", "", Some("fs")),
            entry("git__git_log", "Shows the commit logs", "", Some("git")),
            entry(
                "git_log",
                "List commits of a git repository.",
                "history",
                None,
            ),
        ]);
        assert_eq!(names(&index, "read a file")[0], "read_file");
        assert_eq!(names(&index, "search web pages")[0], "web_search");
        assert_eq!(names(&index, "grep inside my files")[0], "search_content");
        // Keywords and slang reach a tool whose description has none of the words.
        assert_eq!(names(&index, "cat main.rs")[0], "read_file");
        assert_eq!(names(&index, "google it")[0], "web_search");
        // Naming the server brings its tool first; naming the tool exactly wins outright.
        assert_eq!(
            names(&index, "git log with the git server")[0],
            "git__git_log"
        );
        assert_eq!(names(&index, "git log")[0], "git_log");
        assert_eq!(names(&index, "fs__read_text_file")[0], "fs__read_text_file");
        assert!(names(&index, "the a of").is_empty());
        assert!(names(&index, "kubernetes").is_empty());
        assert_eq!(names(&index, "git_log"), names(&index, "git_log"));
    }
}
