//! Turning a path from the model into a real path inside the roots.
//!
//! The rules (see SECURITY.md in the shared notes): refuse NUL and control characters; resolve
//! symlinks with the OS and compare whole components against canonical roots; only a genuinely
//! missing path takes the "new file" route, and only below an existing folder inside a root;
//! never follow a final-component symlink on write; never write protected paths; and, on Linux,
//! check the descriptor actually opened, so a folder swapped for a symlink between check and
//! open is still caught.

use std::fs::File;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::{ClientRoots, Dir, Root};
use crate::config::FileSettings;

/// A refusal or failure, worded for the model: what went wrong and how to fix the call.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    NoRoots(String),
    #[error("`{path}` is not a usable path: {why}")]
    Invalid { path: String, why: String },
    #[error(
        "`{path}` is outside the allowed roots ({roots}){how}. Use a path inside a root; call list_roots to see them."
    )]
    Outside {
        path: String,
        roots: String,
        how: &'static str,
    },
    #[error("`{path}` cannot be written: {why}")]
    Protected { path: String, why: String },
    #[error(
        "`{path}` does not exist. Check the spelling, or use list_directory or find_files to locate it."
    )]
    NotFound { path: String },
    #[error("`{path}`: {why}")]
    Refused { path: String, why: String },
    #[error("`{path}`: {source}")]
    Io { path: String, source: io::Error },
}

impl PolicyError {
    /// The stable reason code (`error::reason`).
    pub fn code(&self) -> &'static str {
        use crate::error::reason;
        match self {
            Self::NoRoots(_) => reason::NO_ROOTS,
            Self::Invalid { .. } => reason::PATH_INVALID,
            Self::Outside { .. } => reason::PATH_OUTSIDE_ROOTS,
            Self::Protected { .. } => reason::PATH_PROTECTED,
            Self::NotFound { .. } => reason::PATH_NOT_FOUND,
            Self::Refused { .. } => reason::PATH_REFUSED,
            Self::Io { .. } => reason::IO,
        }
    }
}

/// A path that exists, with every symlink resolved, inside `root`.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub path: PathBuf,
    pub root: PathBuf,
}

/// Where a write will land: `parent` is canonical, `path` is `parent/name` (never a symlink).
#[derive(Debug, Clone)]
pub struct WriteTarget {
    pub path: PathBuf,
    pub parent: PathBuf,
    /// Folders between the deepest existing one and `parent` that a write would create.
    pub missing_parents: bool,
    /// What is there now (not following a symlink); `None` when nothing is.
    pub existing: Option<std::fs::FileType>,
    pub root: PathBuf,
}

impl WriteTarget {
    /// The entry name the write lands on, inside [`Self::parent`].
    pub fn name(&self) -> &std::ffi::OsStr {
        self.path.file_name().unwrap_or_default()
    }
}

/// The policy's view for one tool call: a snapshot of the roots and the file settings.
#[derive(Debug, Clone)]
pub struct FileScope {
    roots: Vec<Root>,
    pub files: Arc<FileSettings>,
    client: ClientRoots,
}

impl FileScope {
    pub fn new(roots: Vec<Root>, files: Arc<FileSettings>, client: ClientRoots) -> Self {
        Self {
            roots,
            files,
            client,
        }
    }

    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// Fails with setup instructions when no root is in force.
    pub fn require_roots(&self) -> Result<(), PolicyError> {
        if !self.roots.is_empty() {
            return Ok(());
        }
        let msg = match (&self.client, self.files.roots.is_empty()) {
            (ClientRoots::Known(c), false) if !c.is_empty() => format!(
                "No file roots are in force: the client's roots ({}) do not overlap the configured roots ({}). Open a project inside a configured root, or add the project with `--root`.",
                join(c.iter()),
                join(self.files.roots.iter().map(|r| &r.path)),
            ),
            _ => "No file roots are configured, so file tools cannot run. Add `\"--root\", \"/path/to/project\"` to switchboard's args in the MCP host config, or list folders under `files.roots` in config.yaml (see `switchboard config path`).".to_owned(),
        };
        Err(PolicyError::NoRoots(msg))
    }

    fn roots_text(&self) -> String {
        join(self.roots.iter().map(|r| &r.path))
    }

