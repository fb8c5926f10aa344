//! SQLite behind a guard. A read-only connection is opened read-only *and* given an authorizer
//! that refuses every write, ATTACH/DETACH (which also stops `VACUUM INTO`), PRAGMAs outside a
//! small list of schema readers, transactions, and dangerous functions (`load_extension`,
//! `fts3_tokenizer`); a writable one still refuses ATTACH, extensions and unlisted PRAGMAs. On
//! top: defensive mode, untrusted schemas, no attached databases at all, exactly one statement
//! per call, and a deadline enforced by SQLite's progress handler.

use std::path::Path;
use std::time::Instant;

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use super::{
    Column, ColumnDesc, DbError, ForeignKey, Index, Limits, Pager, Rows, Table, TableDesc,
};

/// PRAGMAs that only describe the schema; they may name a table or index.
const SCHEMA_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
];

/// PRAGMAs that read a setting; allowed only without a value (with one, they would write).
const READ_PRAGMAS: &[&str] = &[
    "user_version",
    "schema_version",
    "application_id",
    "page_count",
    "page_size",
    "freelist_count",
    "encoding",
    "data_version",
    "compile_options",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "integrity_check",
    "quick_check",
    "foreign_key_check",
    "journal_mode",
];

/// Functions no query may call: loading native code, or registering a tokenizer by pointer.
const DENIED_FUNCTIONS: &[&str] = &["load_extension", "fts3_tokenizer"];

/// What a connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Writable,
}

/// The authorizer's decision for one action.
pub fn authorize(access: Access, ctx: &AuthContext<'_>) -> Authorization {
    use AuthAction as A;
    let allowed = match ctx.action {
        A::Select | A::Read { .. } | A::Recursive => true,
        A::Function { function_name } => !DENIED_FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(function_name)),
        A::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            SCHEMA_PRAGMAS.contains(&name.as_str())
                || (READ_PRAGMAS.contains(&name.as_str()) && pragma_value.is_none())
        }
        // Another database file: refused everywhere (it can create files anywhere, and
        // `VACUUM INTO` goes through it).
        A::Attach { .. } | A::Detach { .. } => false,
        A::Insert { .. }
        | A::Update { .. }
        | A::Delete { .. }
        | A::CreateIndex { .. }
        | A::CreateTable { .. }
        | A::CreateTempIndex { .. }
        | A::CreateTempTable { .. }
        | A::CreateTempTrigger { .. }
        | A::CreateTempView { .. }
        | A::CreateTrigger { .. }
        | A::CreateView { .. }
        | A::DropIndex { .. }
        | A::DropTable { .. }
        | A::DropTempIndex { .. }
        | A::DropTempTable { .. }
        | A::DropTempTrigger { .. }
        | A::DropTempView { .. }
        | A::DropTrigger { .. }
        | A::DropView { .. }
        | A::AlterTable { .. }
        | A::Reindex { .. }
        | A::Analyze { .. }
        | A::CreateVtable { .. }
        | A::DropVtable { .. }
        | A::Transaction { .. }
        | A::Savepoint { .. } => access == Access::Writable,
        _ => false,
    };
    if allowed {
        Authorization::Allow
    } else {
        Authorization::Deny
    }
}

/// SQLite's memory caps for the database tools: (longest value or row, heap of the process).
static MEMORY: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();

/// Sets the memory caps (`database.sqlite_max_length_bytes`, `database.sqlite_max_heap_bytes`)
/// before the first database call; the first setting wins.
pub fn set_memory_limits(max_length: u64, max_heap: u64) {
    let _ = MEMORY.set((max_length, max_heap));
}

/// The heap limit is the process's, applied once, when SQLite is first used by a tool: a
/// query that builds huge values then fails with "out of memory" instead of taking the
/// machine's (several at once share the one limit).
fn apply_heap_limit() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some((_, heap)) = MEMORY.get() {
            // SAFETY: a plain setter of SQLite's global configuration.
            unsafe {
                rusqlite::ffi::sqlite3_hard_heap_limit64(i64::try_from(*heap).unwrap_or(i64::MAX))
            };
        }
    });
}

