//! PostgreSQL behind the same guarantees as SQLite. A query is one statement sent through the
//! extended protocol (the server itself refuses a second statement there, which is what the
//! simple protocol's `BEGIN READ ONLY; <text>` approach got wrong), inside a transaction that is
//! READ ONLY unless the connection is writable, with `statement_timeout` set for that
//! transaction only. Rows come through a portal a page at a time, so a huge result never
//! leaves the server beyond the page asked for. Connect as a role that may only SELECT: a
//! superuser can still write server files (`COPY ... TO 'file'`) in a read-only transaction.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, NoTls};

use super::sqlite::Access;
use super::{
    Column, ColumnDesc, DbError, ForeignKey, Index, Item, Limits, Pager, Rows, Table, TableDesc,
};
use crate::config::database::redact_url;

/// Rows fetched from the portal per round trip.
const PAGE: usize = 500;

/// One PostgreSQL session, and what its role could do beyond SQL.
#[derive(Debug)]
pub struct Pg {
    pub client: Client,
    /// The role is (or may become, by `SET ROLE`) a superuser or a role that writes or runs
    /// server files: even a READ ONLY transaction can then write files (`COPY ... TO`,
    /// `lo_export`), so read-only use is refused.
    pub file_writer: bool,
}

/// Connects (without TLS), keeps the connection's task on the runtime, and learns whether the
/// role can write server files.
pub async fn connect(url: &str, timeout: Duration) -> Result<Pg, DbError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| DbError::Open {
        path: redact_url(url),
        why: format!("not a PostgreSQL URL: {e}"),
    })?;
    config.connect_timeout(timeout);
    config.application_name("switchboard");
    let (client, connection) = config.connect(NoTls).await.map_err(|e| DbError::Open {
        path: redact_url(url),
        why: e.to_string(),
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    let row = client
        .query_one(
            // Membership, not just inherited privileges: a member can `SET ROLE` into the
            // powerful role inside the one statement it runs (in a function, say).
            "SELECT EXISTS (
                 SELECT 1 FROM pg_roles p
                 WHERE (p.rolsuper
                        OR p.rolname IN ('pg_write_server_files', 'pg_execute_server_program'))
                   AND pg_has_role(current_user, p.oid, 'MEMBER'))",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(Pg {
        client,
        file_writer: row.get(0),
    })
}

/// Returns the session to its state at log-in: `DISCARD ALL` ends what a call could leave
/// behind (prepared statements, `SET`s including the role, temporary tables, cursors,
/// LISTENs, session advisory locks). A failure closes nothing; the caller drops the session.
pub async fn reset(pg: &mut Pg) -> bool {
    pg.client.batch_execute("DISCARD ALL").await.is_ok()
}

/// Starts the transaction one call runs in: READ ONLY unless writing, with the statement
/// timeout for this transaction only. Read-only use by a role that can write server files is
/// refused here, before any SQL of the caller's is seen.
async fn begin<'a>(
    pg: &'a mut Pg,
    timeout: Duration,
    access: Access,
) -> Result<tokio_postgres::Transaction<'a>, DbError> {
    if access == Access::ReadOnly && pg.file_writer {
        return Err(file_writer_refusal());
    }
    start(&mut pg.client, timeout, access).await
}

fn file_writer_refusal() -> DbError {
    DbError::Refused(
        "this connection logs in as a superuser (or a role that may write server files), \
         which can write files even inside a read-only transaction (COPY ... TO, lo_export); \
         configure it with a role that may only SELECT (README: Databases)"
            .into(),
    )
}

async fn start(
    client: &mut Client,
    timeout: Duration,
    access: Access,
) -> Result<tokio_postgres::Transaction<'_>, DbError> {
    let tx = client
        .build_transaction()
        .read_only(access == Access::ReadOnly)
        .start()
        .await
        .map_err(pg_error)?;
    let ms = timeout.as_millis().max(1);
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))
        .await
        .map_err(pg_error)?;
    Ok(tx)
}

/// Prepares the caller's one statement, refusing placeholders (there is nothing to bind).
async fn prepare(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
    ms: u128,
) -> Result<(tokio_postgres::Statement, Vec<Column>), DbError> {
    if super::split::statements(sql) == 0 {
        return Err(DbError::Refused("the SQL is empty".into()));
    }
    let stmt = tx.prepare(sql).await.map_err(|e| timeout_or(e, ms))?;
    if !stmt.params().is_empty() {
        return Err(DbError::Refused(format!(
            "the statement has {} parameter(s) ($1 ...); write the values into it",
            stmt.params().len()
        )));
    }
    let columns = stmt
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            decl_type: Some(c.type_().name().to_owned()),
        })
        .collect();
    Ok((stmt, columns))
}