    /// The absolute, not yet resolved form of `input`: relative paths start at the first root.
    pub fn absolute(&self, input: &str) -> Result<PathBuf, PolicyError> {
        self.require_roots()?;
        let invalid = |why: &str| PolicyError::Invalid {
            path: input.escape_debug().to_string(),
            why: why.to_owned(),
        };
        if input.is_empty() {
            return Err(invalid("it is empty"));
        }
        // A `file://` URI is decoded first, so the checks below see the real path.
        let decoded;
        let path = if input.starts_with("file://") {
            decoded = crate::support::uri::file_uri_to_path(input)
                .ok_or_else(|| invalid("it is not a valid file:// URI"))?;
            decoded.as_str()
        } else {
            input
        };
        if path.chars().any(|c| c == '\0' || c.is_control()) {
            return Err(invalid("it contains a NUL or control character"));
        }
        let p = Path::new(path);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.roots[0].path.join(p)
        })
    }

    /// Which root contains the resolved path, component-wise.
    fn containing_root(&self, resolved: &Path) -> Option<&Root> {
        self.roots
            .iter()
            .filter(|r| resolved.starts_with(&r.path))
            .max_by_key(|r| r.path.as_os_str().len())
    }

    /// Resolves `input` as far as it exists. Returns the resolved path and whether it exists.
    fn resolve(&self, input: &str) -> Result<(PathBuf, bool, PathBuf), PolicyError> {
        let abs = self.absolute(input)?;
        let comps: Vec<Component> = abs.components().collect();
        // Find the deepest prefix the OS can resolve. Only NotFound walks up; any other error
        // (permission denied, a file used as a folder) is reported, never taken as "new".
        let mut k = comps.len();
        let base = loop {
            let prefix: PathBuf = comps[..k].iter().collect();
            match std::fs::canonicalize(&prefix) {
                Ok(c) => break c,
                Err(e) if e.kind() == io::ErrorKind::NotFound && k > 1 => k -= 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(PolicyError::NotFound {
                        path: input.to_owned(),
                    });
                }
                Err(e) => {
                    return Err(PolicyError::Io {
                        path: input.to_owned(),
                        source: e,
                    });
                }
            }
        };
        let tail = &comps[k..];
        if tail.iter().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(PolicyError::Invalid {
                path: input.to_owned(),
                why: "it uses `..` or `.` below a folder that does not exist".to_owned(),
            });
        }
        if let Some(Component::Normal(first)) = tail.first() {
            // Something is there that the OS cannot resolve: a dangling symlink (or a loop).
            let next = base.join(first);
            if let Ok(md) = std::fs::symlink_metadata(&next)
                && md.file_type().is_symlink()
            {
                return Err(PolicyError::Refused {
                    path: input.to_owned(),
                    why: "it goes through a symlink whose target does not exist; symlinks are only followed to existing targets inside the roots".to_owned(),
                });
            }
        }
        let full: PathBuf = tail.iter().fold(base, |acc, c| acc.join(c));
        let Some(root) = self.containing_root(&full) else {
            let lexical_inside = self
                .roots
                .iter()
                .any(|r| normalize(&abs).starts_with(&r.path));
            return Err(PolicyError::Outside {
                path: input.to_owned(),
                roots: self.roots_text(),
                how: if lexical_inside {
                    " (it resolves through a symlink to a location outside them)"
                } else {
                    ""
                },
            });
        };
        Ok((full, tail.is_empty(), root.path.clone()))
    }

    /// An existing file or folder inside the roots, symlinks resolved.
    pub fn existing(&self, input: &str) -> Result<Resolved, PolicyError> {
        let (path, exists, root) = self.resolve(input)?;
        if !exists {
            return Err(PolicyError::NotFound {
                path: input.to_owned(),
            });
        }
        Ok(Resolved { path, root })
    }

    /// A path inside the roots that may not exist yet, symlinks resolved as far as it exists.
    pub fn inside(&self, input: &str) -> Result<Resolved, PolicyError> {
        let (path, _, root) = self.resolve(input)?;
        Ok(Resolved { path, root })
    }

    /// Where a write of `input` lands. The final component is looked at without following it:
    /// a symlink there is refused, so a write can never be redirected through one.
    pub fn for_write(&self, input: &str) -> Result<WriteTarget, PolicyError> {
        let target = self.locate(input)?;
        if target.existing.is_some_and(|t| t.is_symlink()) {
            return Err(PolicyError::Refused {
                path: input.to_owned(),
                why: "it is a symlink; writes never follow a final symlink. Write to the real file instead (file_info shows the target).".to_owned(),
            });
        }
        Ok(target)
    }

    /// Like [`Self::for_write`], but a final symlink is allowed and stands for the link itself
    /// (never its target): for moving or deleting a link.
    pub fn locate(&self, input: &str) -> Result<WriteTarget, PolicyError> {
        let abs = self.absolute(input)?;
        let Some(Component::Normal(name)) = abs.components().next_back() else {
            return Err(PolicyError::Invalid {
                path: input.to_owned(),
                why: "it does not end in a file or folder name".to_owned(),
            });
        };
        let parent_input = abs
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        let (parent, parent_exists, root) = self.resolve(&parent_input).map_err(|e| match e {
            PolicyError::Outside { roots, how, .. } => PolicyError::Outside {
                path: input.to_owned(),
                roots,
                how,
            },
            PolicyError::NotFound { .. } => PolicyError::NotFound {
                path: input.to_owned(),
            },
            other => other,
        })?;
        let path = parent.join(name);
        if parent_exists && !parent.is_dir() {
            return Err(PolicyError::Refused {
                path: input.to_owned(),
                why: format!("{} is not a folder", parent.display()),
            });
        }
        let existing = match std::fs::symlink_metadata(&path) {
            Ok(md) => Some(md.file_type()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(PolicyError::Io {
                    path: input.to_owned(),
                    source: e,
                });
            }
        };
        self.check_writable(&path, input)?;
        Ok(WriteTarget {
            path,
            parent,
            missing_parents: !parent_exists,
            existing,
            root,
        })
    }

    /// Opens the folder a write of `target` lands in, from its root down without following any
    /// symlink (creating the missing folders when `create`), so the write's every step happens
    /// in the folder that was checked. A folder on the way that became a symlink is refused.
    pub fn parent_dir(
        &self,
        target: &WriteTarget,
        create: bool,
        input: &str,
    ) -> Result<Dir, PolicyError> {
        let rel = target
            .parent
            .strip_prefix(&target.root)
            .map_err(|_| PolicyError::Outside {
                path: input.to_owned(),
                roots: self.roots_text(),
                how: "",
            })?;
        let root = Dir::open(&target.root).map_err(|e| self.open_error(e, input))?;
        let dir = if create {
            root.create_beneath(rel)
        } else {
            root.open_beneath(rel)
        };
        let dir = dir.map_err(|e| self.open_error(e, input))?;
        self.verify_fd(&dir, input)?;
        Ok(dir)
    }

    /// Refuses protected paths.
    pub fn check_writable(&self, resolved: &Path, input: &str) -> Result<(), PolicyError> {
        if let Some(why) = self.files.protected.reason(resolved) {
            return Err(PolicyError::Protected {
                path: input.to_owned(),
                why,
            });
        }
        Ok(())
    }

    /// True when `path` is one of the roots themselves.
    pub fn is_root(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| r.path == path)
    }

    /// Opens an existing regular file for reading: no final symlink, no blocking on FIFOs, and
    /// the opened descriptor re-checked against the roots.
    pub fn open_read(&self, resolved: &Path, input: &str) -> Result<File, PolicyError> {
        let file = open_nofollow(resolved).map_err(|e| self.open_error(e, input))?;
        let md = file.metadata().map_err(|e| PolicyError::Io {
            path: input.to_owned(),
            source: e,
        })?;
        if !md.is_file() {
            return Err(PolicyError::Refused {
                path: input.to_owned(),
                why: if md.is_dir() {
                    "it is a folder; use list_directory".to_owned()
                } else {
                    "it is not a regular file".to_owned()
                },
            });
        }
        self.verify_fd(&file, input)?;
        Ok(file)
    }

    /// Opens an existing folder for listing and returns it with the path to list it by. On
    /// Linux that path is the descriptor's own (`/proc/self/fd/N`), so the listing is of exactly
    /// the folder that was checked, even if the path is swapped for a symlink meanwhile.
    pub fn open_dir(&self, resolved: &Path, input: &str) -> Result<(File, PathBuf), PolicyError> {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(resolved)
            .map_err(|e| {
                if e.raw_os_error() == Some(libc::ENOTDIR) {
                    PolicyError::Refused {
                        path: input.to_owned(),
                        why: "it is a file, not a folder; use read_file or file_info".to_owned(),
                    }
                } else {
                    self.open_error(e, input)
                }
            })?;
        self.verify_fd(&dir, input)?;
        #[cfg(target_os = "linux")]
        let by = {
            use std::os::fd::AsRawFd;
            PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))
        };
        #[cfg(not(target_os = "linux"))]
        let by = resolved.to_path_buf();
        Ok((dir, by))
    }

    pub(crate) fn open_error(&self, e: io::Error, input: &str) -> PolicyError {
        if e.raw_os_error() == Some(libc::ELOOP) {
            PolicyError::Refused {
                path: input.to_owned(),
                why: "it was replaced by a symlink while being opened; try again".to_owned(),
            }
        } else if e.kind() == io::ErrorKind::NotFound {
            PolicyError::NotFound {
                path: input.to_owned(),
            }
        } else {
            PolicyError::Io {
                path: input.to_owned(),
                source: e,
            }
        }
    }

    /// On Linux, asks the kernel where an opened descriptor really is and refuses it when that
    /// is outside the roots. This closes the gap between resolving a path and opening it.
    pub fn verify_fd(
        &self,
        file: &impl std::os::fd::AsRawFd,
        input: &str,
    ) -> Result<(), PolicyError> {
        #[cfg(target_os = "linux")]
        {
            let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()));
            if let Ok(real) = real
                && self.containing_root(&real).is_none()
            {
                return Err(PolicyError::Outside {
                    path: input.to_owned(),
                    roots: self.roots_text(),
                    how: " (a folder on its way was swapped for a symlink)",
                });
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (file, input);
        Ok(())
    }
}

