//! Resources served to the host: files from the resource folders (MIME type from the extension;
//! Markdown front matter gives name, title and description) under `switchboard://resources/…`,
//! and any file inside the roots through the `file:///{path}` template, read through the policy.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use serde::Deserialize;

use crate::policy::{FileScope, PolicyError};
use crate::support::uri::file_uri_to_path;
use crate::support::{frontmatter, mime, text};

pub const STATIC_PREFIX: &str = "switchboard://resources/";
pub const FILE_TEMPLATE: &str = "file:///{path}";

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
    by_uri: BTreeMap<String, StaticResource>,
    pub problems: Vec<String>,
}

impl Resources {
    pub fn load(dirs: &[PathBuf]) -> Self {
        let mut me = Self::default();
        for (file, content) in BUILT_IN {
            let (front, _) = frontmatter::split(content);
            let front: RawFront = front
                .and_then(|f| serde_norway::from_str(f).ok())
                .unwrap_or_default();
            let r = me.make(file, front, None, Origin::BuiltIn(content));
            me.by_uri.insert(r.uri.clone(), r);
        }
        for dir in dirs {
            if !dir.is_dir() {
                continue;
            }
            let mut files = Vec::new();
            collect(dir, dir, 0, &mut files);
            files.sort();
            for (rel, path) in files {
                let mut front = RawFront::default();
                if path.extension().is_some_and(|e| e == "md")
                    && let Ok(text) = std::fs::read_to_string(&path)
                    && let (Some(f), _) = frontmatter::split(&text)
                {
                    match serde_norway::from_str(f) {
                        Ok(f) => front = f,
                        Err(e) => {
                            me.problems
                                .push(format!("{}: front matter: {e}", path.display()));
                            continue;
                        }
                    }
                }
                let size = std::fs::metadata(&path).ok().map(|m| m.len());
                let r = me.make(&rel, front, size, Origin::File(path.clone()));
                if let Some(old) = me.by_uri.get(&r.uri)
                    && let Origin::File(p) = &old.origin
                {
                    me.problems.push(format!(
                        "{}: `{}` is already served from {}",
                        path.display(),
                        r.uri,
                        p.display()
                    ));
                    continue;
                }
                me.by_uri.insert(r.uri.clone(), r);
            }
        }
        for p in &me.problems {
            tracing::warn!(problem = %p, "resource skipped");
        }
        me
    }

    fn make(
        &self,
        rel: &str,
        front: RawFront,
        size: Option<u64>,
        origin: Origin,
    ) -> StaticResource {
        let path = std::path::Path::new(rel);
        StaticResource {
            uri: format!("{STATIC_PREFIX}{rel}"),
            name: front.name.unwrap_or_else(|| rel.to_owned()),
            title: front.title,
            description: front.description,
            mime: front
                .mime_type
                .unwrap_or_else(|| mime::detect(path, b"", true)),
            size: size.or(match &origin {
                Origin::BuiltIn(s) => Some(s.len() as u64),
                Origin::File(_) => None,
            }),
            origin,
        }
    }

    pub fn list(&self) -> impl Iterator<Item = &StaticResource> {
        self.by_uri.values()
    }

    /// Where a static resource lives: `None` for an unknown URI, `Some(None)` for a built-in
    /// one (it never changes), `Some(Some(path))` for a file in a resource folder.
    pub fn source_file(&self, uri: &str) -> Option<Option<PathBuf>> {
        self.by_uri.get(uri).map(|r| match &r.origin {
            Origin::BuiltIn(_) => None,
            Origin::File(p) => Some(p.clone()),
        })
    }

    /// Reads a static resource. Markdown is served without its front matter.
    pub fn read(&self, uri: &str) -> Result<(String, Body), ResourceError> {
        let r = self
            .by_uri
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_served_with_front_matter_stripped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/a.md"), "---\ntitle: A\n---\n# A\n").unwrap();
        std::fs::write(dir.path().join("data.json"), "{}").unwrap();
        let r = Resources::load(&[dir.path().to_path_buf()]);
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
