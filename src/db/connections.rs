//! The configured connections at work: which engine a call goes to, with which limits, and
//! whether it may write. SQLite work runs on the blocking pool with a fresh guarded handle per
//! call (opening is cheap, and nothing lingers between calls: no open transaction, no stale
//! change count); PostgreSQL sessions are kept, one per connection, and replaced when closed
//! or when a call overran its deadline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::postgres::{self, Pg};
use super::sqlite::{self, Access};
use super::{DbError, Item, Limits, Rows, Table, TableDesc};
use crate::config::{ConnectionSettings, DatabaseSettings, Target};

/// Extra time a PostgreSQL call gets beyond its statement timeout before the session is
/// dropped from this side (a server that stopped answering).
const CLIENT_SLACK: Duration = Duration::from_secs(5);

/// Tables a schema resource describes at most.
pub const SCHEMA_TABLES: usize = 100;

/// Where one call goes: a configured connection, or a SQLite file inside the roots (read-only
/// for reading tools; `db_execute` writes one, creating it when absent).
#[derive(Debug, Clone)]
pub enum Source {
    Connection(ConnectionSettings),
    File(PathBuf),
    /// A SQLite file inside the roots that the path policy lets `db_execute` write.
    WritableFile(PathBuf),
}

impl Source {
    pub fn writable(&self) -> bool {
        match self {
            Source::Connection(c) => c.writable,
            Source::File(_) => false,
            Source::WritableFile(_) => true,
        }
    }

    fn label(&self) -> String {
        match self {
            Source::Connection(c) => c.name.clone(),
            Source::File(p) | Source::WritableFile(p) => p.display().to_string(),
        }
    }
}

type Session = Arc<tokio::sync::Mutex<Option<Pg>>>;

pub struct Databases {
    pub settings: DatabaseSettings,
    sessions: Mutex<HashMap<String, Session>>,
}

