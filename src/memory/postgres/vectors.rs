//! Note vectors in PostgreSQL. Each vector is kept as its normalised bytes (what the SQLite
//! store keeps); with pgvector installed, also as a `vector`, and the database ranks by cosine
//! distance itself. Without pgvector, the vectors of the scope are read and compared here,
//! as the SQLite store does: correct, and slower on large memories (`doctor` says which).

use super::PgStore;
use crate::memory::notes::NotesError;
use crate::memory::vectors::{
    Stale, VectorStore, content_hash, dot, embedding_text, keep_best, normalised, to_blob,
};

/// A vector in pgvector's text form.
pub(super) fn vector_text(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("[{}]", parts.join(","))
}

impl VectorStore for PgStore {
    fn stale_vectors(
        &mut self,
        model: &str,
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Stale>, NotesError> {
        let scopes = scopes.map(<[String]>::to_vec);
        // With pgvector, a vector stored before the extension was installed has no `vector`
        // yet, so it is made again.
        let missing = if self.pgvector.is_some() {
            "v.note IS NULL OR v.model <> $2 OR v.embedding IS NULL"
        } else {
            "v.note IS NULL OR v.model <> $2"
        };
        let rows = self.db()?.query(
            &format!(
                "SELECT n.id, n.text, n.tags FROM notes n
                 LEFT JOIN note_vectors v ON v.note = n.id
                 WHERE ({missing}) AND ($1::text[] IS NULL OR n.scope = ANY($1))
                 ORDER BY n.id DESC LIMIT $3"
            ),
            &[&scopes, &model, &(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let (text, tags): (String, String) = (r.get(1), r.get(2));
                Stale {
                    id: r.get(0),
                    hash: content_hash(&text, &tags),
                    input: embedding_text(&text, &tags),
                }
            })
            .collect())
    }

    fn store_vectors(
        &mut self,
        model: &str,
        vectors: &[(Stale, Vec<f32>)],
    ) -> Result<(), NotesError> {
        let pgvector = self.pgvector.is_some();
        self.write(|tx| {
            let now = tx.prepare("SELECT text, tags FROM notes WHERE id = $1 FOR UPDATE")?;
            let put = if pgvector {
                tx.prepare(
                    "INSERT INTO note_vectors(note, model, vec, embedding)
                     VALUES ($1, $2, $3, $4::text::vector)
                     ON CONFLICT (note) DO UPDATE SET model = excluded.model, vec = excluded.vec,
                         embedding = excluded.embedding",
                )?
            } else {
                tx.prepare(
                    "INSERT INTO note_vectors(note, model, vec) VALUES ($1, $2, $3)
                     ON CONFLICT (note) DO UPDATE SET model = excluded.model, vec = excluded.vec",
                )?
            };
            for (s, v) in vectors {
                let current = tx
                    .query_opt(&now, &[&s.id])?
                    .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)));
                if current.is_some_and(|(t, g)| content_hash(&t, &g) == s.hash) {
                    let blob = to_blob(v);
                    if pgvector {
                        let text = vector_text(&normalised(v));
                        tx.execute(&put, &[&s.id, &model, &blob, &text])?;
                    } else {
                        tx.execute(&put, &[&s.id, &model, &blob])?;
                    }
                }
            }
            Ok(())
        })
    }

    fn nearest(
        &mut self,
        model: &str,
        query: &[f32],
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, NotesError> {
        let q = normalised(query);
        let scopes = scopes.map(<[String]>::to_vec);
        if self.pgvector.is_some() {
            // Vectors of another length (a model of the same name that changed) are left out,
            // as in the SQLite store; pgvector would refuse to compare them.
            let rows = self.db()?.query(
                "SELECT v.note, (1 - (v.embedding <=> $2::text::vector))::float4 AS score
                 FROM note_vectors v JOIN notes n ON n.id = v.note
                 WHERE v.model = $1 AND v.embedding IS NOT NULL
                   AND vector_dims(v.embedding) = $3
                   AND ($4::text[] IS NULL OR n.scope = ANY($4))
                 ORDER BY v.embedding <=> $2::text::vector, v.note LIMIT $5",
                &[
                    &model,
                    &vector_text(&q),
                    &(q.len() as i32),
                    &scopes,
                    &(limit as i64),
                ],
            )?;
            return Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect());
        }
        let rows = self.db()?.query(
            "SELECT v.note, v.vec FROM note_vectors v JOIN notes n ON n.id = v.note
             WHERE v.model = $1 AND octet_length(v.vec) = $2
               AND ($3::text[] IS NULL OR n.scope = ANY($3))",
            &[&model, &(q.len() as i32 * 4), &scopes],
        )?;
        let mut best: Vec<(i64, f32)> = Vec::with_capacity(limit + 1);
        for r in &rows {
            keep_best(&mut best, limit, r.get(0), dot(r.get::<_, &[u8]>(1), &q));
        }
        Ok(best)
    }
}
