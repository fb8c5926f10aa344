//! Resources served to the host: files from the resource folders (MIME type from the extension;
//! Markdown front matter gives name, title and description) under `switchboard://resources/…`,
//! and any file inside the roots through the `file:///{path}` template, read through the policy.

use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;

use crate::folders::{Input, Named};
use crate::policy::{FileScope, PolicyError};
use crate::support::uri::file_uri_to_path;
use crate::support::{frontmatter, mime, text};

pub const STATIC_PREFIX: &str = "switchboard://resources/";
pub const FILE_TEMPLATE: &str = "file:///{path}";

/// A resource switchboard computes when it is read.
pub struct Dynamic {
    pub uri: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub mime: &'static str,
}

pub const SYSTEM_URI: &str = "switchboard://system";
pub const CONFIG_URI: &str = "switchboard://config";
pub const STATS_URI: &str = "switchboard://stats";

pub const DYNAMIC: &[Dynamic] = &[
    Dynamic {
        uri: SYSTEM_URI,
        name: "system",
        title: "This machine",
        description: "OS, CPU, memory, disks and load of the machine switchboard runs on, as JSON",
        mime: "application/json",
    },
    Dynamic {
        uri: CONFIG_URI,
        name: "config",
        title: "Effective configuration",
        description: "switchboard's configuration as it applies now (defaults filled in, secrets shown as env:VAR), as YAML",
        mime: "application/yaml",
    },
    Dynamic {
        uri: STATS_URI,
        name: "stats",
        title: "Server statistics",
        description: "Uptime, and per tool: calls, errors and latency percentiles (p50, p90, p99), as JSON",
        mime: "application/json",
    },
];

const BUILT_IN: &[(&str, &str)] = &[(
    "switchboard-guide.md",
    include_str!("../resources/switchboard-guide.md"),
)];

/// Files deeper than this below a resource folder are not served.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone)]
pub struct StaticResource {
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime: String,
    pub size: Option<u64>,
    origin: Origin,
    pub(crate) source: String,
}

#[derive(Debug, Clone)]
enum Origin {
    BuiltIn(&'static str),
    File(PathBuf),
}

/// What reading a resource gives: text, or bytes to be sent as base64.
#[derive(Debug)]
pub enum Body {
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("no resource `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(
        "`{uri}` is {size} bytes, over the {limit}-byte limit (files.max_media_bytes); read it in parts with read_file"
    )]
    TooLarge { uri: String, size: u64, limit: u64 },
    #[error("`{uri}`: {source}")]
    Io { uri: String, source: std::io::Error },
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFront {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(rename = "mimeType")]
    mime_type: Option<String>,
}

#[derive(Debug, Default)]
pub struct Resources {
    pub defs: Named<StaticResource>,
}

impl Resources {
    /// Built-ins, then every file below `dirs` (see [`Named::load`] for `previous`).
    pub fn load(dirs: &[PathBuf], previous: Option<&Resources>) -> Self {
        let mut files = Vec::new();
        for dir in dirs {
            let mut found = Vec::new();
            collect(dir, dir, 0, &mut found);
            found.sort();
            files.extend(found.into_iter().map(|(rel, path)| (path, rel)));
        }
        Self {
            defs: Named::load(
                BUILT_IN,
                &files,
                describe,
                "resource",
                previous.map(|p| &p.defs),
            ),
        }
    }

    pub fn list(&self) -> impl Iterator<Item = &StaticResource> {
        self.defs.list()
    }

    /// Where a static resource lives: `None` for an unknown URI, `Some(None)` for a built-in
    /// one (it never changes), `Some(Some(path))` for a file in a resource folder.
    pub fn source_file(&self, uri: &str) -> Option<Option<PathBuf>> {
        self.defs.get(uri).map(|r| match &r.origin {
            Origin::BuiltIn(_) => None,
            Origin::File(p) => Some(p.clone()),
        })
    }

    /// Reads a static resource. Markdown is served without its front matter.
    pub fn read(&self, uri: &str) -> Result<(String, Body), ResourceError> {
        let r = self
            .defs
            .get(uri)
            .ok_or_else(|| ResourceError::NotFound(uri.to_owned()))?;
        let bytes = match &r.origin {
            Origin::BuiltIn(s) => s.as_bytes().to_vec(),
            Origin::File(p) => std::fs::read(p).map_err(|e| ResourceError::Io {
                uri: uri.to_owned(),
                source: e,
            })?,
        };
        Ok((r.mime.clone(), to_body(bytes, r.mime.ends_with("markdown"))))
    }
}

/// A resource's listing from its file (or built-in text): Markdown front matter gives its
/// name, title, description and MIME type.
fn describe(input: Input<'_>, rel: &str) -> Result<StaticResource, String> {
    let path = std::path::Path::new(rel);
    let mut front = RawFront::default();
    if path.extension().is_some_and(|e| e == "md") {
        let text = input.text()?;
        if let (Some(f), _) = frontmatter::split(&text) {
            front = serde_norway::from_str(f).map_err(|e| format!("front matter: {e}"))?;
        }
    }
    let (origin, size) = match input {
        Input::BuiltIn(t) => (Origin::BuiltIn(t), Some(t.len() as u64)),
        Input::File(p) => (
            Origin::File(p.to_path_buf()),
            std::fs::metadata(p).ok().map(|m| m.len()),
        ),
    };
    Ok(StaticResource {
        uri: format!("{STATIC_PREFIX}{rel}"),
        name: front.name.unwrap_or_else(|| rel.to_owned()),
        title: front.title,
        description: front.description,
        mime: front
            .mime_type
            .unwrap_or_else(|| mime::detect(path, b"", true)),
        size,
        origin,
        source: String::new(),
    })
}