/// Opens `path` with the guard for `access`. A read-only connection never creates the file.
pub fn open(path: &Path, access: Access) -> Result<Connection, DbError> {
    apply_heap_limit();
    let flags = match access {
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        Access::Writable => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| DbError::Open {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    // Another process writing (the local database is shared by every switchboard of the
    // profile): wait for it rather than fail at once.
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    guard(&conn, access).map_err(|e| DbError::Open {
        path: path.display().to_string(),
        why: e.to_string(),
    })?;
    Ok(conn)
}

fn guard(conn: &Connection, access: Access) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    use rusqlite::limits::Limit;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(
        DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER,
        access == Access::Writable,
    )?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    if let Some((length, _)) = MEMORY.get() {
        conn.set_limit(
            Limit::SQLITE_LIMIT_LENGTH,
            i32::try_from(*length).unwrap_or(i32::MAX),
        )?;
    }
    conn.authorizer(Some(move |ctx: AuthContext<'_>| authorize(access, &ctx)))?;
    Ok(())
}

/// Runs exactly one statement and returns up to `limits.max_rows` rows from `offset`, within
/// `limits.max_bytes` of JSON and `limits.timeout`.
pub fn query(conn: &Connection, sql: &str, offset: usize, limits: Limits) -> Result<Rows, DbError> {
    let started = Instant::now();
    guarded(conn, sql, limits.timeout, |stmt| {
        page(stmt, &[], offset, limits, started)
    })
}

/// Runs one statement on a writable connection: the rows it returns (`RETURNING`), capped like
/// a query's, and how many rows it inserted, changed or deleted.
pub fn execute(conn: &Connection, sql: &str, limits: Limits) -> Result<(Rows, u64), DbError> {
    let started = Instant::now();
    let before = conn.total_changes();
    let rows = guarded(conn, sql, limits.timeout, |stmt| {
        page(stmt, &[], 0, limits, started)
    })?;
    Ok((rows, conn.total_changes().saturating_sub(before)))
}

/// Runs one read statement and hands every row to `each` (which returns `false` to stop),
/// after the column names; for exports that stream a whole result.
pub fn for_each_row(
    conn: &Connection,
    sql: &str,
    timeout: std::time::Duration,
    columns: impl FnOnce(&[Column]),
    mut each: impl FnMut(Vec<Value>) -> bool,
) -> Result<(), DbError> {
    guarded(conn, sql, timeout, |stmt| {
        columns(&columns_of(stmt));
        let width = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if !each(values(row, width)?) {
                break;
            }
        }
        Ok(())
    })
}

/// Runs one statement of the caller's (schema queries with bound parameters) and returns
/// every row, within the deadline.
pub fn internal(
    conn: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    timeout: std::time::Duration,
) -> Result<Vec<Vec<Value>>, DbError> {
    guarded(conn, sql, timeout, |stmt| {
        let width = stmt.column_count();
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(values(row, width)?);
        }
        Ok(out)
    })
}

/// The tables and views, by name (one more than [`super::MAX_TABLES`] at most, so a caller
/// can tell the list was cut).
pub fn tables(conn: &Connection, timeout: std::time::Duration) -> Result<Vec<Table>, DbError> {
    let rows = internal(
        conn,
        "SELECT name, type FROM sqlite_schema
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         ORDER BY name LIMIT ?1",
        &[&(super::MAX_TABLES as i64 + 1)],
        timeout,
    )?;
    Ok(rows
        .into_iter()
        .map(|r| Table {
            schema: None,
            name: text(&r[0]),
            kind: text(&r[1]),
        })
        .collect())
}

/// Columns, primary key, foreign keys and indexes of `table`.
pub fn describe(
    conn: &Connection,
    table: &str,
    timeout: std::time::Duration,
) -> Result<TableDesc, DbError> {
    let cols = internal(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
        &[&table],
        timeout,
    )?;
    if cols.is_empty() {
        return Err(DbError::Refused(format!(
            "there is no table or view `{table}`; db_tables lists them"
        )));
    }
    let mut pk: Vec<(i64, String)> = cols
        .iter()
        .filter(|r| r[4].as_i64().unwrap_or(0) > 0)
        .map(|r| (r[4].as_i64().unwrap_or(0), text(&r[0])))
        .collect();
    pk.sort();
    let columns = cols
        .iter()
        .map(|r| ColumnDesc {
            name: text(&r[0]),
            type_name: text(&r[1]),
            nullable: r[2].as_i64() == Some(0) && r[4].as_i64() == Some(0),
            default: r[3].as_str().map(str::to_owned),
        })
        .collect();
    let fk_rows = internal(
        conn,
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        &[&table],
        timeout,
    )?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for r in fk_rows {
        let id = r[0].as_i64().unwrap_or(0);
        if foreign_keys.last().is_none_or(|(last, _)| *last != id) {
            foreign_keys.push((
                id,
                ForeignKey {
                    columns: Vec::new(),
                    references: text(&r[1]),
                    referenced_columns: Vec::new(),
                },
            ));
        }
        if let Some((_, fk)) = foreign_keys.last_mut() {
            fk.columns.push(text(&r[2]));
            // No target column means the referenced table's primary key.
            if !r[3].is_null() {
                fk.referenced_columns.push(text(&r[3]));
            }
        }
    }
    let index_rows = internal(
        conn,
        "SELECT il.name, il.\"unique\", ii.name
         FROM pragma_index_list(?1) il, pragma_index_info(il.name) ii
         ORDER BY il.name, ii.seqno",
        &[&table],
        timeout,
    )?;
    let mut indexes: Vec<Index> = Vec::new();
    for r in index_rows {
        let name = text(&r[0]);
        if indexes.last().is_none_or(|i| i.name != name) {
            indexes.push(Index {
                name,
                columns: Vec::new(),
                unique: r[1].as_i64() == Some(1),
            });
        }
        if let Some(i) = indexes.last_mut() {
            // An expression's column has no name.
            i.columns
                .push(r[2].as_str().unwrap_or("<expression>").to_owned());
        }
    }
    Ok(TableDesc {
        table: table.to_owned(),
        columns,
        primary_key: pk.into_iter().map(|(_, n)| n).collect(),
        foreign_keys: foreign_keys.into_iter().map(|(_, f)| f).collect(),
        indexes,
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Checks that `sql` is exactly one statement, then prepares and runs it through `f` with a
/// deadline enforced by SQLite's progress handler; maps errors to refusals and timeouts.
fn guarded<T>(
    conn: &Connection,
    sql: &str,
    timeout: std::time::Duration,
    f: impl FnOnce(&mut rusqlite::Statement<'_>) -> rusqlite::Result<T>,
) -> Result<T, DbError> {
    match super::split::statements(sql) {
        0 => return Err(DbError::Refused("the SQL is empty".into())),
        1 => {}
        n => {
            return Err(DbError::Refused(format!(
                "the SQL holds {n} statements; send exactly one per call"
            )));
        }
    }
    let deadline = Instant::now() + timeout;
    conn.progress_handler(1000, Some(move || Instant::now() > deadline))
        .map_err(sql_error)?;
    let result = conn.prepare(sql).and_then(|mut stmt| f(&mut stmt));
    let _ = conn.progress_handler(0, None::<fn() -> bool>);
    result.map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            DbError::Timeout {
                ms: timeout.as_millis() as u64,
                key: "statement_timeout_ms",
            }
        }
        other => sql_error(other),
    })
}

fn columns_of(stmt: &rusqlite::Statement<'_>) -> Vec<Column> {
    stmt.columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            decl_type: c.decl_type().map(str::to_owned),
        })
        .collect()
}

