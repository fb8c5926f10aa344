//! Prompts served to the host: Markdown files with YAML front matter (`name`, `title`,
//! `description`, `arguments`) and a body with `{{arg}}` placeholders. The prompts shipped in the
//! repository's `prompts/` folder are compiled in; files in the prompt folders add to them or
//! replace one of the same name. A broken file is reported (log and `doctor`) and skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::support::frontmatter;

/// The prompts compiled into the binary, from the repository's `prompts/` folder.
const BUILT_IN: &[(&str, &str)] = &[
    ("code_review.md", include_str!("../prompts/code_review.md")),
    (
        "commit_message.md",
        include_str!("../prompts/commit_message.md"),
    ),
    ("fetch.md", include_str!("../prompts/fetch.md")),
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
}

#[derive(Debug, Clone)]
pub struct PromptArg {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct PromptDef {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArg>,
    pub body: String,
    /// The file it came from, or `built-in:NAME`.
    pub source: String,
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
}

#[derive(Debug, Default)]
pub struct Prompts {
    by_name: BTreeMap<String, PromptDef>,
    /// Files that could not be loaded, with the reason; shown by `doctor`.
    pub problems: Vec<String>,
}

impl Prompts {
    /// Built-ins, then every `*.md` file in `dirs` (missing folders are skipped).
    pub fn load(dirs: &[PathBuf]) -> Self {
        let mut me = Self::default();
        for (file, text) in BUILT_IN {
            match parse(text, file) {
                Ok(p) => {
                    me.by_name.insert(
                        p.name.clone(),
                        PromptDef {
                            source: format!("built-in:{file}"),
                            ..p
                        },
                    );
                }
                Err(e) => me.problems.push(format!("built-in {file}: {e}")),
            }
        }
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
                .collect();
            files.sort();
            for path in files {
                let loaded = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        parse(
                            &text,
                            &path.file_name().unwrap_or_default().to_string_lossy(),
                        )
                    });
                match loaded {
                    Ok(mut p) => {
                        p.source = path.display().to_string();
                        if let Some(old) = me.by_name.get(&p.name)
                            && !old.source.starts_with("built-in:")
                        {
                            me.problems.push(format!(
                                "{}: prompt `{}` is already defined in {}; rename one of them",
                                path.display(),
                                p.name,
                                old.source
                            ));
                            continue;
                        }
                        me.by_name.insert(p.name.clone(), p);
                    }
                    Err(e) => me.problems.push(format!("{}: {e}", path.display())),
                }
            }
        }
        for p in &me.problems {
            tracing::warn!(problem = %p, "prompt skipped");
        }
        me
    }

    pub fn list(&self) -> impl Iterator<Item = &PromptDef> {
        self.by_name.values()
    }

    pub fn get(&self, name: &str) -> Option<&PromptDef> {
        self.by_name.get(name)
    }

    /// Fills the body's placeholders. Missing optional arguments become "(not given)".
    pub fn render(
        &self,
        name: &str,
        args: &BTreeMap<String, String>,
    ) -> Result<(&PromptDef, String), PromptError> {
        let def = self
            .by_name
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
            if a.required && args.get(&a.name).is_none_or(|v| v.trim().is_empty()) {
                return Err(PromptError::MissingArgument {
                    prompt: name.to_owned(),
                    arg: a.name.clone(),
                });
            }
        }
        let text = substitute(&def.body, |key| {
            Some(
                args.get(key)
                    .cloned()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "(not given)".to_owned()),
            )
        });
        Ok((def, text.trim().to_owned()))
    }
}

/// Replaces each `{{ key }}` for which `value` answers; leaves the rest as written.
fn substitute(body: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match value(key) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
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

/// Names of the `{{placeholders}}` in a body.
fn placeholders(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    substitute(body, |k| {
        found.push(k.to_owned());
        None
    });
    found
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
    let name = raw.name.unwrap_or_else(|| {
        Path::new(file)
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "prompt name `{name}` must use only letters, digits, `_` and `-`"
        ));
    }
    for p in placeholders(body) {
        if !raw.arguments.iter().any(|a| a.name == p) {
            return Err(format!(
                "the body uses `{{{{{p}}}}}` but `arguments` does not declare `{p}`"
            ));
        }
    }
    Ok(PromptDef {
        name,
        title: raw.title,
        description: raw.description,
        arguments: raw
            .arguments
            .into_iter()
            .map(|a| PromptArg {
                name: a.name,
                description: a.description,
                required: a.required,
            })
            .collect(),
        body: body.to_owned(),
        source: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_load_cleanly() {
        let p = Prompts::load(&[]);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.list().count() >= 3);
    }

    #[test]
    fn render_checks_arguments() {
        let p = Prompts::load(&[]);
        let mut args = BTreeMap::new();
        assert_eq!(
            p.render("code_review", &args).unwrap_err(),
            PromptError::MissingArgument {
                prompt: "code_review".into(),
                arg: "path".into()
            }
        );
        args.insert("path".into(), "src/lib.rs".into());
        let (_, text) = p.render("code_review", &args).unwrap();
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
        let p = Prompts::load(&[dir.path().to_path_buf()]);
        let mut args = BTreeMap::new();
        args.insert("who".into(), "Ada".into());
        assert_eq!(p.render("hello", &args).unwrap().1, "Hello Ada!");
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
    }
}
