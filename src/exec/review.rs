//! The protected-path review after a sandboxed run. Protected paths that existed are mounted
//! read-only in the sandbox (`policy::exec`), but a mount needs something to mount over: a
//! command can still create a protected path that did not exist (a new `.envrc`, a nested
//! repository's hooks, `.vscode/tasks.json`). When the run ends the root is walked again and
//! what the command created is moved to the trash (or reported, `exec.created_protected`), so
//! the same list holds for commands as for the file tools. What `git init` and `git clone`
//! write into `.git` (sample hooks, a config of plain keys) is no threat and stays.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::config::CreatedProtected;
use crate::policy::Dir;
use crate::policy::exec::Review;
use crate::policy::protected::Found;

/// Entries looked at inside one protected folder that changed (for what was added to it).
const INSIDE_BUDGET: usize = 10_000;

/// Walks the root again and deals with what the run created; returns the notes for the model.
pub fn finish(r: &Review) -> Vec<String> {
    let after = r.files.protected.scan(&r.root, r.budget, r.since);
    let before: HashMap<&Path, &Found> = r
        .before
        .found
        .iter()
        .map(|f| (f.path.as_path(), f))
        .collect();
    let since = r.since;
    let mut created: Vec<PathBuf> = Vec::new();
    let mut changed: Vec<PathBuf> = Vec::new();
    for f in &after.found {
        match before.get(f.path.as_path()) {
            Some(b) if (b.dev, b.ino, b.ctime) == (f.dev, f.ino, f.ctime) => {}
            Some(b) if (b.dev, b.ino) == (f.dev, f.ino) => {
                if f.dir && !f.link {
                    created.extend(added_inside(&f.path, since));
                } else {
                    changed.push(f.path.clone());
                }
            }
            _ if !changed_since(f.ctime, since) => {}
            _ if harmless_git(&f.path, f.dir) => {}
            _ => created.push(f.path.clone()),
        }
    }
    let mut notes = Vec::new();
    let shown = |list: &[PathBuf]| {
        list.iter()
            .map(|p| p.strip_prefix(&r.root).unwrap_or(p).display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !created.is_empty() {
        match r.action {
            CreatedProtected::Trash => {
                let (moved, failed): (Vec<_>, Vec<_>) = created
                    .iter()
                    .map(|p| (p.clone(), to_trash(&r.root, p)))
                    .partition(|(_, res)| res.is_ok());
                let moved: Vec<PathBuf> = moved.into_iter().map(|(p, _)| p).collect();
                if !moved.is_empty() {
                    notes.push(format!(
                        "the command created protected paths, files that make another program run code ({}); switchboard moved them to the trash. If the user wants them, they restore them from the trash and list them under files.allow_protected (or set exec.created_protected: report)",
                        shown(&moved)
                    ));
                }
                for (p, e) in failed {
                    notes.push(format!(
                        "the command created the protected path {}, and moving it to the trash failed ({}); tell the user to look at it",
                        shown(std::slice::from_ref(&p)),
                        e.err().map(|e| e.to_string()).unwrap_or_default()
                    ));
                }
            }
            CreatedProtected::Report => notes.push(format!(
                "the command created protected paths, files that make another program run code ({}); they were left in place (exec.created_protected: report). Tell the user",
                shown(&created)
            )),
        }
    }
    if !changed.is_empty() {
        notes.push(format!(
            "the command changed protected paths that were not mounted read-only ({}: beyond the first {} found or the review's walk); tell the user to check them",
            shown(&changed),
            crate::policy::exec::MAX_PROTECTED_MOUNTS
        ));
    }
    if !r.before.complete || !after.complete {
        notes.push(format!(
            "the protected-path review walked only the first {} entries of {} (exec.review_entries); deeper paths were not checked",
            r.budget,
            r.root.display()
        ));
    }
    notes
}

fn changed_since(ctime: (i64, i64), since: i64) -> bool {
    ctime.0 >= since
}

/// What [`below`] does after visiting an entry.
enum Step {
    /// Walk into it (when it is a folder).
    Enter,
    /// Go on with the next entry.
    Next,
    /// End the walk.
    Stop,
}

/// Visits the entries below `dir` breadth-first, without following symlinks, up to
/// [`INSIDE_BUDGET`]; false when it ended early (stopped, or the budget ran out).
fn below(
    dir: &Path,
    mut visit: impl FnMut(&std::fs::DirEntry, &std::fs::Metadata) -> Step,
) -> bool {
    let mut queue = std::collections::VecDeque::from([dir.to_path_buf()]);
    let mut seen = 0;
    while let Some(d) = queue.pop_front() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            seen += 1;
            if seen > INSIDE_BUDGET {
                return false;
            }
            let Ok(m) = entry.metadata() else { continue };
            match visit(&entry, &m) {
                Step::Enter if m.is_dir() => queue.push_back(entry.path()),
                Step::Enter | Step::Next => {}
                Step::Stop => return false,
            }
        }
    }
    true
}

