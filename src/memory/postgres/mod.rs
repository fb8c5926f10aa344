//! The PostgreSQL memory store: the same notes, graph and vectors as the SQLite store, in a
//! database several machines share. Each profile is its own schema (`switchboard_PROFILE`,
//! see `config::memory::schema_for`), and every statement runs with that schema alone on its
//! search path (plus pgvector's, when installed), so no query can reach another profile.
//! switchboard creates and migrates the schema itself ([`schema`], versioned in its `meta`
//! table, under an advisory lock so processes starting together do not race). Writes are one
//! transaction each that first locks the profile's quota counters, so concurrent writers from
//! any number of processes are serialised per profile and lose nothing. Changes are announced
//! with `NOTIFY` on the schema's channel ([`listen`]), which is how subscriptions in other
//! processes learn of them.

mod graph;
pub mod listen;
mod migrate;
mod notes;
mod schema;
mod vectors;

use std::time::Duration;

use postgres::{Client, NoTls, Transaction};

use super::notes::NotesError;
use super::quota::{Quotas, verdict};
use super::{Memory, StoreInfo};

pub use migrate::Migrated;

/// A profile's memory in PostgreSQL. Synchronous, like the SQLite store: its calls run on the
/// blocking threads the memory tools already use.
pub struct PgStore {
    /// Always there until the store is dropped (see `Drop`).
    client: Option<Client>,
    schema: String,
    location: String,
    quotas: Quotas,
    /// The schema pgvector's type and operators live in, when the extension is installed.
    pgvector: Option<String>,
}

/// A PostgreSQL error as one line: the server's message and detail when it sent one.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(d) => format!("{} ({d})", db.message()),
            None => db.message().to_owned(),
        },
        None => e.to_string(),
    }
}

/// `name` as a quoted SQL identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects, creates or migrates the profile's schema, and finds pgvector.
    pub fn open(url: &str, schema: &str, timeout: Duration) -> Result<Self, NotesError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            NotesError::Invalid(format!("memory.store is not a PostgreSQL URL: {e}"))
        })?;
        config.connect_timeout(timeout);
        config.application_name("switchboard memory");
        let mut client = config.connect(NoTls)?;
        schema::prepare(&mut client, schema)?;
        let pgvector = schema::pgvector(&mut client)?;
        let mut path = ident(schema);
        if let Some(ext) = &pgvector {
            path.push_str(", ");
            path.push_str(&ident(ext));
        }
        client.batch_execute(&format!("SET search_path TO {path}"))?;
        if pgvector.is_some() {
            schema::add_vector_column(&mut client, pgvector.as_deref())?;
        }
        Ok(Self {
            client: Some(client),
            schema: schema.to_owned(),
            location: format!(
                "{} (schema {schema})",
                crate::config::database::redact_url(url)
            ),
            quotas: Quotas::default(),
            pgvector,
        })
    }

    /// The store with these quotas (the defaults until set).
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// The profile's schema, which is also its `NOTIFY` channel.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The connection (gone only while the store is dropped).
    fn db(&mut self) -> Result<&mut Client, NotesError> {
        self.client
            .as_mut()
            .ok_or_else(|| NotesError::Invalid("the memory store is closed".into()))
    }

    /// Runs `f` in one transaction that first locks the profile's quota counters (so writers
    /// of one profile take turns, whichever process or machine they run in), then refuses the
    /// write whole if it took a counter past its cap.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, NotesError>,
    ) -> Result<T, NotesError> {
        let quotas = self.quotas;
        let mut tx = self.db()?.transaction()?;
        let before = usage(&mut tx, true)?;
        let out = f(&mut tx)?;
        verdict(before, usage(&mut tx, false)?, quotas)?;
        tx.commit()?;
        Ok(out)
    }
}

/// (notes, graph items, bytes) as the counters hold them; `lock` takes their row locks.
fn usage(tx: &mut Transaction<'_>, lock: bool) -> Result<[u64; 3], NotesError> {
    let sql = if lock {
        "SELECT key, value FROM meta WHERE key IN ('quota_bytes', 'quota_graph', 'quota_notes') ORDER BY key FOR UPDATE"
    } else {
        "SELECT key, value FROM meta WHERE key IN ('quota_bytes', 'quota_graph', 'quota_notes')"
    };
    let mut out = [0u64; 3];
    for row in tx.query(sql, &[])? {
        let key: &str = row.get(0);
        let value: i64 = row.get(1);
        let i = match key {
            "quota_notes" => 0,
            "quota_graph" => 1,
            _ => 2,
        };
        out[i] = value.max(0) as u64;
    }
    Ok(out)
}

impl Drop for PgStore {
    /// The client owns a small runtime, which may not be dropped on a thread that is running
    /// async tasks; there, it is dropped on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("memory-close".into())
                .spawn(move || drop(client));
        }
    }
}

impl Memory for PgStore {
    fn describe(&self) -> StoreInfo {
        StoreInfo {
            engine: "postgres",
            location: self.location.clone(),
            vectors: if self.pgvector.is_some() {
                "pgvector"
            } else {
                "in process (pgvector is not installed in this database)"
            },
        }
    }
}