fn page(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[&dyn rusqlite::ToSql],
    offset: usize,
    limits: Limits,
    started: Instant,
) -> rusqlite::Result<Rows> {
    let columns = columns_of(stmt);
    let width = columns.len();
    let mut page = Pager::new(offset, limits);
    let mut result = stmt.query(params)?;
    while let Some(row) = result.next()? {
        let more = page.offer(|| values(row, width))?;
        if !more {
            break;
        }
    }
    Ok(page.finish(columns, started))
}

/// A row's first `width` columns as JSON values.
fn values(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<Vec<Value>> {
    (0..width).map(|i| row.get_ref(i).map(json_value)).collect()
}

/// A value as JSON: integers and reals as numbers, text as text, blobs summarised.
fn json_value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::String(format!("<blob: {} bytes>", b.len())),
    }
}

fn sql_error(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::AuthorizationForStatementDenied
                // A denied function comes back as a plain error saying so.
                || msg.as_deref().is_some_and(|m| m.starts_with("not authorized")) =>
        {
            DbError::Refused(format!(
                "not allowed on this connection: {} (read-only connections run one SELECT; ATTACH, extensions and setting PRAGMAs are refused everywhere)",
                msg.as_deref().unwrap_or("not authorized")
            ))
        }
        rusqlite::Error::SqlInputError { msg, .. } if msg.starts_with("not authorized") => {
            DbError::Refused(format!(
                "not allowed on this connection: {msg} (loading extensions is refused everywhere)"
            ))
        }
        rusqlite::Error::SqliteFailure(f, msg) if f.code == rusqlite::ErrorCode::ReadOnly => {
            DbError::Refused(format!(
                "this connection is read-only: {}",
                msg.as_deref().unwrap_or("attempt to write")
            ))
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OutOfMemory => {
            DbError::TooBig(
                "the query needed more memory than SQLite may use (database.sqlite_max_heap_bytes, shared by every query at once); build smaller values, or fewer at a time"
                    .into(),
            )
        }
        rusqlite::Error::SqliteFailure(f, msg) if f.code == rusqlite::ErrorCode::TooBig => {
            DbError::TooBig(format!(
                "{}: a value or row is longer than database.sqlite_max_length_bytes; build smaller values (substr, LIMIT)",
                msg.as_deref().unwrap_or("string or blob too big")
            ))
        }
        _ => DbError::Sql(e.to_string()),
    }
}

