//! Embedding vectors for the notes, stored beside them in the memory store, so searches can
//! rank by meaning as well as by words. Vectors are computed lazily: a search first embeds the
//! notes that have none for the configured model (or whose text changed since), a bounded
//! number per call, then compares the query's vector with every stored one of the scope.
//! Nothing here talks to a model; the caller hands vectors in. Without a model configured, none
//! of this runs and search is full-text only.

use rusqlite::{OptionalExtension, params};

use super::notes::{NotesError, SqliteStore};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS note_vectors(
    note INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vec BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS notes_vec_au AFTER UPDATE OF text, tags ON notes BEGIN
    DELETE FROM note_vectors WHERE note = old.id;
END;
";

/// FNV-1a over the text and tags a vector is made from, so a vector computed from text that
/// changed while the model worked is not stored.
pub fn content_hash(text: &str, tags: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes().chain([0]).chain(tags.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// What an embedding model is given for a note: its text and its tags.
pub fn embedding_text(text: &str, tags: &str) -> String {
    if tags.is_empty() {
        text.to_owned()
    } else {
        format!("{text}\n\ntags: {tags}")
    }
}

/// A note that needs a (new) vector.
#[derive(Debug, Clone)]
pub struct Stale {
    pub id: i64,
    pub hash: i64,
    pub input: String,
}

/// What every memory store does with the notes' vectors.
pub trait VectorStore {
    /// Up to `limit` notes of the scopes with no vector for `model`, or one made from other text.
    fn stale_vectors(
        &mut self,
        model: &str,
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Stale>, NotesError>;
    /// Stores vectors (normalised) for notes; a note deleted or changed meanwhile is skipped.
    fn store_vectors(
        &mut self,
        model: &str,
        vectors: &[(Stale, Vec<f32>)],
    ) -> Result<(), NotesError>;
    /// The `limit` notes of the scopes whose vectors for `model` are closest to `query`
    /// (cosine similarity, best first).
    fn nearest(
        &mut self,
        model: &str,
        query: &[f32],
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<(i64, f32)>, NotesError>;
}

/// `v` scaled to length 1 (a zero vector stays zero).
pub(super) fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter().map(|x| x / norm).collect()
}

pub(super) fn to_blob(v: &[f32]) -> Vec<u8> {
    normalised(v).iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Keeps `best` the `limit` highest scores, best first, with this one offered.
pub(super) fn keep_best(best: &mut Vec<(i64, f32)>, limit: usize, id: i64, score: f32) {
    if best.len() < limit || best.last().is_some_and(|(_, s)| score > *s) {
        let at = best.partition_point(|(_, s)| *s >= score);
        best.insert(at, (id, score));
        best.truncate(limit);
    }
}

pub(super) fn dot(blob: &[u8], q: &[f32]) -> f32 {
    blob.chunks_exact(4)
        .zip(q)
        .map(|(b, y)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * y)
        .sum()
}

impl VectorStore for SqliteStore {
    fn stale_vectors(
        &mut self,
        model: &str,
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Stale>, NotesError> {
        let scopes = scopes.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
        // A changed note lost its vector (trigger), so missing or another model's is stale.
        let mut stmt = self.conn().prepare_cached(
            "SELECT n.id, n.text, n.tags FROM notes n
             LEFT JOIN note_vectors v ON v.note = n.id
             WHERE (v.note IS NULL OR v.model <> ?2)
               AND (?1 IS NULL OR n.scope IN (SELECT value FROM json_each(?1)))
             ORDER BY n.id DESC LIMIT ?3",
        )?;
        let out = stmt
            .query_map(params![scopes, model, limit as i64], |r| {
                let (text, tags): (String, String) = (r.get(1)?, r.get(2)?);
                Ok(Stale {
                    id: r.get(0)?,
                    hash: content_hash(&text, &tags),
                    input: embedding_text(&text, &tags),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(out)
    }

    fn store_vectors(
        &mut self,
        model: &str,
        vectors: &[(Stale, Vec<f32>)],
    ) -> Result<(), NotesError> {
        self.write(|c| {
            let mut now = c.prepare_cached("SELECT text, tags FROM notes WHERE id = ?1")?;
            let mut put = c.prepare_cached(
                "INSERT INTO note_vectors(note, model, vec) VALUES (?1, ?2, ?3)
                 ON CONFLICT(note) DO UPDATE SET model = excluded.model, vec = excluded.vec",
            )?;
            for (s, v) in vectors {
                let current: Option<(String, String)> = now
                    .query_row([s.id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if current.is_some_and(|(t, g)| content_hash(&t, &g) == s.hash) {
                    put.execute(params![s.id, model, to_blob(v)])?;
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
        let scopes = scopes.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()));
        let mut stmt = self.conn().prepare_cached(
            "SELECT v.note, v.vec FROM note_vectors v JOIN notes n ON n.id = v.note
             WHERE v.model = ?1 AND (?2 IS NULL OR n.scope IN (SELECT value FROM json_each(?2)))",
        )?;
        let mut best: Vec<(i64, f32)> = Vec::with_capacity(limit + 1);
        let mut rows = stmt.query(params![model, scopes])?;
        while let Some(r) = rows.next()? {
            let blob = r.get_ref(1)?.as_blob().unwrap_or_default();
            if blob.len() != q.len() * 4 {
                // Another dimension: made by a model of the same name that changed; it will be
                // recomputed when its note is next seen stale.
                continue;
            }
            keep_best(&mut best, limit, r.get(0)?, dot(blob, &q));
        }
        Ok(best)
    }
}

/// Reciprocal-rank fusion of two rankings (best first), words and meaning counting alike:
/// a note found both ways rises to the top, and neither list's raw scores need to be
/// comparable.
pub fn fuse(words: &[i64], meaning: &[i64], limit: usize) -> Vec<(i64, f64)> {
    let mut fused = crate::support::fusion::reciprocal_rank(&[(words, 1.0), (meaning, 1.0)], 60.0);
    fused.truncate(limit);
    fused
}

#[cfg(test)]
mod fuse_tests {
    #[test]
    fn notes_found_both_ways_rank_first() {
        let f = super::fuse(&[1, 2, 3], &[3, 4], 3);
        // 3 is in both lists; 2 and 4 tie (second in one list each) and the lower id wins.
        assert_eq!(f.iter().map(|x| x.0).collect::<Vec<_>>(), [3, 1, 2]);
    }
}