fn to_body(bytes: Vec<u8>, strip_front: bool) -> Body {
    if text::looks_binary(&bytes) {
        return Body::Binary(bytes);
    }
    let (s, _) = text::decode_lossy(&bytes);
    if strip_front {
        let (_, body) = frontmatter::split(&s);
        return Body::Text(body.trim_start().to_owned());
    }
    Body::Text(s)
}

fn collect(
    base: &std::path::Path,
    dir: &std::path::Path,
    depth: usize,
    out: &mut Vec<(String, PathBuf)>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && depth < MAX_DEPTH {
            collect(base, &path, depth + 1, out);
        } else if ft.is_file()
            && let Ok(rel) = path.strip_prefix(base)
        {
            out.push((rel.to_string_lossy().replace('\\', "/"), path));
        }
    }
}

/// Reads a file inside the roots for `resources/read` on the `file:///{path}` template.
pub fn read_file_uri(scope: &FileScope, uri: &str) -> Result<(String, Body), ResourceError> {
    let path = file_uri_to_path(uri).ok_or_else(|| ResourceError::NotFound(uri.to_owned()))?;
    let resolved = scope.existing(&path)?;
    if resolved.path.is_dir() {
        return Ok((
            "text/plain".to_owned(),
            Body::Text(folder_listing(scope, &resolved.path, &path)?),
        ));
    }
    let mut file = scope.open_read(&resolved.path, &path)?;
    let limit = scope.files.max_media_bytes;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limit {
        return Err(ResourceError::TooLarge {
            uri: uri.to_owned(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ResourceError::Io {
            uri: uri.to_owned(),
            source: e,
        })?;
    let is_text = !text::looks_binary(&bytes);
    let mime = mime::detect(&resolved.path, &bytes, is_text);
    Ok((mime, to_body(bytes, false)))
}

/// A folder resource: its entries, one per line (folders end in `/`), sorted, at most
/// `files.max_entries`.
fn folder_listing(
    scope: &FileScope,
    dir: &std::path::Path,
    input: &str,
) -> Result<String, ResourceError> {
    // Listed through the checked descriptor, so a swapped path cannot redirect the listing.
    let (_handle, by) = scope.open_dir(dir, input)?;
    let entries = std::fs::read_dir(&by).map_err(|e| ResourceError::Io {
        uri: input.to_owned(),
        source: e,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let mut n = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                n.push('/');
            }
            n
        })
        .collect();
    names.sort();
    let max = scope.files.max_entries;
    let total = names.len();
    names.truncate(max);
    let mut out = names.join("\n");
    if total > max {
        out.push_str(&format!(
            "\n({} more entries not shown (files.max_entries); use list_directory to page)",
            total - max
        ));
    }
    Ok(out)
}

/// Paths inside the roots that start with `prefix`, for `completion/complete` on the file
/// resource template. At most a few hundred entries of one folder are read.
pub fn complete_path(scope: &crate::policy::FileScope, prefix: &str) -> Vec<String> {
    let decoded = crate::support::uri::file_uri_to_path(prefix);
    let prefix = decoded.as_deref().unwrap_or(prefix);
    if prefix.is_empty() || !prefix.contains('/') {
        return scope
            .roots()
            .iter()
            .map(|r| format!("{}/", r.path.display()))
            .filter(|r| r.starts_with(prefix) || prefix.is_empty())
            .collect();
    }
    let (dir, stem) = prefix.rsplit_once('/').unwrap_or(("", prefix));
    let dir = if dir.is_empty() { "/" } else { dir };
    let Ok(resolved) = scope.existing(dir) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&resolved.path) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .take(2000)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(stem) || (name.starts_with('.') && !stem.starts_with('.')) {
                return None;
            }
            let slash = if e.file_type().ok()?.is_dir() {
                "/"
            } else {
                ""
            };
            Some(format!("{}/{name}{slash}", dir.trim_end_matches('/')))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_served_with_front_matter_stripped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/a.md"), "---\ntitle: A\n---\n# A\n").unwrap();
        std::fs::write(dir.path().join("data.json"), "{}").unwrap();
        let r = Resources::load(&[dir.path().to_path_buf()], None);
        let uris: Vec<_> = r.list().map(|r| r.uri.as_str()).collect();
        assert!(uris.contains(&"switchboard://resources/docs/a.md"));
        assert!(uris.contains(&"switchboard://resources/data.json"));
        let (mime, body) = r.read("switchboard://resources/docs/a.md").unwrap();
        assert_eq!(mime, "text/markdown");
        assert!(matches!(body, Body::Text(t) if t == "# A\n"));
        let (mime, _) = r.read("switchboard://resources/data.json").unwrap();
        assert_eq!(mime, "application/json");
    }
}
