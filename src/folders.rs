//! The `tools/`, `prompts/` and `resources/` folders as one set of named definitions: loading
//! them (built-ins first, then each folder in order), the rules for names defined twice, and
//! reloading while running. A name defined in two files is a conflict: at start-up it stops
//! the server with both files named; at a reload the definition already in use stays. A file
//! that no longer parses at a reload keeps its previous version, so an edit in progress never
//! removes a tool from under the host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::declared::{self, DeclaredTool};
use crate::prompts::{PromptDef, Prompts};
use crate::resources::Resources;

/// Something defined by a file: its name (a URI for resources) and where it came from.
pub trait Definition: Clone {
    fn key(&self) -> &str;
    fn source(&self) -> &str;
    fn set_source(&mut self, source: String);
}

/// Definitions by name, with what could not be loaded.
#[derive(Debug, Clone)]
pub struct Named<T> {
    by_name: BTreeMap<String, T>,
    /// Files skipped (or kept at their previous version), each with the reason.
    pub problems: Vec<String>,
    /// Names defined by two files.
    pub conflicts: Vec<String>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self {
            by_name: BTreeMap::new(),
            problems: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}

/// What a definition is parsed from: a built-in text, or a file.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    BuiltIn(&'static str),
    File(&'a Path),
}

impl Input<'_> {
    /// The text, read from the file when it is one.
    pub fn text(self) -> Result<std::borrow::Cow<'static, str>, String> {
        match self {
            Input::BuiltIn(t) => Ok(t.into()),
            Input::File(p) => std::fs::read_to_string(p)
                .map(Into::into)
                .map_err(|e| e.to_string()),
        }
    }
}

/// One file to load: its path and the label its parser is given (a file name, or a path
/// relative to its folder).
pub type FileEntry = (PathBuf, String);

impl<T: Definition> Named<T> {
    /// Built-ins (a file of the same name replaces one), then `files` in order. With
    /// `previous`, a file that fails keeps its previous definitions and a name defined twice
    /// keeps the file that defined it before.
    pub fn load(
        built_in: &[(&'static str, &'static str)],
        files: &[FileEntry],
        parse: impl Fn(Input<'_>, &str) -> Result<T, String>,
        what: &str,
        previous: Option<&Self>,
    ) -> Self {
        let mut me = Self::default();
        for (file, text) in built_in {
            match parse(Input::BuiltIn(text), file) {
                Ok(mut d) => {
                    d.set_source(format!("built-in:{file}"));
                    me.by_name.insert(d.key().to_owned(), d);
                }
                Err(e) => me.problems.push(format!("built-in {file}: {e}")),
            }
        }
        // First every file's definition (or, for a file that fails at a reload, the one it
        // had before), then the names, so the rule for a name defined twice sees them all.
        let mut loaded: Vec<T> = Vec::new();
        for (path, label) in files {
            let source = path.display().to_string();
            match parse(Input::File(path), label) {
                Ok(mut d) => {
                    d.set_source(source);
                    loaded.push(d);
                }
                Err(e) => {
                    let kept =
                        previous.and_then(|p| p.by_name.values().find(|d| d.source() == source));
                    match kept {
                        Some(old) => {
                            me.problems.push(format!(
                                "{source}: {e}; the previous version stays in use until the file is fixed"
                            ));
                            loaded.push(old.clone());
                        }
                        None => me.problems.push(format!("{source}: {e}")),
                    }
                }
            }
        }
        for def in loaded {
            let key = def.key().to_owned();
            if let Some(old) = me.by_name.get(&key)
                && !old.source().starts_with("built-in:")
            {
                me.conflicts.push(format!(
                    "{what} `{key}` is defined in both {} and {}; rename or remove one of them",
                    old.source(),
                    def.source()
                ));
                // At a reload the file that defined the name before keeps it.
                let owner = previous
                    .and_then(|p| p.by_name.get(&key))
                    .map(|d| d.source());
                if owner != Some(def.source()) {
                    continue;
                }
            }
            me.by_name.insert(key, def);
        }
        me
    }

    pub fn list(&self) -> impl Iterator<Item = &T> {
        self.by_name.values()
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.by_name.get(key)
    }

    /// Problems and conflicts, for logs, `doctor` and `config check`.
    pub fn all_problems(&self) -> impl Iterator<Item = &String> {
        self.conflicts.iter().chain(self.problems.iter())
    }
}

/// A definition's name: the one it declares, else its file name without the extension. It
/// must be 1-64 letters, digits, `_` or `-` (what MCP hosts accept in tool and prompt names).
pub fn definition_name(declared: Option<String>, file: &str, what: &str) -> Result<String, String> {
    let name = declared.unwrap_or_else(|| {
        Path::new(file)
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    });
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{what} name `{name}` must be 1-64 letters, digits, `_` or `-`"
        ));
    }
    Ok(name)
}