/// The slowest a query may be in the tests below.
#[cfg(test)]
const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

#[cfg(test)]
mod tests {
    //! The hostile-SQL battery against real SQLite: each attempt is refused, and neither the
    //! data nor the file system changes.
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_rows: 200,
            max_bytes: 1 << 20,
            timeout: TEST_TIMEOUT,
        }
    }

    /// A database with one table `t(a, b)` of three rows, and a folder outside it.
    fn fixture() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data.db");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let c = Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);
             INSERT INTO t(b, c) VALUES ('one', x'0102'), ('two', NULL), ('three', NULL);",
        )
        .unwrap();
        drop(c);
        (dir, db, outside)
    }

    fn rows_of(db: &Path) -> i64 {
        let c = Connection::open(db).unwrap();
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_select_returns_columns_rows_and_summarised_blobs() {
        let (_d, db, _o) = fixture();
        let c = open(&db, Access::ReadOnly).unwrap();
        let r = query(&c, "SELECT a, b, c FROM t ORDER BY a", 0, limits()).unwrap();
        assert_eq!(r.columns[1].name, "b");
        assert_eq!(r.columns[0].decl_type.as_deref(), Some("INTEGER"));
        assert_eq!(
            r.rows[0],
            vec![
                Value::from(1),
                Value::from("one"),
                Value::from("<blob: 2 bytes>")
            ]
        );
        assert_eq!(r.rows.len(), 3);
        assert!(r.next_offset.is_none());
        let schema = query(&c, "PRAGMA table_info(t)", 0, limits()).unwrap();
        assert_eq!(schema.rows.len(), 3);
        let also = query(&c, "SELECT name FROM pragma_table_info('t')", 0, limits()).unwrap();
        assert_eq!(also.rows.len(), 3);
    }

    #[test]
    fn hostile_sql_is_refused_and_changes_nothing() {
        let (_d, db, outside) = fixture();
        let before = std::fs::read(&db).unwrap();
        let c = open(&db, Access::ReadOnly).unwrap();
        let copy = outside.join("copy.db");
        let attached = outside.join("x.db");
        for sql in [
            "SELECT 1; COMMIT; DROP TABLE t;".to_owned(),
            "DROP TABLE t".to_owned(),
            "DELETE FROM t".to_owned(),
            "INSERT INTO t(b) VALUES ('x')".to_owned(),
            "UPDATE t SET b = 'x'".to_owned(),
            format!("VACUUM INTO '{}'", copy.display()),
            format!("ATTACH '{}' AS x", attached.display()),
            "PRAGMA query_only=0".to_owned(),
            "PRAGMA writable_schema=1".to_owned(),
            "PRAGMA user_version=7".to_owned(),
            "PRAGMA journal_mode=DELETE".to_owned(),
            "SELECT load_extension('x')".to_owned(),
            "SELECT fts3_tokenizer('simple')".to_owned(),
            "CREATE TEMP TABLE z(a)".to_owned(),
            "BEGIN".to_owned(),
            "WITH d AS (SELECT 1) DELETE FROM t".to_owned(),
        ] {
            let err = query(&c, &sql, 0, limits()).unwrap_err();
            assert!(
                matches!(err, DbError::Refused(_)),
                "{sql}: refused, not {err:?}"
            );
        }
        assert!(
            !copy.exists() && !attached.exists(),
            "no file was written outside"
        );
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "the database is unchanged"
        );
        assert_eq!(rows_of(&db), 3);
    }

    #[test]
    fn a_writable_connection_writes_but_still_cannot_escape() {
        let (_d, db, outside) = fixture();
        let c = open(&db, Access::Writable).unwrap();
        query(&c, "INSERT INTO t(b) VALUES ('four')", 0, limits()).unwrap();
        query(&c, "CREATE TABLE u(x)", 0, limits()).unwrap();
        assert_eq!(rows_of(&db), 4);
        let copy = outside.join("copy.db");
        for sql in [
            format!("VACUUM INTO '{}'", copy.display()),
            format!("ATTACH '{}' AS x", outside.join("x.db").display()),
            "SELECT load_extension('x')".to_owned(),
            "PRAGMA writable_schema=1".to_owned(),
            "INSERT INTO t(b) VALUES ('a'); INSERT INTO t(b) VALUES ('b')".to_owned(),
        ] {
            let err = query(&c, &sql, 0, limits()).unwrap_err();
            assert!(matches!(err, DbError::Refused(_)), "{sql}: {err:?}");
        }
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(rows_of(&db), 4);
    }

    #[test]
    fn a_huge_cross_join_stops_at_the_row_cap_or_the_deadline() {
        let (_d, db, _o) = fixture();
        let c = open(&db, Access::ReadOnly).unwrap();
        let big = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 10000) \
                   SELECT a.i, b.i FROM n a, n b";
        // Rows stream, so the cap ends it at once, with the offset of the next page.
        let r = query(&c, big, 0, limits()).unwrap();
        assert_eq!(r.rows.len(), 200);
        assert_eq!(r.next_offset, Some(200));
        // An aggregate must see every row first: the deadline stops it.
        let agg = format!("SELECT count(*) FROM ({big})");
        let started = Instant::now();
        let err = query(&c, &agg, 0, limits()).unwrap_err();
        assert!(matches!(err, DbError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < TEST_TIMEOUT * 4);
        // The connection still works afterwards.
        assert_eq!(query(&c, "SELECT 1", 0, limits()).unwrap().rows.len(), 1);
    }

    #[test]
    fn pages_follow_the_offset_and_the_byte_cap() {
        let (_d, db, _o) = fixture();
        let c = open(&db, Access::ReadOnly).unwrap();
        let small = Limits {
            max_rows: 2,
            ..limits()
        };
        let p1 = query(&c, "SELECT b FROM t ORDER BY a", 0, small).unwrap();
        assert_eq!(p1.rows.len(), 2);
        let p2 = query(
            &c,
            "SELECT b FROM t ORDER BY a",
            p1.next_offset.unwrap(),
            small,
        )
        .unwrap();
        assert_eq!(p2.rows, vec![vec![Value::from("three")]]);
        assert!(p2.next_offset.is_none());
        let tiny = Limits {
            max_bytes: 8,
            ..limits()
        };
        let r = query(&c, "SELECT b FROM t ORDER BY a", 0, tiny).unwrap();
        assert_eq!(r.rows.len(), 1);
        assert!(r.cut.unwrap().contains("max_bytes"));
    }

    #[test]
    fn a_read_only_open_never_creates_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.db");
        assert!(open(&missing, Access::ReadOnly).is_err());
        assert!(!missing.exists());
    }
}