/// Entries below `dir` (a protected folder that existed) that changed during the run,
/// topmost first: a folder that is new is listed, not what is in it.
fn added_inside(dir: &Path, since: i64) -> Vec<PathBuf> {
    let mut out = Vec::new();
    below(dir, |entry, m| {
        if !changed_since((m.ctime(), m.ctime_nsec()), since) {
            return Step::Enter;
        }
        if !harmless_git(&entry.path(), m.is_dir()) {
            out.push(entry.path());
        }
        Step::Next
    });
    out
}

/// What `git init`, `git clone` and `git submodule` write: hooks that are only samples, and a
/// config of plain keys. Anything else in `.git` (a real hook, `core.fsmonitor`, an alias
/// that runs a shell) is not.
fn harmless_git(path: &Path, dir: bool) -> bool {
    let low = path.to_string_lossy().to_lowercase();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if !low.contains("/.git/") {
        return false;
    }
    let harmless_file = |p: &Path, name: &str| {
        if parent_is(p, "hooks") {
            name.ends_with(".sample")
        } else {
            name != "config" || plain_git_config(p)
        }
    };
    if !dir {
        return harmless_file(path, &name);
    }
    // A folder: harmless when everything in it is.
    below(path, |entry, m| {
        let p = entry.path();
        let n = entry.file_name().to_string_lossy().to_lowercase();
        if m.file_type().is_symlink() || (!m.is_dir() && !harmless_file(&p, &n)) {
            Step::Stop
        } else {
            Step::Enter
        }
    })
}

fn parent_is(path: &Path, name: &str) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

/// A git config that only holds keys git writes itself on init, clone and submodule set-up;
/// none of them names a program to run.
fn plain_git_config(path: &Path) -> bool {
    const MAX: u64 = 64 * 1024;
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX + 1).read_to_string(&mut text));
    if read.is_err() || text.len() as u64 > MAX {
        return false;
    }
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.ends_with('\\') {
            return false;
        }
        if let Some(head) = line.strip_prefix('[') {
            let Some(head) = head.strip_suffix(']') else {
                return false;
            };
            // `[remote "origin"]` and `[remote.origin]` both name the section `remote`.
            section = head
                .split(['"', '.', ' '])
                .next()
                .unwrap_or("")
                .trim()
                .to_lowercase();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let key = key.trim().to_lowercase();
        let ok = match section.as_str() {
            "core" => matches!(
                key.as_str(),
                "repositoryformatversion"
                    | "filemode"
                    | "bare"
                    | "logallrefupdates"
                    | "ignorecase"
                    | "precomposeunicode"
                    | "symlinks"
                    | "worktree"
                    | "autocrlf"
            ),
            "remote" => {
                matches!(key.as_str(), "url" | "fetch" | "pushurl")
                    && !value.trim().trim_matches('"').starts_with("ext::")
            }
            "branch" => matches!(key.as_str(), "remote" | "merge" | "rebase"),
            "submodule" => matches!(key.as_str(), "url" | "active"),
            "extensions" => matches!(key.as_str(), "objectformat" | "worktreeconfig"),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Moves `path` (inside `root`) to the trash through descriptors opened beneath the root.
fn to_trash(root: &Path, path: &Path) -> std::io::Result<()> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| std::io::Error::other("not inside the root"))?;
    let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
        return Err(std::io::Error::other("no name"));
    };
    let top = Dir::open(root)?;
    let dir = if parent.as_os_str().is_empty() {
        top
    } else {
        top.open_beneath(parent)?
    };
    crate::support::trash::trash(&dir, name, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> bool {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, text).unwrap();
        plain_git_config(&p)
    }

    #[test]
    fn what_git_writes_is_plain_and_what_runs_code_is_not() {
        assert!(config(
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n"
        ));
        assert!(config(
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://example.org/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n[submodule \"lib\"]\n\tactive = true\n\turl = ../lib\n"
        ));
        for bad in [
            "[core]\n\tfsmonitor = ./run.sh\n",
            "[core]\n\thooksPath = .githooks\n",
            "[alias]\n\tst = !sh -c evil\n",
            "[remote \"o\"]\n\turl = ext::sh -c evil\n",
            "[remote \"o\"]\n\tuploadpack = evil\n",
            "[include]\n\tpath = ../evil\n",
            "[filter \"lfs\"]\n\tprocess = git-lfs filter-process\n",
            "[core]\n\tbare = \\\nfalse\n",
            "[core\n",
        ] {
            assert!(!config(bad), "{bad}");
        }
    }

    #[test]
    fn sample_hooks_are_harmless_and_real_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join(".git/hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(hooks.join("pre-commit.sample"), "#!/bin/sh\n").unwrap();
        assert!(harmless_git(&hooks, true));
        std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\n").unwrap();
        assert!(!harmless_git(&hooks, true));
        assert!(!harmless_git(&hooks.join("pre-commit"), false));
        assert!(harmless_git(&hooks.join("pre-commit.sample"), false));
        // Outside a repository, nothing is waved through.
        let envrc = dir.path().join(".envrc");
        std::fs::write(&envrc, "").unwrap();
        assert!(!harmless_git(&envrc, false));
    }
}