/// The files with `ext` directly in each folder, sorted within a folder; missing folders are
/// skipped.
pub fn files_in(dirs: &[PathBuf], ext: &[&str]) -> Vec<FileEntry> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<FileEntry> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| ext.iter().any(|x| e == *x))
                    && p.is_file()
                    && !is_hidden(p)
            })
            .map(|p| {
                let label = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                (p, label)
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// `Definition` for a type with a `source` field and the named key field.
macro_rules! definition {
    ($t:ty, $key:ident) => {
        impl Definition for $t {
            fn key(&self) -> &str {
                &self.$key
            }
            fn source(&self) -> &str {
                &self.source
            }
            fn set_source(&mut self, source: String) {
                self.source = source;
            }
        }
    };
}

definition!(DeclaredTool, name);
definition!(PromptDef, name);
definition!(crate::resources::StaticResource, uri);

/// Everything the three folders define, as one snapshot. A reload builds a new one.
pub struct Folders {
    pub prompts: Prompts,
    pub resources: Resources,
    pub tools: declared::Registry,
}

impl Folders {
    /// Reads the folders; `reserved` says which names belong to built-in tools (a declared
    /// tool may not take one).
    pub fn load(
        settings: &Settings,
        previous: Option<&Folders>,
        reserved: &dyn Fn(&str) -> bool,
    ) -> Self {
        let me = Self {
            prompts: Prompts::load(&settings.prompt_dirs, previous.map(|p| &p.prompts)),
            resources: Resources::load(&settings.resource_dirs, previous.map(|p| &p.resources)),
            tools: Named::load(
                declared::shipped(),
                &files_in(&settings.tools.dirs, &["yaml", "yml"]),
                |input, file| match input {
                    Input::BuiltIn(json) => declared::parse_shipped(json, file),
                    Input::File(_) => declared::parse(&input.text()?, file),
                },
                "tool",
                previous.map(|p| &p.tools),
            ),
        };
        // Problems are logged by the server as it tells the client, and printed by the CLI.
        me.without_shadowing(reserved)
    }

    /// A declared tool may not take the name of a built-in tool: it is refused.
    fn without_shadowing(mut self, reserved: &dyn Fn(&str) -> bool) -> Self {
        let shadowing: Vec<String> = self
            .tools
            .list()
            .filter(|t| reserved(&t.name))
            .map(|t| t.name.clone())
            .collect();
        for name in shadowing {
            if let Some(t) = self.tools.by_name.remove(&name) {
                self.tools.conflicts.push(format!(
                    "{}: tool `{name}` is the name of a built-in tool; choose another name",
                    t.source
                ));
            }
        }
        self
    }

    /// Names defined twice: a start-up error.
    pub fn conflicts(&self) -> Vec<String> {
        self.tools
            .conflicts
            .iter()
            .chain(self.prompts.defs.conflicts.iter())
            .chain(self.resources.defs.conflicts.iter())
            .cloned()
            .collect()
    }

    /// Every problem: conflicts, then files skipped.
    pub fn problems(&self) -> Vec<String> {
        self.tools
            .all_problems()
            .chain(self.prompts.defs.all_problems())
            .chain(self.resources.defs.all_problems())
            .cloned()
            .collect()
    }

    /// The declared tools the host may see: enabled in their file, offered by the toolsets,
    /// and read-only ones only in read-only mode.
    pub fn visible_tools<'a>(
        &'a self,
        settings: &'a Settings,
    ) -> impl Iterator<Item = &'a DeclaredTool> {
        let read_only = settings.read_only;
        self.tools.list().filter(move |t| {
            t.enabled
                && (!read_only || crate::policy::tools::is_read_only(&t.tool))
                && settings
                    .tools
                    .toolsets
                    .admits(&t.name, crate::policy::tools::Category::Declarative)
        })
    }
}

/// Watches the folders and reports changes (after a short quiet time, so a burst of writes is
/// one change). Folders that do not exist yet are watched through their parent, so creating
/// one is noticed too.
pub struct FolderWatch {
    watcher: notify::RecommendedWatcher,
    watched: Vec<PathBuf>,
    dirs: Vec<(PathBuf, bool)>,
}

