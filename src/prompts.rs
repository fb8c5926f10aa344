//! Prompts served to the host: Markdown files with YAML front matter (`name`, `title`,
//! `description`, `arguments`) and a body with `{{arg}}` placeholders. The prompts shipped in the
//! repository's `prompts/` folder are compiled in; files in the prompt folders add to them or
//! replace one of the same name. A broken file is reported (log and `doctor`) and skipped.
//! Arguments may list their only values (`enum`) or suggestions (`complete: path` or a list)
//! for `completion/complete`; a body may be `## user` / `## assistant` sections, and
//! `{{resource:URI}}` embeds a resource (`{{resource:{path}}}`: a file inside the roots).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::folders::Named;
use crate::support::frontmatter;

/// The prompts compiled into the binary, from the repository's `prompts/` folder.
const BUILT_IN: &[(&str, &str)] = &[
    ("code_review.md", include_str!("../prompts/code_review.md")),
    (
        "commit_message.md",
        include_str!("../prompts/commit_message.md"),
    ),
    ("fetch.md", include_str!("../prompts/fetch.md")),
    ("recall.md", include_str!("../prompts/recall.md")),
    ("research.md", include_str!("../prompts/research.md")),
    (
        "explain_error.md",
        include_str!("../prompts/explain_error.md"),
    ),
    (
        "summarize_file.md",
        include_str!("../prompts/summarize_file.md"),
    ),
    (
        "summarize_with_local_model.md",
        include_str!("../prompts/summarize_with_local_model.md"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFront {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    arguments: Vec<RawArg>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArg {
    name: String,
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(rename = "enum", default)]
    choices: Vec<String>,
    complete: Option<RawComplete>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawComplete {
    Word(String),
    List(Vec<String>),
}

/// Where `completion/complete` finds values for an argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Complete {
    /// Files and folders inside the roots.
    Path,
    /// Suggestions (any other value is accepted too).
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct PromptArg {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
    /// The only values accepted, when not empty.
    pub choices: Vec<String>,
    pub complete: Option<Complete>,
}

/// A completion answer for a prompt argument.
#[derive(Debug, PartialEq)]
pub enum Suggest {
    Values(Vec<String>),
    /// Files and folders inside the roots, completed by the server.
    Paths,
}

/// Who speaks a message of a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    User,
    Assistant,
}

#[derive(Debug, Clone)]
pub struct PromptDef {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArg>,
    /// The messages: one user message, or the `## user` / `## assistant` sections in order.
    messages: Vec<(Speaker, String)>,
    /// The file it came from, or `built-in:NAME`.
    pub source: String,
}

/// A rendered message: who speaks it and its pieces.
pub type Message = (Speaker, Vec<Piece>);

/// One piece of a rendered message: text, or a resource to embed (`{{resource:URI}}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Resource(String),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PromptError {
    #[error("unknown prompt `{0}`")]
    Unknown(String),
    #[error("prompt `{prompt}` needs the argument `{arg}`")]
    MissingArgument { prompt: String, arg: String },
    #[error("prompt `{prompt}` has no argument `{arg}`; its arguments are: {known}")]
    UnknownArgument {
        prompt: String,
        arg: String,
        known: String,
    },
    #[error("prompt `{prompt}`: `{arg}` must be one of: {choices}")]
    NotAChoice {
        prompt: String,
        arg: String,
        choices: String,
    },
}

#[derive(Debug, Default)]
pub struct Prompts {
    pub defs: Named<PromptDef>,
}

impl Prompts {
    /// Built-ins, then every `*.md` file in `dirs` (missing folders are skipped); see
    /// [`Named::load`] for `previous`.
    pub fn load(dirs: &[PathBuf], previous: Option<&Prompts>) -> Self {
        Self {
            defs: Named::load(
                BUILT_IN,
                &crate::folders::files_in(dirs, &["md"]),
                |input, file| parse(&input.text()?, file),
                "prompt",
                previous.map(|p| &p.defs),
            ),
        }
    }

    pub fn list(&self) -> impl Iterator<Item = &PromptDef> {
        self.defs.list()
    }

    pub fn get(&self, name: &str) -> Option<&PromptDef> {
        self.defs.get(name)
    }

    /// Fills the placeholders. Missing optional arguments become "(not given)". Each message
    /// is a list of pieces: text, and the resources to embed where `{{resource:URI}}` stood.
    pub fn render(
        &self,
        name: &str,
        args: &BTreeMap<String, String>,
    ) -> Result<(&PromptDef, Vec<Message>), PromptError> {
        let def = self
            .defs
            .get(name)
            .ok_or_else(|| PromptError::Unknown(name.to_owned()))?;
        for k in args.keys() {
            if !def.arguments.iter().any(|a| &a.name == k) {
                return Err(PromptError::UnknownArgument {
                    prompt: name.to_owned(),
                    arg: k.clone(),
                    known: def
                        .arguments
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        for a in &def.arguments {
            let given = args.get(&a.name).filter(|v| !v.trim().is_empty());
            if a.required && given.is_none() {
                return Err(PromptError::MissingArgument {
                    prompt: name.to_owned(),
                    arg: a.name.clone(),
                });
            }
            if let Some(v) = given
                && !a.choices.is_empty()
                && !a.choices.contains(v)
            {
                return Err(PromptError::NotAChoice {
                    prompt: name.to_owned(),
                    arg: a.name.clone(),
                    choices: a.choices.join(", "),
                });
            }
        }
        let value = |key: &str| {
            args.get(key)
                .cloned()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "(not given)".to_owned())
        };
        let messages = def
            .messages
            .iter()
            .map(|(who, text)| {
                let mut pieces = Vec::new();
                let mut current = String::new();
                for token in tokens(text) {
                    match token {
                        Token::Text(t) => current.push_str(t),
                        Token::Arg(k) => current.push_str(&value(k)),
                        Token::Resource(uri) => {
                            let text = std::mem::take(&mut current);
                            if !text.trim().is_empty() {
                                pieces.push(Piece::Text(text.trim().to_owned()));
                            }
                            pieces.push(Piece::Resource(fill_uri(uri, &value)));
                        }
                    }
                }
                if !current.trim().is_empty() {
                    pieces.push(Piece::Text(current.trim().to_owned()));
                }
                (*who, pieces)
            })
            .collect();
        Ok((def, messages))
    }

    /// What `completion/complete` offers for a prompt's argument: its choices or listed
    /// suggestions starting with `prefix`, or file paths. `None` for an unknown prompt or
    /// argument.
    pub fn complete(&self, prompt: &str, arg: &str, prefix: &str) -> Option<Suggest> {
        let a = self
            .defs
            .get(prompt)?
            .arguments
            .iter()
            .find(|a| a.name == arg)?;
        let pool = match &a.complete {
            Some(Complete::Path) => return Some(Suggest::Paths),
            Some(Complete::List(l)) => l,
            None => &a.choices,
        };
        let lower = prefix.to_lowercase();
        Some(Suggest::Values(
            pool.iter()
                .filter(|v| v.to_lowercase().starts_with(&lower))
                .cloned()
                .collect(),
        ))
    }
}

/// A piece of a prompt body.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    Text(&'a str),
    /// `{{name}}`
    Arg(&'a str),
    /// `{{resource:URI}}`, the URI possibly holding `{name}` placeholders.
    Resource(&'a str),
}

/// Splits a body into text, `{{arg}}` and `{{resource:URI}}`. An unclosed `{{` is text.
fn tokens(body: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let inner = after.trim_start();
        let end = if let Some(uri) = inner.strip_prefix("resource:") {
            // The URI may hold `{name}`: its closing `}}` is the first one outside them.
            let mut depth = 0usize;
            let bytes = uri.as_bytes();
            let mut i = 0;
            let mut found = None;
            while i < bytes.len() {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' if depth > 0 => depth -= 1,
                    b'}' if bytes.get(i + 1) == Some(&b'}') => {
                        found = Some(i);
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            found.map(|i| {
                let offset = after.len() - uri.len();
                (offset + i, Some(uri[..i].trim()))
            })
        } else {
            after.find("}}").map(|e| (e, None))
        };
        let Some((end, resource)) = end else { break };
        if start > 0 {
            out.push(Token::Text(&rest[..start]));
        }
        out.push(match resource {
            Some(uri) => Token::Resource(uri),
            None => Token::Arg(after[..end].trim()),
        });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Token::Text(rest));
    }
    out
}

/// Fills the `{name}` placeholders of an embedded resource's URI.
fn fill_uri(uri: &str, value: &impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = uri;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        match rest[start + 1..].find('}') {
            Some(end) => {
                out.push_str(&value(rest[start + 1..start + 1 + end].trim()));
                rest = &rest[start + 1 + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names each `{{arg}}` and each `{name}` in a `{{resource:URI}}` uses, the latter marked.
fn placeholders(body: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for t in tokens(body) {
        match t {
            Token::Arg(k) => found.push((k.to_owned(), false)),
            Token::Resource(uri) => {
                let used = std::cell::RefCell::new(Vec::new());
                fill_uri(uri, &|k| {
                    used.borrow_mut().push((k.to_owned(), true));
                    String::new()
                });
                found.extend(used.into_inner());
            }
            Token::Text(_) => {}
        }
    }
    found
}

/// Splits a body into `## user` / `## assistant` sections; a body without them is one user
/// message.
fn sections(body: &str) -> Result<Vec<(Speaker, String)>, String> {
    let heading = |line: &str| match line.trim().to_ascii_lowercase().as_str() {
        "## user" => Some(Speaker::User),
        "## assistant" => Some(Speaker::Assistant),
        _ => None,
    };
    if !body.lines().any(|l| heading(l).is_some()) {
        return Ok(vec![(Speaker::User, body.to_owned())]);
    }
    let mut out: Vec<(Speaker, String)> = Vec::new();
    for line in body.lines() {
        if let Some(who) = heading(line) {
            out.push((who, String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        } else if !line.trim().is_empty() {
            return Err(
                "text before the first `## user` or `## assistant` heading; put it in a section"
                    .into(),
            );
        }
    }
    if let Some((who, _)) = out.iter().find(|(_, t)| t.trim().is_empty()) {
        return Err(format!(
            "an empty `## {}` section",
            if *who == Speaker::User {
                "user"
            } else {
                "assistant"
            }
        ));
    }
    Ok(out)
}

fn parse(text: &str, file: &str) -> Result<PromptDef, String> {
    let (front, body) = frontmatter::split(text);
    let raw: RawFront = match front {
        Some(f) => serde_norway::from_str(f).map_err(|e| format!("front matter: {e}"))?,
        None => RawFront {
            name: None,
            title: None,
            description: None,
            arguments: vec![],
        },
    };
    let name = crate::folders::definition_name(raw.name, file, "prompt")?;
    let mut arguments = Vec::new();
    for a in raw.arguments {
        if arguments.iter().any(|x: &PromptArg| x.name == a.name) {
            return Err(format!("the argument `{}` is declared twice", a.name));
        }
        let complete = match a.complete {
            None => None,
            Some(RawComplete::Word(w)) if w == "path" => Some(Complete::Path),
            Some(RawComplete::Word(w)) => {
                return Err(format!(
                    "argument `{}`: `complete: {w}` must be `path` or a list of values",
                    a.name
                ));
            }
            Some(RawComplete::List(l)) => Some(Complete::List(l)),
        };
        if complete.is_some() && !a.choices.is_empty() {
            return Err(format!(
                "argument `{}`: give `enum` (the only values) or `complete` (suggestions), not both",
                a.name
            ));
        }
        arguments.push(PromptArg {
            name: a.name,
            description: a.description,
            required: a.required,
            choices: a.choices,
            complete,
        });
    }
    for (p, in_uri) in placeholders(body) {
        match arguments.iter().find(|a| a.name == p) {
            None => {
                return Err(format!(
                    "the body uses `{p}` but `arguments` does not declare it"
                ));
            }
            Some(a) if in_uri && !a.required => {
                return Err(format!(
                    "a `{{{{resource:…}}}}` uses `{p}`, which must then be `required: true`"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(PromptDef {
        name,
        title: raw.title,
        description: raw.description,
        arguments,
        messages: sections(body)?,
        source: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(m: &[(Speaker, Vec<Piece>)]) -> String {
        match &m[0].1[..] {
            [Piece::Text(t)] => t.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn built_ins_load_cleanly() {
        let p = Prompts::load(&[], None);
        assert!(p.defs.problems.is_empty(), "{:?}", p.defs.problems);
        assert!(p.list().count() >= 3);
    }

    #[test]
    fn render_checks_arguments() {
        let p = Prompts::load(&[], None);
        let mut args = BTreeMap::new();
        assert_eq!(
            p.render("code_review", &args).unwrap_err(),
            PromptError::MissingArgument {
                prompt: "code_review".into(),
                arg: "path".into()
            }
        );
        args.insert("path".into(), "src/lib.rs".into());
        let (_, m) = p.render("code_review", &args).unwrap();
        let text = text_of(&m);
        assert!(text.contains("`src/lib.rs`"));
        assert!(text.contains("(not given)"));
        args.insert("bogus".into(), "x".into());
        assert!(matches!(
            p.render("code_review", &args),
            Err(PromptError::UnknownArgument { .. })
        ));
    }

    #[test]
    fn folder_files_add_and_report_problems() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hello.md"),
            "---\ndescription: hi\narguments:\n  - name: who\n---\nHello {{ who }}!",
        )
        .unwrap();
        std::fs::write(dir.path().join("bad.md"), "---\nnope: 1\n---\nx").unwrap();
        std::fs::write(dir.path().join("undeclared.md"), "Hi {{x}}").unwrap();
        let p = Prompts::load(&[dir.path().to_path_buf()], None);
        let mut args = BTreeMap::new();
        args.insert("who".into(), "Ada {{x}}".into());
        assert_eq!(
            text_of(&p.render("hello", &args).unwrap().1),
            "Hello Ada {{x}}!"
        );
        assert_eq!(p.defs.problems.len(), 2, "{:?}", p.defs.problems);
    }

    #[test]
    fn sections_choices_and_embedded_resources() {
        let text = "---\narguments:\n  - name: path\n    required: true\n    complete: path\n  - name: tone\n    enum: [short, long]\n---\n## user\nReview {{path}} ({{tone}}):\n{{resource:{path}}}\nThanks.\n## assistant\nI will read it.\n## user\nGo on.\n";
        let def = parse(text, "review.md").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("review.md"), text).unwrap();
        let p = Prompts::load(&[dir.path().to_path_buf()], None);
        assert_eq!(def.messages.len(), 3);
        let mut args = BTreeMap::new();
        args.insert("path".to_owned(), "src/a b.rs".to_owned());
        let (_, m) = p.render("review", &args).unwrap();
        assert_eq!(
            m[0],
            (
                Speaker::User,
                vec![
                    Piece::Text("Review src/a b.rs ((not given)):".into()),
                    Piece::Resource("src/a b.rs".into()),
                    Piece::Text("Thanks.".into())
                ]
            )
        );
        assert_eq!(m[1].0, Speaker::Assistant);
        args.insert("tone".to_owned(), "rude".to_owned());
        assert!(matches!(
            p.render("review", &args),
            Err(PromptError::NotAChoice { .. })
        ));
        assert_eq!(
            p.complete("review", "tone", "S"),
            Some(Suggest::Values(vec!["short".into()]))
        );
        assert_eq!(p.complete("review", "path", ""), Some(Suggest::Paths));
        // A URI may only use required arguments; stray text before the first section fails.
        assert!(
            parse(
                "---\narguments: [{name: p}]\n---\n{{resource:file:///{p}}}",
                "x.md"
            )
            .is_err()
        );
        assert!(parse("intro\n## user\nhi", "x.md").is_err());
        assert!(parse("## user\n## assistant\nhi", "x.md").is_err());
    }
}