/// Runs one statement and returns up to `limits.max_rows` rows from `offset`. Values come in
/// PostgreSQL's binary format, typed; a result with a column the server cannot send that way
/// (`aclitem` in `pg_class`, some extension types) is read again as text.
pub async fn query(
    pg: &mut Pg,
    sql: &str,
    offset: usize,
    limits: Limits,
    access: Access,
) -> Result<Rows, DbError> {
    match binary_query(pg, sql, offset, limits, access).await {
        Err(e) if no_binary_output(&e) => text_query(pg, sql, offset, limits, access).await,
        other => other,
    }
}

/// Ends a query's transaction: a read-only one is rolled back (there is nothing to keep), a
/// writable one committed.
async fn end(tx: tokio_postgres::Transaction<'_>, access: Access) -> Result<(), DbError> {
    match access {
        Access::ReadOnly => tx.rollback().await.map_err(pg_error),
        Access::Writable => tx.commit().await.map_err(pg_error),
    }
}

/// The server has no binary output function for a column's type.
fn no_binary_output(e: &DbError) -> bool {
    matches!(e, DbError::Sql(m) if m.contains("no binary output function"))
}

/// [`query`] over the simple (text) protocol: every value as PostgreSQL prints it, typed back
/// where the column's type says how (numbers, booleans, JSON), text otherwise. Rows stream, so
/// the caps hold as in the binary path.
async fn text_query(
    pg: &mut Pg,
    sql: &str,
    offset: usize,
    limits: Limits,
    access: Access,
) -> Result<Rows, DbError> {
    use futures_util::StreamExt;
    let started = Instant::now();
    let ms = limits.timeout.as_millis().max(1);
    let tx = begin(pg, limits.timeout, access).await?;
    let (stmt, columns) = prepare(&tx, sql, ms).await?;
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    // Boxed, so it can be dropped (the rest of its rows discarded) before the transaction ends.
    let mut stream = Box::pin(
        tx.client()
            .simple_query_raw(sql)
            .await
            .map_err(|e| timeout_or(e, ms))?,
    );
    let mut pager = Pager::new(offset, limits);
    while let Some(message) = stream.next().await {
        let tokio_postgres::SimpleQueryMessage::Row(row) =
            message.map_err(|e| timeout_or(e, ms))?
        else {
            continue;
        };
        let more = pager.offer(|| Ok::<_, DbError>(text_row(&row, &types)))?;
        if !more {
            break;
        }
    }
    drop(stream);
    end(tx, access).await?;
    Ok(pager.finish(columns, started))
}

/// A row of the simple protocol, each value typed back by its column's type.
fn text_row(row: &tokio_postgres::SimpleQueryRow, types: &[Type]) -> Vec<Value> {
    (0..row.len())
        .map(|i| text_value(row.get(i), types.get(i)))
        .collect()
}

/// A value as PostgreSQL prints it, typed back where its column's type says how.
fn text_value(text: Option<&str>, ty: Option<&Type>) -> Value {
    let Some(t) = text else {
        return Value::Null;
    };
    let typed = match ty {
        Some(&Type::BOOL) => Some(Value::Bool(t == "t")),
        Some(&Type::INT2 | &Type::INT4 | &Type::INT8 | &Type::OID) => {
            t.parse::<i64>().ok().map(Value::from)
        }
        Some(&Type::FLOAT4 | &Type::FLOAT8) => t.parse::<f64>().ok().map(float),
        Some(&Type::JSON | &Type::JSONB) => serde_json::from_str(t).ok(),
        _ => None,
    };
    typed.unwrap_or_else(|| Value::String(t.to_owned()))
}