impl FolderWatch {
    /// `dirs`: each folder and whether it is watched recursively. `changed` is told of every
    /// relevant event.
    pub fn new(
        dirs: Vec<(PathBuf, bool)>,
        changed: tokio::sync::mpsc::UnboundedSender<()>,
    ) -> notify::Result<Self> {
        let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev
                && !matches!(ev.kind, notify::EventKind::Access(_))
            {
                let _ = changed.send(());
            }
        })?;
        let mut me = Self {
            watcher,
            watched: Vec::new(),
            dirs,
        };
        me.sync();
        Ok(me)
    }

    /// Watches each folder that exists (and the parent of each that does not), dropping
    /// watches no longer needed. Called after every change.
    pub fn sync(&mut self) {
        use notify::{RecursiveMode, Watcher};
        let mut wanted: Vec<(PathBuf, RecursiveMode)> = Vec::new();
        for (dir, recursive) in &self.dirs {
            if dir.is_dir() {
                let mode = if *recursive {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                wanted.push((dir.clone(), mode));
            } else if let Some(parent) = dir.parent().filter(|p| p.is_dir()) {
                wanted.push((parent.to_path_buf(), RecursiveMode::NonRecursive));
            }
        }
        wanted.sort_by(|a, b| a.0.cmp(&b.0));
        wanted.dedup_by(|a, b| a.0 == b.0);
        for old in std::mem::take(&mut self.watched) {
            if !wanted.iter().any(|(p, _)| *p == old) {
                let _ = self.watcher.unwatch(&old);
            } else {
                self.watched.push(old);
            }
        }
        for (p, mode) in wanted {
            if self.watched.contains(&p) {
                continue;
            }
            match self.watcher.watch(&p, mode) {
                Ok(()) => self.watched.push(p),
                Err(e) => tracing::warn!(folder = %p.display(), error = %e, "cannot watch folder"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct D {
        name: String,
        body: String,
        source: String,
    }

    impl Definition for D {
        fn key(&self) -> &str {
            &self.name
        }
        fn source(&self) -> &str {
            &self.source
        }
        fn set_source(&mut self, s: String) {
            self.source = s;
        }
    }

    fn parse(input: Input<'_>, _: &str) -> Result<D, String> {
        let text = input.text()?;
        let (name, body) = text.split_once(':').ok_or("no colon")?;
        Ok(D {
            name: name.into(),
            body: body.into(),
            source: String::new(),
        })
    }

    #[test]
    fn conflicts_and_broken_files_at_start_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.x"), dir.path().join("b.x"));
        std::fs::write(&a, "one:1").unwrap();
        std::fs::write(&b, "two:2").unwrap();
        let files = || files_in(&[dir.path().to_path_buf()], &["x"]);
        let first = Named::load(&[("built.x", "one:0")], &files(), parse, "thing", None);
        assert!(first.conflicts.is_empty() && first.problems.is_empty());
        assert_eq!(
            first.get("one").unwrap().body,
            "1",
            "a file replaces a built-in"
        );

        // b.x now also defines `one` and a.x is broken: a.x's `one` stays, b.x is a conflict.
        std::fs::write(&a, "broken").unwrap();
        std::fs::write(&b, "one:2").unwrap();
        let second = Named::load(&[], &files(), parse, "thing", Some(&first));
        assert_eq!(second.get("one").unwrap().body, "1");
        assert_eq!(second.problems.len(), 1, "{:?}", second.problems);
        assert!(second.problems[0].contains("previous version"));

        // Both parse and both define `one`: at start-up that is a conflict naming both files.
        std::fs::write(&a, "one:1").unwrap();
        let fresh = Named::load(&[], &files(), parse, "thing", None);
        assert_eq!(fresh.conflicts.len(), 1);
        assert!(fresh.conflicts[0].contains("a.x") && fresh.conflicts[0].contains("b.x"));
        // At a reload the file that defined it before keeps it, whatever the order.
        let mut before = Named::<D>::default();
        before.by_name.insert(
            "one".into(),
            D {
                name: "one".into(),
                body: "2".into(),
                source: b.display().to_string(),
            },
        );
        let reloaded = Named::load(&[], &files(), parse, "thing", Some(&before));
        assert_eq!(reloaded.get("one").unwrap().body, "2");
    }
}
