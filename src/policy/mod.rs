//! The one policy every tool call goes through: which roots are in force, how a path given by the
//! model becomes a real path inside them, and which paths may never be written. Tools never
//! check a path themselves; they ask a [`FileScope`], which compares path components after
//! resolving symlinks (never string prefixes) and re-checks the opened descriptor on Linux.

pub mod beneath;
pub mod exec;
pub mod net;
pub mod paths;
pub mod protected;
pub mod robots;
pub mod tools;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{FileSettings, RootSource};
pub use beneath::Dir;
pub use paths::{FileScope, PolicyError, Resolved, WriteTarget};

/// One effective root: where file tools may act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub path: PathBuf,
    pub source: RootSource,
}

/// What the client told us about its roots (MCP `roots/list`).
#[derive(Debug, Clone, Default)]
pub enum ClientRoots {
    /// The client does not support roots, or has not answered yet.
    #[default]
    Unknown,
    Known(Vec<PathBuf>),
}

/// Holds the configured roots and hands out consistent snapshots, narrowed by a client's
/// roots. The client's roots belong to its session (two hosts of one profile over
/// `serve --http` each keep their own), so they are passed in, never stored here.
#[derive(Debug)]
pub struct Policy {
    files: Arc<FileSettings>,
}

impl Policy {
    pub fn new(files: FileSettings) -> Self {
        Self {
            files: Arc::new(files),
        }
    }

    pub fn files(&self) -> &FileSettings {
        &self.files
    }

    /// The same settings, shared (the execution policy reads the protected paths).
    pub fn files_shared(&self) -> Arc<FileSettings> {
        self.files.clone()
    }

    /// A client's roots (already converted from `file://` URIs), canonical. Roots that do not
    /// exist are dropped with a log line: they cannot contain anything.
    pub fn canonical_client_roots(roots: Vec<PathBuf>) -> ClientRoots {
        let canonical: Vec<PathBuf> = roots
            .into_iter()
            .filter_map(|r| match std::fs::canonicalize(&r) {
                Ok(c) if c.is_dir() => Some(c),
                _ => {
                    tracing::warn!(root = %r.display(), "client root is not an existing directory; ignored");
                    None
                }
            })
            .collect();
        ClientRoots::Known(canonical)
    }

    /// The roots in force for a client: the configured ones narrowed by the client's
    /// (intersection), the client's alone when none are configured, or the configured ones when
    /// the client has none.
    pub fn effective_roots(&self, client: &ClientRoots) -> Vec<Root> {
        let configured: Vec<Root> = self
            .files
            .roots
            .iter()
            .map(|r| Root {
                path: r.path.clone(),
                source: r.source,
            })
            .collect();
        match client {
            // A client with no roots to offer (the Inspector, for one) narrows nothing.
            ClientRoots::Unknown => configured,
            ClientRoots::Known(client) if client.is_empty() => configured,
            ClientRoots::Known(client) if configured.is_empty() => client
                .iter()
                .map(|path| Root {
                    path: path.clone(),
                    source: RootSource::Client,
                })
                .collect(),
            ClientRoots::Known(client) => intersect(&configured, client),
        }
    }

    /// A snapshot for one tool call of a client with these roots.
    pub fn scope(&self, client: &ClientRoots) -> FileScope {
        FileScope::new(
            self.effective_roots(client),
            self.files.clone(),
            client.clone(),
        )
    }
}

/// For each pair, the deeper of the two when one contains the other. The source stays the
/// configured one when the client names that root exactly, else it is the client's narrowing.
fn intersect(configured: &[Root], client: &[PathBuf]) -> Vec<Root> {
    let mut out: Vec<Root> = Vec::new();
    for c in configured {
        for k in client {
            let r = if k.starts_with(&c.path) {
                Root {
                    path: k.clone(),
                    source: if *k == c.path {
                        c.source
                    } else {
                        RootSource::Client
                    },
                }
            } else if c.path.starts_with(k) {
                c.clone()
            } else {
                continue;
            };
            if !out.iter().any(|o| o.path == r.path) {
                out.push(r);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(p: &str) -> Root {
        Root {
            path: PathBuf::from(p),
            source: RootSource::Config,
        }
    }

    #[test]
    fn client_roots_only_narrow() {
        let configured = [root("/a"), root("/b/c")];
        let got = intersect(
            &configured,
            &[
                PathBuf::from("/a/x"),
                PathBuf::from("/b"),
                PathBuf::from("/z"),
            ],
        );
        let paths: Vec<_> = got.iter().map(|r| r.path.to_str().unwrap()).collect();
        assert_eq!(paths, vec!["/a/x", "/b/c"]);
        assert!(
            intersect(&configured, &[PathBuf::from("/ab")]).is_empty(),
            "/ab is not inside /a"
        );
    }
}