impl Databases {
    pub fn new(settings: DatabaseSettings) -> Self {
        sqlite::set_memory_limits(settings.sqlite_max_length, settings.sqlite_max_heap);
        Self {
            settings,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The caps of one page on `source`.
    pub fn limits(&self, source: &Source) -> Limits {
        let (max_rows, timeout) = match source {
            Source::Connection(c) => (c.max_rows, c.statement_timeout),
            Source::File(_) | Source::WritableFile(_) => {
                (self.settings.max_rows, self.settings.statement_timeout)
            }
        };
        Limits {
            max_rows,
            max_bytes: self.settings.max_result_bytes,
            timeout,
        }
    }

    /// One page of a read-only query (read-only even on a writable connection).
    pub async fn query(&self, source: &Source, sql: &str, offset: usize) -> Result<Rows, DbError> {
        let limits = self.limits(source);
        let owned = sql.to_owned();
        self.on(
            source,
            limits.timeout,
            Access::ReadOnly,
            async |pg| postgres::query(pg, sql, offset, limits, Access::ReadOnly).await,
            move |c| sqlite::query(c, &owned, offset, limits),
        )
        .await
    }

    /// Runs one writing statement on a writable connection and commits it.
    pub async fn execute(&self, source: &Source, sql: &str) -> Result<(Rows, u64), DbError> {
        if !source.writable() {
            return Err(DbError::Refused(format!(
                "`{}` is read-only; db_execute writes connections with `writable: true` in the \
                 config and SQLite files inside the roots (use db_query to read)",
                source.label()
            )));
        }
        let limits = self.limits(source);
        let owned = sql.to_owned();
        self.on(
            source,
            limits.timeout,
            Access::Writable,
            async |pg| postgres::execute(pg, sql, limits).await,
            move |c| sqlite::execute(c, &owned, limits),
        )
        .await
    }

    pub async fn tables(&self, source: &Source) -> Result<Vec<Table>, DbError> {
        let timeout = self.limits(source).timeout;
        self.on(
            source,
            timeout,
            Access::ReadOnly,
            async |pg| postgres::tables(pg, timeout).await,
            move |c| sqlite::tables(c, timeout),
        )
        .await
    }

    pub async fn describe(&self, source: &Source, table: &str) -> Result<TableDesc, DbError> {
        let timeout = self.limits(source).timeout;
        let owned = table.to_owned();
        self.on(
            source,
            timeout,
            Access::ReadOnly,
            async |pg| postgres::describe(pg, table, timeout).await,
            move |c| sqlite::describe(c, &owned, timeout),
        )
        .await
    }

    /// The whole schema at a glance, for the `db://NAME/schema` resource: every table (up to
    /// [`SCHEMA_TABLES`]) with its description.
    pub async fn schema(&self, source: &Source) -> Result<serde_json::Value, DbError> {
        let tables = self.tables(source).await?;
        let mut described = Vec::new();
        for t in tables.iter().take(SCHEMA_TABLES) {
            let name = match &t.schema {
                Some(s) => format!("{s}.{}", t.name),
                None => t.name.clone(),
            };
            let mut d =
                serde_json::to_value(self.describe(source, &name).await?).unwrap_or_default();
            d["kind"] = serde_json::Value::String(t.kind.clone());
            described.push(d);
        }
        let mut out = serde_json::json!({ "connection": source.label(), "tables": described });
        if tables.len() > SCHEMA_TABLES {
            out["cut"] = serde_json::Value::String(format!(
                "{} tables, {SCHEMA_TABLES} described here; db_tables lists all, db_describe shows one",
                tables.len()
            ));
        }
        Ok(out)
    }

    /// Runs one read statement and sends its columns and rows to `out` until the writer hangs
    /// up; the statement timeout applies to the whole export.
    pub async fn stream(
        &self,
        source: &Source,
        sql: &str,
        out: tokio::sync::mpsc::Sender<Item>,
    ) -> Result<(), DbError> {
        let timeout = self.limits(source).timeout;
        let owned = sql.to_owned();
        let sink = out.clone();
        // No client-side deadline for PostgreSQL: a big export may take long, and the
        // server's statement timeout bounds it.
        self.on(
            source,
            Duration::MAX,
            Access::ReadOnly,
            async |pg| postgres::send_rows(pg, sql, timeout, out).await,
            move |c| {
                sqlite::for_each_row(
                    c,
                    &owned,
                    timeout,
                    |cols| {
                        let _ = sink.blocking_send(Item::Columns(cols.to_vec()));
                    },
                    |row| sink.blocking_send(Item::Row(row)).is_ok(),
                )
            },
        )
        .await
    }

    /// Sends one call to its engine: `pg` runs on the connection's PostgreSQL session within
    /// `deadline`, `lite` on a fresh SQLite handle opened for `access`.
    async fn on<T: Send + 'static>(
        &self,
        source: &Source,
        deadline: Duration,
        access: Access,
        pg: impl AsyncFnOnce(&mut Pg) -> Result<T, DbError>,
        lite: impl FnOnce(&rusqlite::Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        match source {
            Source::Connection(ConnectionSettings {
                target: Target::Postgres(url),
                name,
                ..
            }) => self.with_pg(name, url, deadline, pg).await,
            _ => self.with_sqlite(source, access, lite).await,
        }
    }

    /// Opens a guarded SQLite handle for one call and runs `f` on the blocking pool. The
    /// built-in writable database is created on first use, so reading it never fails for
    /// want of a file.
    async fn with_sqlite<T: Send + 'static>(
        &self,
        source: &Source,
        access: Access,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let (path, create) = match source {
            Source::Connection(c) => match &c.target {
                Target::Sqlite(p) => (p.clone(), c.writable),
                Target::Postgres(_) => unreachable!("routed to PostgreSQL"),
            },
            Source::File(p) => (p.clone(), false),
            Source::WritableFile(p) => (p.clone(), true),
        };
        tokio::task::spawn_blocking(move || {
            if create && !path.exists() {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                sqlite::open(&path, Access::Writable)?;
            }
            let conn = sqlite::open(&path, access)?;
            f(&conn)
        })
        .await
        .map_err(|e| DbError::Sql(format!("a worker task failed: {e}")))?
    }

    /// Runs `f` on the connection's PostgreSQL session, connecting first when there is none
    /// (or it closed). A call that overruns `deadline` (plus slack) drops the session.
    async fn with_pg<T>(
        &self,
        name: &str,
        url: &str,
        deadline: Duration,
        f: impl AsyncFnOnce(&mut Pg) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let session = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_owned())
            .or_default()
            .clone();
        let mut slot = session.lock().await;
        if slot.as_ref().is_none_or(|pg| pg.client.is_closed()) {
            *slot = Some(postgres::connect(url, self.settings.connect_timeout).await?);
        }
        let Some(pg) = slot.as_mut() else {
            unreachable!("connected above")
        };
        let limit = deadline.saturating_add(CLIENT_SLACK);
        let result = match tokio::time::timeout(limit, f(pg)).await {
            Ok(result) => result,
            Err(_) => {
                *slot = None;
                return Err(DbError::Timeout {
                    ms: deadline.as_millis() as u64,
                    key: "statement_timeout_ms",
                });
            }
        };
        // Nothing of one call reaches the next: its prepared statements, session settings,
        // temporary tables, LISTENs and session advisory locks go. A session that cannot be
        // reset is dropped (the next call connects afresh).
        let reset = tokio::time::timeout(CLIENT_SLACK, postgres::reset(pg)).await;
        if !matches!(reset, Ok(true)) || pg.client.is_closed() {
            *slot = None;
        }
        result
    }
}