async fn binary_query(
    pg: &mut Pg,
    sql: &str,
    offset: usize,
    limits: Limits,
    access: Access,
) -> Result<Rows, DbError> {
    let started = Instant::now();
    let ms = limits.timeout.as_millis().max(1);
    let tx = begin(pg, limits.timeout, access).await?;
    let (stmt, columns) = prepare(&tx, sql, ms).await?;
    let portal = tx.bind(&stmt, &[]).await.map_err(|e| timeout_or(e, ms))?;
    let mut pager = Pager::new(offset, limits);
    'pages: loop {
        let want = pager.wanted().min(PAGE);
        let page = tx
            .query_portal(&portal, want as i32)
            .await
            .map_err(|e| timeout_or(e, ms))?;
        let last = page.len() < want;
        for row in page {
            let more = pager.offer(|| Ok::<_, DbError>(values(&row)))?;
            if !more {
                break 'pages;
            }
        }
        if last {
            break;
        }
    }
    drop(portal);
    end(tx, access).await?;
    Ok(pager.finish(columns, started))
}

/// Runs one statement in a writable transaction and commits it: the rows it returns
/// (`RETURNING`), capped like a query's, and how many rows it changed.
pub async fn execute(pg: &mut Pg, sql: &str, limits: Limits) -> Result<(Rows, u64), DbError> {
    use futures_util::StreamExt;
    let started = Instant::now();
    let ms = limits.timeout.as_millis().max(1);
    let tx = begin(pg, limits.timeout, Access::Writable).await?;
    let (stmt, columns) = prepare(&tx, sql, ms).await?;
    let stream = tx
        .query_raw(&stmt, std::iter::empty::<i32>())
        .await
        .map_err(|e| timeout_or(e, ms))?;
    futures_util::pin_mut!(stream);
    let mut pager = Pager::new(0, limits);
    let mut keep = true;
    while let Some(row) = stream.next().await {
        let row = row.map_err(|e| timeout_or(e, ms))?;
        if keep {
            keep = pager.offer(|| Ok::<_, DbError>(values(&row)))?;
        }
    }
    let affected = stream.rows_affected().unwrap_or(0);
    tx.commit().await.map_err(pg_error)?;
    Ok((pager.finish(columns, started), affected))
}

/// Runs one read statement and sends its columns, then every row, to an export's writer;
/// stops when the writer hangs up (it reached a cap).
pub async fn send_rows(
    pg: &mut Pg,
    sql: &str,
    timeout: Duration,
    out: tokio::sync::mpsc::Sender<Item>,
) -> Result<(), DbError> {
    match send_binary_rows(pg, sql, timeout, &out).await {
        // Nothing was sent yet: the server refuses such a result before its first row.
        Err(e) if no_binary_output(&e) => send_text_rows(pg, sql, timeout, &out).await,
        other => other,
    }
}

/// [`send_rows`] in the binary format; the columns go out with the first row (or the end), so
/// a result the server cannot send this way has sent nothing when it fails.
async fn send_binary_rows(
    pg: &mut Pg,
    sql: &str,
    timeout: Duration,
    out: &tokio::sync::mpsc::Sender<Item>,
) -> Result<(), DbError> {
    use futures_util::StreamExt;
    let ms = timeout.as_millis().max(1);
    let tx = begin(pg, timeout, Access::ReadOnly).await?;
    let (stmt, cols) = prepare(&tx, sql, ms).await?;
    let stream = tx
        .query_raw(&stmt, std::iter::empty::<i32>())
        .await
        .map_err(|e| timeout_or(e, ms))?;
    futures_util::pin_mut!(stream);
    let mut columns = Some(cols);
    while let Some(row) = stream.next().await {
        let row = row.map_err(|e| timeout_or(e, ms))?;
        if let Some(c) = columns.take()
            && out.send(Item::Columns(c)).await.is_err()
        {
            return Ok(());
        }
        if out.send(Item::Row(values(&row))).await.is_err() {
            return Ok(());
        }
    }
    if let Some(c) = columns {
        let _ = out.send(Item::Columns(c)).await;
    }
    Ok(())
}

