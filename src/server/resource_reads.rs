//! Resources as the protocol shows them: the list, and reading switchboard's own (folder
//! resources, files in the roots, the memory, database schemas, the dynamic ones).
#![allow(deprecated)]

use rmcp::model::*;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};

use super::Switchboard;
use crate::folders::Folders;
use crate::resources::{self, Body, ResourceError};

impl Switchboard {
    /// The resources as `resources/list` shows them (without the child servers').
    pub(crate) fn resource_list(&self, folders: &Folders) -> Vec<Resource> {
        let mut list: Vec<Resource> = folders
            .resources
            .list()
            .map(|r| {
                let mut res = Resource::new(&r.uri, &r.name).with_mime_type(&r.mime);
                if let Some(t) = &r.title {
                    res = res.with_title(t);
                }
                if let Some(d) = &r.description {
                    res = res.with_description(d);
                }
                if let Some(s) = r.size {
                    res = res.with_size(s);
                }
                res
            })
            .collect();
        for d in crate::resources::DYNAMIC {
            list.push(
                Resource::new(d.uri, d.name)
                    .with_title(d.title)
                    .with_description(d.description)
                    .with_mime_type(d.mime),
            );
        }
        list
    }

    /// The resources that are data of switchboard's own, as JSON: the memory graph, a note,
    /// a database's schema. `None` when `uri` is none of them.
    pub(crate) async fn data_resource(
        &self,
        uri: &str,
    ) -> Option<Result<serde_json::Value, McpError>> {
        use crate::memory::resources as mem;
        let not_found = || resource_error(ResourceError::NotFound(uri.to_owned()));
        let failed = |e: crate::error::ToolError| McpError::internal_error(e.to_string(), None);
        if uri == mem::GRAPH_URI {
            return Some(
                self.with_notes(|m| Ok(mem::graph_summary(m)?))
                    .await
                    .map_err(failed),
            );
        }
        if let Some(id) = mem::note_id(uri) {
            let found = self
                .with_notes(move |m| match mem::note(m, id) {
                    Err(crate::memory::notes::NotesError::NotFound(_)) => Ok(None),
                    other => Ok(Some(other?)),
                })
                .await;
            return Some(found.map_err(failed).and_then(|v| v.ok_or_else(not_found)));
        }
        let name = schema_connection(uri)?;
        let dbs = self.databases();
        let Some(conn) = dbs.settings.get(name) else {
            return Some(Err(not_found()));
        };
        let source = crate::db::Source::Connection(conn.clone());
        Some(
            dbs.schema(&source)
                .await
                .map_err(|e| McpError::invalid_params(format!("`{uri}`: {e}"), None)),
        )
    }

    /// Reads one of switchboard's own resources (not a child server's).
    pub(crate) async fn read_own(
        &self,
        uri: &str,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(String, Body), McpError> {
        if let Some(d) = resources::DYNAMIC.iter().find(|d| d.uri == uri) {
            return self.dynamic_resource(d).await;
        }
        if let Some(data) = self.data_resource(uri).await {
            let text = serde_json::to_string_pretty(&data?).unwrap_or_default();
            return Ok(("application/json".to_owned(), Body::Text(text)));
        }
        if uri.starts_with(resources::STATIC_PREFIX) {
            return self.folders().resources.read(uri).map_err(resource_error);
        }
        if uri.starts_with("file://") {
            let scope = self.file_scope(ctx).await;
            let u = uri.to_owned();
            return tokio::task::spawn_blocking(move || resources::read_file_uri(&scope, &u))
                .await
                .map_err(|e| McpError::internal_error(e.to_string(), None))?
                .map_err(resource_error);
        }
        Err(resource_error(ResourceError::NotFound(uri.to_owned())))
    }

    pub(crate) async fn dynamic_resource(
        &self,
        d: &resources::Dynamic,
    ) -> Result<(String, Body), McpError> {
        let failed = |e: String| McpError::internal_error(e, None);
        let text = match d.uri {
            resources::SYSTEM_URI => {
                let profile = self.settings.profile.clone();
                let info = crate::error::blocking(move || {
                    crate::system::system_info(&profile.name, &profile.data_dir)
                })
                .await
                .map_err(|e| failed(e.to_string()))?;
                serde_json::to_string_pretty(&info).map_err(|e| failed(e.to_string()))?
            }
            resources::CONFIG_URI => serde_norway::to_string(&self.settings.effective)
                .map_err(|e| failed(e.to_string()))?,
            _ => serde_json::to_string_pretty(&self.stats.snapshot())
                .map_err(|e| failed(e.to_string()))?,
        };
        Ok((d.mime.to_owned(), Body::Text(text)))
    }
}

/// The connection a `db://NAME/schema` URI names.
pub(crate) fn schema_connection(uri: &str) -> Option<&str> {
    uri.strip_prefix(DB_SCHEMA_PREFIX)?.strip_suffix("/schema")
}

/// Where a database schema resource lives.
pub(crate) const DB_SCHEMA_PREFIX: &str = "db://";

pub(crate) fn no_cursor(request: &Option<PaginatedRequestParams>) -> Result<(), McpError> {
    match request.as_ref().and_then(|r| r.cursor.as_ref()) {
        Some(c) => Err(McpError::invalid_params(
            format!("invalid cursor `{c}`: this list has a single page"),
            None,
        )),
        None => Ok(()),
    }
}

pub(crate) fn resource_error(e: ResourceError) -> McpError {
    match e {
        ResourceError::NotFound(uri) => McpError::resource_not_found(
            format!("no resource `{uri}`; see resources/list and resources/templates/list"),
            None,
        ),
        other => McpError::invalid_params(other.to_string(), None),
    }
}

pub(crate) fn to_contents(uri: &str, mime: String, body: Body) -> ResourceContents {
    use base64::Engine;
    match body {
        Body::Text(t) => ResourceContents::text(t, uri).with_mime_type(mime),
        Body::Binary(b) => {
            ResourceContents::blob(base64::engine::general_purpose::STANDARD.encode(b), uri)
                .with_mime_type(mime)
        }
    }
}
