//! The words a tool search compares: split at punctuation, `_` and camelCase, lower-cased,
//! stripped of common English endings and of words that say nothing about a task ("the",
//! "please", "could"; "file" stays). Numbers alone say nothing either and are dropped.

const STOP: &[&str] = &[
    "a", "about", "again", "all", "am", "an", "and", "any", "anything", "are", "as", "at", "be",
    "been", "but", "by", "can", "could", "did", "do", "does", "done", "for", "from", "give",
    "going", "got", "had", "has", "have", "here", "how", "i", "if", "in", "into", "is", "it",
    "its", "just", "let", "like", "ll", "m", "me", "might", "my", "need", "now", "of", "on", "or",
    "our", "out", "please", "quickly", "re", "right", "s", "should", "so", "some", "t", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to",
    "tool", "up", "us", "use", "using", "ve", "want", "was", "we", "were", "what", "when", "where",
    "which", "who", "why", "will", "with", "would", "you", "your",
];

/// The words of `text` as the index compares them.
pub fn terms(text: &str) -> Vec<String> {
    words(text).into_iter().map(|(w, _)| w).collect()
}

/// A query's words, and what its names say about the task.
#[derive(Debug, Default, PartialEq)]
pub struct QueryWords {
    /// Each word, with whether it stands inside a file name or URL (`sh` of `deploy.sh`,
    /// `notes` of `notes.md`): a part of a name says little about the task and must not be
    /// read as a word of its own (`sh` is not the shell there).
    pub words: Vec<(String, bool)>,
    /// It names a file (`main.rs`, `src/lib`, `.env`): the task is about a file.
    pub file: bool,
    /// It names a URL (`https://…`, `docs.rs/serde`): the task is about a web page.
    pub url: bool,
    /// It holds a shell operator (`|`, `&&`, `>`, `$(`): the task is a shell command line.
    pub shell: bool,
    /// It holds a clock time (`10:00`, `3pm`): the task is about time.
    pub clock: bool,
    /// Identifiers it names (`DATABASE_URL`, `handleLogin`, `read_file`), lower-cased: names
    /// of things, whose words stand inside a name unless the identifier is a tool's name.
    pub identifiers: Vec<String>,
}

/// Reads a query: its words, and whether it names a file or a URL.
pub fn query_words(text: &str) -> QueryWords {
    let mut q = QueryWords::default();
    for raw in text.split_whitespace() {
        q.shell |= matches!(raw, "|" | "||" | "&&" | ">" | ">>" | "2>&1" | "<")
            || raw.contains("$(")
            || (raw.len() > 1 && raw.contains('|'));
        let token = raw.trim_matches(|c: char| "\"'`,;:()[]{}<>!?".contains(c));
        let token = token.trim_end_matches('.');
        q.clock |= is_clock(token);
        let kind = name_kind(token);
        q.file |= kind == Some(Name::File) || kind == Some(Name::Path);
        q.url |= kind == Some(Name::Url);
        if kind.is_none() && is_identifier(token) {
            q.identifiers.push(token.to_lowercase());
        }
        let inside = kind.is_some() || is_identifier(token);
        q.words
            .extend(words(token).into_iter().map(|(w, _)| (w, inside)));
    }
    q
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    /// `main.rs`, `.env.example`, `src/main.rs`.
    File,
    /// `src/components`, `~/Downloads`: a folder, most likely.
    Path,
    Url,
}

/// What kind of name `token` is, if any.
fn name_kind(token: &str) -> Option<Name> {
    if token.contains("://") || token.starts_with("www.") {
        return Some(Name::Url);
    }
    // `docs.rs/serde`: a host with a dot, then a path.
    if let Some((host, _)) = token.split_once('/')
        && host.contains('.')
        && host
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Some(Name::Url);
    }
    let last = token.rsplit('/').next().unwrap_or(token);
    if has_extension(last) || (last.starts_with('.') && last.len() > 1) {
        return Some(Name::File);
    }
    (token.len() > 1 && token.contains('/')).then_some(Name::Path)
}

/// `DATABASE_URL`, `deprecated_api`, `handleLogin`: a name written the way code writes one
/// (words joined by `_`, or a capital inside a lower-case word).
fn is_identifier(token: &str) -> bool {
    let chars: Vec<char> = token.chars().collect();
    chars.len() > 2
        && chars.iter().all(|c| c.is_alphanumeric() || *c == '_')
        && (chars[1..chars.len() - 1].contains(&'_')
            || chars
                .windows(2)
                .any(|w| w[0].is_lowercase() && w[1].is_uppercase()))
}

/// `10:00`, `9am`, `3pm`, `14:30`: a time of day.
fn is_clock(token: &str) -> bool {
    let t = token.to_ascii_lowercase();
    let t = t
        .strip_suffix("am")
        .or_else(|| t.strip_suffix("pm"))
        .map_or((t.as_str(), false), |rest| (rest, true));
    let (digits, meridiem) = t;
    let (h, m) = digits.split_once(':').unwrap_or((digits, ""));
    let hour = !h.is_empty() && h.len() <= 2 && h.chars().all(|c| c.is_ascii_digit());
    let minutes = m.len() == 2 && m.chars().all(|c| c.is_ascii_digit());
    hour && (meridiem || minutes)
}