/// [`send_rows`] over the simple (text) protocol, values typed back as in [`text_query`].
async fn send_text_rows(
    pg: &mut Pg,
    sql: &str,
    timeout: Duration,
    out: &tokio::sync::mpsc::Sender<Item>,
) -> Result<(), DbError> {
    use futures_util::StreamExt;
    let ms = timeout.as_millis().max(1);
    let tx = begin(pg, timeout, Access::ReadOnly).await?;
    let (stmt, cols) = prepare(&tx, sql, ms).await?;
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    if out.send(Item::Columns(cols)).await.is_err() {
        return Ok(());
    }
    let stream = tx
        .client()
        .simple_query_raw(sql)
        .await
        .map_err(|e| timeout_or(e, ms))?;
    futures_util::pin_mut!(stream);
    while let Some(message) = stream.next().await {
        let tokio_postgres::SimpleQueryMessage::Row(row) =
            message.map_err(|e| timeout_or(e, ms))?
        else {
            continue;
        };
        if out.send(Item::Row(text_row(&row, &types))).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Tables and views outside the system schemas that the role can see, by schema and name
/// (one more than [`super::MAX_TABLES`] at most, so a caller can tell the list was cut).
pub async fn tables(pg: &mut Pg, timeout: Duration) -> Result<Vec<Table>, DbError> {
    let rows = internal(
        pg,
        "SELECT table_schema::text, table_name::text,
                CASE table_type WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view'
                     ELSE lower(table_type) END
         FROM information_schema.tables
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
         ORDER BY 1, 2 LIMIT $1",
        &[&(super::MAX_TABLES as i64 + 1)],
        timeout,
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| Table {
            schema: Some(r.get(0)),
            name: r.get(1),
            kind: r.get(2),
        })
        .collect())
}

/// Columns, primary key, foreign keys and indexes of `table` (`name` or `schema.name`, found
/// on the search path like a query would).
pub async fn describe(pg: &mut Pg, table: &str, timeout: Duration) -> Result<TableDesc, DbError> {
    let missing = || {
        DbError::Refused(format!(
            "there is no table or view `{table}`; db_tables lists them (write schema.name outside the search path)"
        ))
    };
    let found = internal(pg, "SELECT to_regclass($1)::oid", &[&table], timeout).await?;
    let Some(oid) = found.first().and_then(|r| r.get::<_, Option<u32>>(0)) else {
        return Err(missing());
    };
    let cols = internal(
        pg,
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                pg_get_expr(d.adbin, d.adrelid)
         FROM pg_attribute a
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&oid],
        timeout,
    )
    .await?;
    let columns = cols
        .iter()
        .map(|r| ColumnDesc {
            name: r.get(0),
            type_name: r.get(1),
            nullable: r.get(2),
            default: r.get(3),
        })
        .collect();
    let pk = internal(
        pg,
        "SELECT a.attname::text
         FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
         JOIN pg_attribute a ON a.attnum = k.attnum
         WHERE i.indrelid = $1 AND i.indisprimary AND a.attrelid = $1
         ORDER BY k.n",
        &[&oid],
        timeout,
    )
    .await?;
    let fks = internal(
        pg,
        "SELECT c.confrelid::regclass::text,
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                      ORDER BY k.o),
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                      ORDER BY k.o)
         FROM pg_constraint c WHERE c.conrelid = $1 AND c.contype = 'f' ORDER BY c.conname",
        &[&oid],
        timeout,
    )
    .await?;
    let indexes = internal(
        pg,
        "SELECT ic.relname::text, i.indisunique,
                ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                      FROM generate_series(1, i.indnkeyatts::int) k ORDER BY k)
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = $1 ORDER BY 1",
        &[&oid],
        timeout,
    )
    .await?;
    Ok(TableDesc {
        table: table.to_owned(),
        columns,
        primary_key: pk.iter().map(|r| r.get(0)).collect(),
        foreign_keys: fks
            .iter()
            .map(|r| ForeignKey {
                references: r.get(0),
                columns: r.get(1),
                referenced_columns: r.get(2),
            })
            .collect(),
        indexes: indexes
            .iter()
            .map(|r| Index {
                name: r.get(0),
                unique: r.get(1),
                columns: r.get(2),
            })
            .collect(),
    })
}

/// Runs one statement of the caller's (schema queries, with bound parameters) read-only and
/// returns every row.
pub async fn internal(
    pg: &mut Pg,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    timeout: Duration,
) -> Result<Vec<tokio_postgres::Row>, DbError> {
    let ms = timeout.as_millis().max(1);
    // Schema queries are ours and read the catalogue only, so any role may run them.
    let tx = start(&mut pg.client, timeout, Access::ReadOnly).await?;
    let rows = tx.query(sql, params).await.map_err(|e| timeout_or(e, ms));
    let _ = tx.rollback().await;
    rows
}

fn values(row: &tokio_postgres::Row) -> Vec<Value> {
    (0..row.len()).map(|i| row.get::<_, Cell>(i).0).collect()
}

fn timeout_or(e: tokio_postgres::Error, ms: u128) -> DbError {
    if e.code() == Some(&SqlState::QUERY_CANCELED) {
        return DbError::Timeout {
            ms: ms as u64,
            key: "statement_timeout_ms",
        };
    }
    pg_error(e)
}

