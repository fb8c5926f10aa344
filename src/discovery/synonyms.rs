//! Query expansion: the words models and programmers use for a job (shell commands, slang,
//! synonyms) mapped to the words tool definitions use for it. It serves every tool, a child
//! server's too, which has no search keywords of ours: "cat" reaches a tool that "reads a
//! file", "folder" one that lists a "directory". Only the query is expanded. A word that means
//! the same ([`SAME`]: `rm` is delete) counts like a typed word; one that is only associated
//! ([`RELATED`]: "today" with the current time) counts less.

use std::collections::HashMap;
use std::sync::LazyLock;

#[cfg(test)]
use super::words::query_words;
use super::words::{QueryWords, terms};

/// Word (or shell command) → words that mean the same: they count like typed words.
const SAME: &[(&str, &str)] = &[
    ("folder", "directory"),
    ("folders", "directory"),
    ("dir", "directory"),
    ("subfolder", "directory"),
    ("ls", "list directory"),
    ("cat", "read file contents"),
    ("less", "read file"),
    ("grep", "search content text"),
    ("rg", "search content text"),
    ("ripgrep", "search content text"),
    ("ack", "search content text"),
    ("mkdir", "create directory"),
    ("rm", "delete"),
    ("rmdir", "delete directory"),
    ("erase", "delete"),
    ("trash", "delete"),
    ("mv", "move rename"),
    ("cp", "copy"),
    ("stat", "file info"),
    ("ps", "list processes"),
    ("htop", "list processes"),
    ("printenv", "environment variables"),
    ("curl", "http request"),
    ("wget", "download file"),
    ("google", "web search"),
    ("mail", "email"),
    ("sql", "database query"),
    ("timezone", "time zone"),
    ("tz", "time zone"),
    ("utc", "time zone"),
    ("gmt", "time zone"),
    ("pst", "time zone"),
    ("pdt", "time zone"),
    ("est", "time zone"),
    ("edt", "time zone"),
    ("cst", "time zone"),
    ("cet", "time zone"),
    ("cest", "time zone"),
    ("ist", "time zone"),
    ("jst", "time zone"),
    ("conversion", "convert"),
    ("memorize", "memory save"),
    ("recall", "memory search"),
    ("forget", "memory delete"),
    ("repo", "repository"),
];

/// Word → words associated with it: they count [`super::EXPANDED`].
const RELATED: &[(&str, &str)] = &[
    ("readme", "file"),
    ("markdown", "file"),
    ("people", "person entity"),
    ("makefile", "file"),
    ("dockerfile", "file"),
    // Files and folders.
    ("tree", "directory tree"),
    ("head", "read file first lines"),
    ("tail", "read file last lines"),
    ("contents", "read"),
    ("view", "read"),
    ("open", "read"),
    ("see", "read"),
    ("show", "read list"),
    ("print", "read"),
    ("codebase", "search content"),
    ("usage", "search content"),
    ("references", "search content"),
    ("defined", "search content definition"),
    ("touch", "create file"),
    ("remove", "delete"),
    ("rename", "move"),
    ("stage", "add"),
    ("unstage", "reset"),
    ("duplicate", "copy"),
    ("backup", "copy"),
    ("locate", "find"),
    ("save", "write"),
    ("modify", "edit change"),
    ("replace", "edit"),
    ("sed", "edit replace"),
    ("picture", "image"),
    ("photo", "image"),
    ("screenshot", "image"),
    // Programs and processes.
    ("exec", "run"),
    ("execute", "run"),
    ("launch", "start run"),
    ("bash", "shell"),
    ("sh", "shell"),
    ("zsh", "shell"),
    ("script", "code"),
    ("snippet", "code"),
    ("top", "list processes"),
    ("pid", "process"),
    ("job", "process"),
    ("stdin", "input"),
    ("pip", "install package"),
    ("npm", "package"),
    ("env", "environment variables"),
    ("var", "variable"),
    ("os", "system"),
    ("ram", "memory system"),
    ("cpu", "system processes"),
    ("disk", "system"),
    // The web.
    ("api", "http request"),
    ("endpoint", "http request"),
    ("rest", "http request"),
    ("internet", "web search"),
    ("online", "web search"),
    ("webpage", "web page"),
    ("website", "web page"),
    ("link", "url"),
    ("article", "page url"),
    ("scrape", "fetch page"),
    // Data.
    ("db", "database"),
    ("sqlite", "database"),
    ("postgres", "database"),
    ("postgresql", "database"),
    ("mysql", "database"),
    ("select", "query"),
    ("remember", "memory"),
    ("notes", "memory"),
    ("node", "entity"),
    ("nodes", "entities"),
    ("edge", "relation"),
    ("link", "relation"),
    // Models and messages.
    ("llm", "model ai"),
    ("ollama", "model ai"),
    ("slack", "webhook"),
    ("discord", "webhook"),
    ("teams", "webhook"),
    ("phone", "push"),
    ("ntfy", "push"),
    ("popup", "desktop notification"),
    ("toast", "desktop notification"),
    // Time.
    ("date", "time current"),
    ("today", "current time date"),
    ("clock", "time"),
];