/// `main.rs`, `notes.md`: a name, a dot and a short extension with a letter in it (not
/// `v1.2`, not `e.g`).
fn has_extension(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((base, ext)) => {
            !base.is_empty()
                && (2..=5).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
                && ext.chars().any(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

fn words(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    // The character before the current word, and whether the word follows `x.`.
    let mut before = ' ';
    let mut last = ' ';
    let mut dotted = false;
    let flush = |word: &mut String, dotted: bool, out: &mut Vec<(String, bool)>| {
        if !word.is_empty() {
            let w = std::mem::take(word);
            if !STOP.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()) {
                out.push((stem(&w), dotted));
            }
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            // `readFile` is two words, like `read_file`.
            if c.is_uppercase() && prev_lower {
                flush(&mut word, dotted, &mut out);
            }
            if word.is_empty() {
                dotted = last == '.' && before.is_alphanumeric();
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            word.extend(c.to_lowercase());
        } else {
            prev_lower = false;
            flush(&mut word, dotted, &mut out);
        }
        before = last;
        last = c;
    }
    flush(&mut word, dotted, &mut out);
    out
}

/// A light suffix stripper, the same on both sides, so "files" meets "file", "searching"
/// "search", "deleted" "delete" and "directories" "directory".
fn stem(w: &str) -> String {
    if w.len() <= 3 {
        return w.to_owned();
    }
    let mut s = if let Some(x) = w.strip_suffix("ies") {
        format!("{x}y")
    } else if let Some(x) = w
        .strip_suffix("es")
        .filter(|x| x.ends_with(['s', 'x', 'z']) || x.ends_with("ch") || x.ends_with("sh"))
    {
        x.to_owned()
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w[..w.len() - 1].to_owned()
    } else {
        w.to_owned()
    };
    let verb = s
        .strip_suffix("ing")
        .filter(|x| x.len() >= 3)
        .or_else(|| s.strip_suffix("ed").filter(|x| x.len() >= 4))
        .map(undouble);
    if let Some(v) = verb {
        s = v;
    }
    if s.len() > 3 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// "runn" → "run", "stopp" → "stop" (but "install" stays). Compares characters, never bytes,
/// so a word in any script is cut only at a character boundary.
fn undouble(x: &str) -> String {
    let mut chars = x.chars().rev();
    match (chars.next(), chars.next()) {
        (Some(q), Some(p))
            if p == q && q.is_ascii_alphabetic() && !matches!(q, 'l' | 's' | 'z') =>
        {
            x[..x.len() - 1].to_owned()
        }
        _ => x.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_underscores_and_camel_case_and_meet_their_stems() {
        assert_eq!(terms("read_file"), ["read", "fil"]);
        assert_eq!(terms("getIssueComments"), ["get", "issu", "comment"]);
        assert_eq!(terms("Searching the files"), terms("search file"));
        assert_eq!(terms("running embeddings"), terms("run embed"));
        assert_eq!(terms("writing"), terms("writes"));
        assert_eq!(terms("deleted"), terms("delete"));
        assert_eq!(terms("directories"), terms("directory"));
        assert_eq!(terms("processes"), terms("process"));
        assert_eq!(terms("boxes"), ["box"]);
        assert_eq!(terms("HTTP2 request"), ["http2", "request"]);
        // The words of a file name or URL stand inside a name, and say what the task is about.
        let q = query_words("check deploy.sh. then sh");
        let w = |s: &str, inside: bool| (s.to_owned(), inside);
        assert_eq!(
            q.words,
            [
                w("check", false),
                w("deploy", true),
                w("sh", true),
                w("sh", false)
            ]
        );
        assert!(q.file && !q.url);
        let q = query_words("read https://example.com/post and docs.rs/serde");
        assert!(q.url && !q.file);
        assert!(q.words.iter().filter(|(_, inside)| *inside).count() >= 5);
        assert!(query_words("what's in src/main.rs").file);
        assert!(query_words("open .env.example").file);
        assert!(query_words("../src/x").file && query_words("./run.sh").file);
        let q = query_words("mkdir -p src/components/ui");
        assert!(q.file && q.words.contains(&w("component", true)));
        for plain in ["upgrade to v1.2", "e.g. this", "list the tables", "a / b"] {
            let q = query_words(plain);
            assert!(!q.file && !q.url, "{plain}");
        }
        // Identifiers are names; operators mean a shell; clock times mean time.
        let q = query_words("where is DATABASE_URL read by handleLogin or x_y");
        assert_eq!(q.identifiers, ["database_url", "handlelogin", "x_y"]);
        assert!(q.words.contains(&w("databas", true)) && q.words.contains(&w("read", false)));
        assert!(query_words("find . | xargs rm").shell && query_words("a && b").shell);
        assert!(query_words("echo $(date)").shell && !query_words("a or b").shell);
        for t in ["10:00", "9am", "3PM", "14:30"] {
            assert!(query_words(&format!("at {t} in Paris")).clock, "{t}");
        }
        assert!(!query_words("port 3000 and v2").clock);
        // Any script, any ending: never cut inside a character.
        for w in ["ꪪꪪing", "ꪪꪪed", "ééés", "日本語ies", "ßßing", "ǅǅ"] {
            assert!(!terms(w).is_empty(), "{w}");
        }
    }
}
