//! `switchboard memory migrate --to postgres://…`: a profile's SQLite memory copied into its
//! PostgreSQL schema in one transaction (all of it or nothing), note ids and vectors kept, so
//! `memory://notes/{id}` links still work and nothing needs embedding again.

use serde::Serialize;

use super::PgStore;
use super::vectors::vector_text;
use crate::memory::graph::GraphStore;
use crate::memory::notes::{NoteStore, NotesError, SqliteStore};
use crate::memory::vectors::normalised;

/// What a migration copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Migrated {
    pub notes: u64,
    pub vectors: u64,
    pub entities: u64,
    pub observations: u64,
    pub relations: u64,
}

impl PgStore {
    /// Copies everything `src` holds into this (empty) store.
    pub fn copy_from(&mut self, src: &mut SqliteStore) -> Result<Migrated, NotesError> {
        let held = self.count()?;
        let graph = self.graph_counts()?;
        if held > 0 || graph.entities > 0 || graph.relations > 0 {
            return Err(NotesError::Invalid(format!(
                "{} already holds {held} notes and {} entities; migrate into a profile whose PostgreSQL memory is empty (or use `memory export` and `memory import` for the graph alone)",
                self.location, graph.entities
            )));
        }
        let notes: Vec<(i64, String, String, String, i64, i64)> = src
            .conn()
            .prepare("SELECT id, text, tags, scope, created_at, updated_at FROM notes ORDER BY id")?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let vectors: Vec<(i64, String, Vec<u8>)> = src
            .conn()
            .prepare("SELECT note, model, vec FROM note_vectors ORDER BY note")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let names = src.entity_names()?;
        let mut entities = Vec::with_capacity(names.len());
        for chunk in names.chunks(500) {
            entities.extend(src.entities(chunk)?);
        }
        let relations = src.all_relations()?;
        let pgvector = self.pgvector.is_some();
        let mut done = Migrated::default();
        self.write(move |tx| {
            let put = tx.prepare(
                "INSERT INTO notes(id, text, tags, scope, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )?;
            for (id, text, tags, scope, created, updated) in &notes {
                tx.execute(&put, &[id, text, tags, scope, created, updated])?;
                done.notes += 1;
            }
            tx.execute(
                "SELECT setval(pg_get_serial_sequence('notes', 'id'),
                               greatest((SELECT max(id) FROM notes), 1))",
                &[],
            )?;
            let put = if pgvector {
                tx.prepare(
                    "INSERT INTO note_vectors(note, model, vec, embedding)
                     VALUES ($1, $2, $3, $4::text::vector)",
                )?
            } else {
                tx.prepare("INSERT INTO note_vectors(note, model, vec) VALUES ($1, $2, $3)")?
            };
            for (note, model, blob) in &vectors {
                if pgvector {
                    let v: Vec<f32> = blob
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    let text = vector_text(&normalised(&v));
                    tx.execute(&put, &[note, model, blob, &text])?;
                } else {
                    tx.execute(&put, &[note, model, blob])?;
                }
                done.vectors += 1;
            }
            let graph = super::graph::merge(tx, &entities, &relations)?;
            done.entities = graph.entities;
            done.observations = graph.observations;
            done.relations = graph.relations;
            Ok(done)
        })
    }
}