/// Stemmed word → (stemmed word it stands for, weight).
static MAP: LazyLock<HashMap<String, Vec<(String, f64)>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for (table, weight) in [(SAME, 1.0), (RELATED, super::EXPANDED)] {
        for (word, means) in table {
            // A stop word as a key would never be seen; the table test keeps that true.
            if let Some(key) = terms(word).into_iter().next() {
                let words = terms(means).into_iter().map(|m| (m, weight));
                map.entry(key).or_default().extend(words);
            }
        }
    }
    map
});

/// A word inside a name (`sh` of `deploy.sh`) counts this much, and is not expanded.
const INSIDE_NAME: f64 = 0.5;

/// The query's words with their weights: each typed word 1.0 (one inside a name
/// [`INSIDE_NAME`]), and the words its synonyms add, by their table (a word both typed and
/// added keeps the larger weight).
pub fn expand(query: &QueryWords) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::with_capacity(query.words.len() * 2 + 3);
    // Word → its place in `out`: linear in the query's length, however long it is.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut put = |t: &str, w: f64| match seen.get(t) {
        Some(&i) => out[i].1 = out[i].1.max(w),
        None => {
            seen.insert(t.to_owned(), out.len());
            out.push((t.to_owned(), w));
        }
    };
    for (t, inside_name) in &query.words {
        put(t, if *inside_name { INSIDE_NAME } else { 1.0 });
    }
    for (t, _) in query.words.iter().filter(|(_, inside_name)| !inside_name) {
        for (m, w) in MAP.get(t).into_iter().flatten() {
            put(m, *w);
        }
    }
    // A named file or URL says what the task is about, as a word would.
    if query.file {
        for t in terms("file") {
            put(&t, super::EXPANDED);
        }
    }
    if query.url {
        put("url", 1.0);
        put("web", super::EXPANDED);
        put("page", super::EXPANDED);
    }
    if query.shell {
        put("shell", 1.0);
    }
    if query.clock {
        put("time", 1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_a_word_the_query_keeps() {
        for (word, means) in SAME.iter().chain(RELATED) {
            assert_eq!(terms(word).len(), 1, "{word}");
            assert!(!terms(means).is_empty(), "{word}: {means}");
        }
    }

    #[test]
    fn typed_words_and_equivalents_count_fully_associations_less() {
        let q = expand(&query_words("cat the folder, today"));
        let w = |t: &str| q.iter().find(|(x, _)| x == t).map(|(_, w)| *w);
        assert_eq!(w("cat"), Some(1.0));
        assert_eq!(w("read"), Some(1.0));
        assert_eq!(w("directory"), Some(1.0));
        assert_eq!(w("current"), Some(super::super::EXPANDED));
        // A word both typed and added keeps its full weight.
        let q = expand(&query_words("today's current time"));
        assert_eq!(q.iter().find(|(x, _)| x == "current").unwrap().1, 1.0);
        // `sh` of a file name is neither the shell nor a full word.
        let q = expand(&query_words("chmod deploy.sh"));
        assert_eq!(q.iter().find(|(x, _)| x == "sh").unwrap().1, INSIDE_NAME);
        assert!(!q.iter().any(|(x, _)| x == "shell"));
        // ... and says the task is about a file.
        let file = &terms("file")[0];
        assert_eq!(
            q.iter().find(|(x, _)| x == file).unwrap().1,
            super::super::EXPANDED
        );
    }
}
