//! SQL databases for the database tools: SQLite and PostgreSQL behind read-only guards.
//! Nothing here knows MCP; the tools will be thin adapters over these functions. Read-only is
//! enforced by the engine itself (an authorizer and a read-only handle), never by reading the
//! SQL text, because the text can always hide a write (`SELECT 1; COMMIT; DROP TABLE t`).

pub mod connections;
pub mod csv;
pub mod postgres;
pub mod split;
pub mod sqlite;

pub use connections::{Databases, Source};

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// A refusal or failure, worded for the model.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The statement asks for something this connection may not do.
    #[error("{0}")]
    Refused(String),
    #[error(
        "the query ran longer than {ms} ms ({key}); narrow it (WHERE, LIMIT) or raise the limit"
    )]
    Timeout { ms: u64, key: &'static str },
    #[error("{0}")]
    Sql(String),
    #[error("`{path}` cannot be opened: {why}")]
    Open { path: String, why: String },
    /// A value, row or the memory a query needs is over a cap.
    #[error("{0}")]
    TooBig(String),
}

impl DbError {
    /// The stable reason code (`error::reason`).
    pub fn code(&self) -> &'static str {
        use crate::error::reason;
        match self {
            Self::Refused(_) => reason::SQL_REFUSED,
            Self::Timeout { .. } => reason::TIMEOUT,
            Self::Sql(_) => reason::SQL_ERROR,
            Self::Open { .. } => reason::DATABASE_UNAVAILABLE,
            Self::TooBig(_) => reason::RESPONSE_TOO_LARGE,
        }
    }
}

/// Caps on one query's result.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Column {
    pub name: String,
    /// The declared type, when the column comes straight from a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decl_type: Option<String>,
}

/// Rows of cells, each any JSON value a column can hold.
fn rows_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {
            "type": "array",
            "items": {"anyOf": [
                {"type": "string"}, {"type": "number"}, {"type": "boolean"},
                {"type": "object"}, {"type": "array"}, {"type": "null"}
            ]}
        }
    })
}

/// One page of a query's rows.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rows {
    pub columns: Vec<Column>,
    /// Each row as JSON values; blobs are summarised as `"<blob: N bytes>"`.
    #[schemars(schema_with = "rows_schema")]
    pub rows: Vec<Vec<Value>>,
    /// Set when more rows follow: pass it as `offset` to read on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Why the page ended early, with the limit's config key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
    pub duration_ms: u64,
}

/// A table or view, as `db_tables` lists it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Table {
    /// The PostgreSQL schema; absent for SQLite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub name: String,
    /// `table` or `view` (PostgreSQL may also say `foreign` or `local temporary`).
    pub kind: String,
}

/// What `db_describe` tells about one table.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TableDesc {
    pub table: String,
    pub columns: Vec<ColumnDesc>,
    /// The primary key's columns, in key order; empty when there is none.
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ColumnDesc {
    pub name: String,
    /// The declared type (SQLite may leave it empty).
    #[serde(rename = "type")]
    pub type_name: String,
    pub nullable: bool,
    /// The default, as SQL text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references: String,
    pub referenced_columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// What an export's producer sends its writer: the columns once, then each row.
#[derive(Debug)]
pub enum Item {
    Columns(Vec<Column>),
    Row(Vec<Value>),
}

/// Tables listed at most.
pub const MAX_TABLES: usize = 1000;

/// Gathers one page of a result under the row and byte caps, skipping `offset` rows first.
pub(crate) struct Pager {
    offset: usize,
    limits: Limits,
    index: usize,
    bytes: usize,
    rows: Vec<Vec<Value>>,
    next_offset: Option<usize>,
    cut: Option<String>,
}

impl Pager {
    pub fn new(offset: usize, limits: Limits) -> Self {
        Self {
            offset,
            limits,
            index: 0,
            bytes: 0,
            rows: Vec::new(),
            next_offset: None,
            cut: None,
        }
    }

    /// Rows still wanted from the source (those to skip, the page, and one to see if more follow).
    pub fn wanted(&self) -> usize {
        self.offset.saturating_sub(self.index) + self.limits.max_rows + 1 - self.rows.len()
    }

    /// Offers the next row (built only if it is kept); `false` means the page is complete and
    /// reading should stop.
    pub fn offer<E>(&mut self, row: impl FnOnce() -> Result<Vec<Value>, E>) -> Result<bool, E> {
        if self.index < self.offset {
            self.index += 1;
            return Ok(true);
        }
        if self.rows.len() == self.limits.max_rows {
            self.stop(format!("{} rows (max_rows)", self.limits.max_rows));
            return Ok(false);
        }
        let values = row()?;
        let size: usize = values.iter().map(|v| v.to_string().len() + 1).sum();
        if self.bytes + size > self.limits.max_bytes && !self.rows.is_empty() {
            self.stop(format!(
                "{} bytes of rows (max_bytes)",
                self.limits.max_bytes
            ));
            return Ok(false);
        }
        self.bytes += size;
        self.rows.push(values);
        self.index += 1;
        Ok(true)
    }

    fn stop(&mut self, what: String) {
        self.next_offset = Some(self.index);
        self.cut = Some(format!(
            "{what}; pass offset {} for the next page",
            self.index
        ));
    }

    pub fn finish(self, columns: Vec<Column>, started: std::time::Instant) -> Rows {
        Rows {
            columns,
            rows: self.rows,
            next_offset: self.next_offset,
            cut: self.cut,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }
}
