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
use super::{Column, DbError, Limits, Pager, Rows};

/// Rows fetched from the portal per round trip.
const PAGE: usize = 500;

/// Connects (without TLS) and keeps the connection's task on the runtime.
pub async fn connect(url: &str, timeout: Duration) -> Result<Client, DbError> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| DbError::Open {
        path: redact(url),
        why: format!("not a PostgreSQL URL: {e}"),
    })?;
    config.connect_timeout(timeout);
    config.application_name("switchboard");
    let (client, connection) = config.connect(NoTls).await.map_err(|e| DbError::Open {
        path: redact(url),
        why: e.to_string(),
    })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Runs one statement and returns up to `limits.max_rows` rows from `offset`.
pub async fn query(
    client: &mut Client,
    sql: &str,
    offset: usize,
    limits: Limits,
    access: Access,
) -> Result<Rows, DbError> {
    let started = Instant::now();
    let tx = client
        .build_transaction()
        .read_only(access == Access::ReadOnly)
        .start()
        .await
        .map_err(pg_error)?;
    let ms = limits.timeout.as_millis().max(1);
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {ms}"))
        .await
        .map_err(pg_error)?;
    let stmt = tx.prepare(sql).await.map_err(|e| timeout_or(e, ms))?;
    if !stmt.params().is_empty() {
        return Err(DbError::Refused(format!(
            "the statement has {} parameter(s) ($1 ...); write the values into it",
            stmt.params().len()
        )));
    }
    let columns: Vec<Column> = stmt
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            decl_type: Some(c.type_().name().to_owned()),
        })
        .collect();
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
            let more = pager.offer(|| {
                Ok::<_, DbError>((0..row.len()).map(|i| row.get::<_, Cell>(i).0).collect())
            })?;
            if !more {
                break 'pages;
            }
        }
        if last {
            break;
        }
    }
    drop(portal);
    match access {
        // Nothing to keep: a read-only transaction ends without committing anything.
        Access::ReadOnly => tx.rollback().await.map_err(pg_error)?,
        Access::Writable => tx.commit().await.map_err(pg_error)?,
    }
    Ok(pager.finish(columns, started))
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
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
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