/// Opens for reading without following a final symlink (`O_NOFOLLOW`) and without blocking
/// on a FIFO.
fn open_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Removes `.` and folds `..` lexically; only used to word an error message.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn join<'a>(paths: impl Iterator<Item = &'a PathBuf>) -> String {
    paths
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RootSource, Settings};
    use std::os::unix::fs::symlink;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        outside: PathBuf,
        scope: FileScope,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let root = base.join("allowed");
        let outside = base.join("allowed_evil");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(root.join("sub/a.txt"), "a").unwrap();
        std::fs::write(outside.join("secret.txt"), "s").unwrap();
        let settings =
            Settings::defaults_for_tests(&base.join("data"), std::slice::from_ref(&root)).unwrap();
        let scope = FileScope::new(
            vec![Root {
                path: root.clone(),
                source: RootSource::CommandLine,
            }],
            Arc::new(settings.files),
            ClientRoots::Unknown,
        );
        Fixture {
            _dir: dir,
            root,
            outside,
            scope,
        }
    }

    #[test]
    fn relative_and_absolute_inside() {
        let f = fixture();
        assert_eq!(
            f.scope.existing("sub/a.txt").unwrap().path,
            f.root.join("sub/a.txt")
        );
        let abs = f.root.join("sub/a.txt");
        assert_eq!(f.scope.existing(abs.to_str().unwrap()).unwrap().path, abs);
    }

    #[test]
    fn dotdot_and_sibling_prefix_are_outside() {
        let f = fixture();
        assert!(matches!(
            f.scope.existing("../allowed_evil/secret.txt"),
            Err(PolicyError::Outside { .. })
        ));
        let sibling = f.outside.join("secret.txt");
        assert!(matches!(
            f.scope.existing(sibling.to_str().unwrap()),
            Err(PolicyError::Outside { .. })
        ));
        assert!(matches!(
            f.scope
                .for_write(f.outside.join("new.txt").to_str().unwrap()),
            Err(PolicyError::Outside { .. })
        ));
    }

    #[test]
    fn symlinks_out_are_refused() {
        let f = fixture();
        symlink(f.outside.join("secret.txt"), f.root.join("link.txt")).unwrap();
        symlink(&f.outside, f.root.join("linkdir")).unwrap();
        assert!(matches!(
            f.scope.existing("link.txt"),
            Err(PolicyError::Outside { .. })
        ));
        assert!(matches!(
            f.scope.existing("linkdir/secret.txt"),
            Err(PolicyError::Outside { .. })
        ));
        assert!(matches!(
            f.scope.for_write("linkdir/new.txt"),
            Err(PolicyError::Outside { .. })
        ));
        assert!(matches!(
            f.scope.for_write("link.txt"),
            Err(PolicyError::Refused { .. })
        ));
    }

    #[test]
    fn dangling_symlink_is_not_a_new_file() {
        let f = fixture();
        symlink(f.outside.join("created.txt"), f.root.join("dangling")).unwrap();
        assert!(f.scope.for_write("dangling").is_err());
        assert!(f.scope.for_write("dangling/x").is_err());
        assert!(!f.outside.join("created.txt").exists());
    }

    #[test]
    fn control_characters_are_refused() {
        let f = fixture();
        assert!(matches!(
            f.scope.existing("a\0b"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            f.scope.for_write("a\nb"),
            Err(PolicyError::Invalid { .. })
        ));
    }

    #[test]
    fn new_paths_below_missing_folders() {
        let f = fixture();
        let t = f.scope.for_write("x/y/z.txt").unwrap();
        assert!(t.missing_parents);
        assert_eq!(t.path, f.root.join("x/y/z.txt"));
        assert!(f.scope.for_write("x/../../escape.txt").is_err());
    }

    #[test]
    fn protected_paths_are_not_writable() {
        let f = fixture();
        std::fs::create_dir_all(f.root.join(".git/hooks")).unwrap();
        assert!(matches!(
            f.scope.for_write(".git/hooks/pre-commit"),
            Err(PolicyError::Protected { .. })
        ));
        assert!(matches!(
            f.scope.for_write(".GIT/config"),
            Err(PolicyError::Protected { .. })
        ));
    }

    #[test]
    fn no_roots_explains_setup() {
        let f = fixture();
        let empty = FileScope::new(vec![], f.scope.files.clone(), ClientRoots::Unknown);
        let err = empty.existing("x").unwrap_err().to_string();
        assert!(err.contains("--root"), "{err}");
    }
}
