//! Durable memory for agents: notes with full-text search, a knowledge graph and the notes'
//! embedding vectors, behind one interface ([`Memory`]) with two stores: the profile's SQLite
//! file (the default; several processes on one machine share it safely) and a PostgreSQL
//! database (several machines share it; [`postgres`]). No MCP types here; the memory tools are
//! thin adapters over `dyn Memory`, so both stores give the same answers to the same calls.

pub mod graph;
pub mod notes;
pub mod postgres;
pub mod quota;
pub mod resources;
pub mod vectors;

#[cfg(test)]
mod suite;

use crate::config::{MemorySettings, StoreTarget};

pub use graph::GraphStore;
pub use notes::{NoteStore, NotesError};
pub use vectors::VectorStore;

/// A profile's whole memory: notes, graph and vectors in one store.
pub trait Memory: NoteStore + GraphStore + VectorStore + Send {
    /// What the store is, for `doctor` and logs.
    fn describe(&self) -> StoreInfo;
}

/// What a store is and how it searches by meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// Where it is, without secrets.
    pub location: String,
    /// How vectors are compared: `in process` (SQLite, and PostgreSQL without `pgvector`) or
    /// `pgvector`.
    pub vectors: &'static str,
}

/// Opens the profile's memory where the settings say, with its quotas.
pub fn open(settings: &MemorySettings) -> Result<Box<dyn Memory>, NotesError> {
    Ok(match &settings.store {
        StoreTarget::Sqlite(path) => {
            Box::new(notes::SqliteStore::open(path)?.with_quotas(settings.quotas))
        }
        StoreTarget::Postgres { url, schema } => Box::new(
            postgres::PgStore::open(url, schema, std::time::Duration::from_secs(10))?
                .with_quotas(settings.quotas),
        ),
    })
}