fn pg_error(e: tokio_postgres::Error) -> DbError {
    let Some(db) = e.as_db_error() else {
        return DbError::Sql(e.to_string());
    };
    let msg = db.message();
    match db.code() {
        c if *c == SqlState::READ_ONLY_SQL_TRANSACTION => {
            DbError::Refused(format!("this connection is read-only: {msg}"))
        }
        c if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            DbError::Refused(format!("the database refused it: {msg}"))
        }
        c if *c == SqlState::SYNTAX_ERROR && msg.contains("multiple commands") => {
            DbError::Refused("the SQL holds several statements; send exactly one per call".into())
        }
        _ => DbError::Sql(format!("{msg} ({})", db.code().code())),
    }
}

/// Any column value as JSON: numbers, text, booleans, JSON and times as themselves; other types
/// (and binary data) summarised.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let v = match *ty {
            Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => Value::from(i16::from_sql(ty, raw)?),
            Type::INT4 => Value::from(i32::from_sql(ty, raw)?),
            Type::INT8 => Value::from(i64::from_sql(ty, raw)?),
            Type::OID => Value::from(u32::from_sql(ty, raw)?),
            Type::FLOAT4 => float(f64::from(f32::from_sql(ty, raw)?)),
            Type::FLOAT8 => float(f64::from_sql(ty, raw)?),
            Type::NUMERIC => Value::String(numeric(raw)?),
            Type::JSON | Type::JSONB => Value::from_sql(ty, raw)?,
            Type::TIMESTAMPTZ => Value::String(jiff::Timestamp::from_sql(ty, raw)?.to_string()),
            Type::TIMESTAMP => Value::String(jiff::civil::DateTime::from_sql(ty, raw)?.to_string()),
            Type::DATE => Value::String(jiff::civil::Date::from_sql(ty, raw)?.to_string()),
            Type::TIME => Value::String(jiff::civil::Time::from_sql(ty, raw)?.to_string()),
            Type::UUID if raw.len() == 16 => Value::String(uuid(raw)),
            Type::BYTEA => Value::String(format!("<bytea: {} bytes>", raw.len())),
            _ if <String as FromSql>::accepts(ty) => Value::String(String::from_sql(ty, raw)?),
            _ => Value::String(format!("<{}: {} bytes>", ty.name(), raw.len())),
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or_else(|| Value::String(f.to_string()), Value::Number)
}

fn uuid(b: &[u8]) -> String {
    let hex = crate::support::text::hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// PostgreSQL's binary NUMERIC (base-10000 digits, a weight, a sign and a display scale) as
/// exact decimal text.
fn numeric(raw: &[u8]) -> Result<String, Box<dyn std::error::Error + Sync + Send>> {
    let word = |i: usize| -> Result<i16, Box<dyn std::error::Error + Sync + Send>> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short NUMERIC value".into())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i32;
    let sign = word(2)? as u16;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<i16> = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<_, _>>()?;
    let mut int = String::new();
    for pos in 0..=weight.max(-1) {
        let d = digits.get(pos as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut pos = weight + 1;
    while frac.len() < dscale {
        let d = if pos >= 0 {
            digits.get(pos as usize).copied().unwrap_or(0)
        } else {
            0
        };
        frac.push_str(&format!("{d:04}"));
        pos += 1;
    }
    frac.truncate(dscale);
    let mut s = if sign == 0x4000 {
        format!("-{int}")
    } else {
        int
    };
    if dscale > 0 {
        s.push('.');
        s.push_str(&frac);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::numeric;

    fn enc(ndigits: i16, weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight, sign as i16, dscale].iter().chain(digits) {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v
    }

    #[test]
    fn numerics_decode_exactly() {
        // 12345.678: digits [1, 2345, 6780], weight 1, scale 3.
        assert_eq!(
            numeric(&enc(3, 1, 0, 3, &[1, 2345, 6780])).unwrap(),
            "12345.678"
        );
        // -0.05: digits [500], weight -1, scale 2.
        assert_eq!(numeric(&enc(1, -1, 0x4000, 2, &[500])).unwrap(), "-0.05");
        // 100000000: digits [1], weight 2.
        assert_eq!(numeric(&enc(1, 2, 0, 0, &[1])).unwrap(), "100000000");
        assert_eq!(numeric(&enc(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&enc(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }
}
