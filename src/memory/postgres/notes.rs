//! Notes in PostgreSQL. Search is PostgreSQL's own text search (the `simple` configuration,
//! no stemming, as SQLite's tokenizer) ranked like BM25: each query word weighs by its
//! inverse document frequency (counted up to [`DF_CAP`] notes, so a common word costs a
//! bounded index scan), times its `ts_rank` in the note, normalised by the note's length.

use postgres::Row;

use super::PgStore;
use crate::memory::notes::{Hit, Note, NoteStore, NotesError, query_words, tags_field};

/// Document frequencies are counted up to this many notes; a word in more is simply common.
const DF_CAP: i64 = 1000;

const COLUMNS: &str = "id, text, tags, scope, created_at, updated_at";

fn now() -> i64 {
    crate::support::time::unix_secs(std::time::SystemTime::now())
}

fn note_of(row: &Row) -> Note {
    let tags: String = row.get(2);
    Note {
        id: row.get(0),
        text: row.get(1),
        tags: tags.split_whitespace().map(str::to_owned).collect(),
        scope: row.get(3),
        created_at: row.get(4),
        updated_at: row.get(5),
    }
}

/// A word as a `tsquery` operand: quoted, so nothing in it is query syntax.
fn lexeme(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// BM25's inverse document frequency.
fn idf(total: i64, df: i64) -> f64 {
    let (n, df) = (total.max(df) as f64, df as f64);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

impl NoteStore for PgStore {
    fn save(&mut self, text: &str, tags: &[String], scope: &str) -> Result<Note, NotesError> {
        let t = now();
        let tags = tags_field(tags);
        self.write(|tx| {
            let row = tx.query_one(
                &format!(
                    "INSERT INTO notes(text, tags, scope, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $4) RETURNING {COLUMNS}"
                ),
                &[&text, &tags, &scope, &t],
            )?;
            Ok(note_of(&row))
        })
    }

    fn get(&mut self, id: i64) -> Result<Note, NotesError> {
        self.db()?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM notes WHERE id = $1"),
                &[&id],
            )?
            .map(|r| note_of(&r))
            .ok_or(NotesError::NotFound(id))
    }

    fn update(
        &mut self,
        id: i64,
        text: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<Note, NotesError> {
        let t = now();
        let tags = tags.map(tags_field);
        self.write(|tx| {
            tx.query_opt(
                &format!(
                    "UPDATE notes SET text = coalesce($2, text), tags = coalesce($3, tags), updated_at = $4
                     WHERE id = $1 RETURNING {COLUMNS}"
                ),
                &[&id, &text, &tags, &t],
            )?
            .map(|r| note_of(&r))
            .ok_or(NotesError::NotFound(id))
        })
    }

    fn delete(&mut self, id: i64) -> Result<(), NotesError> {
        self.write(
            |tx| match tx.execute("DELETE FROM notes WHERE id = $1", &[&id])? {
                0 => Err(NotesError::NotFound(id)),
                _ => Ok(()),
            },
        )
    }

    fn list(
        &mut self,
        scopes: Option<&[String]>,
        tag: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Note>, Option<usize>), NotesError> {
        let tag = tag.map(|t| format!("% {} %", t.trim().to_lowercase()));
        let scopes = scopes.map(<[String]>::to_vec);
        let rows = self.db()?.query(
            &format!(
                "SELECT {COLUMNS} FROM notes
                 WHERE ($1::text[] IS NULL OR scope = ANY($1))
                   AND ($2::text IS NULL OR ' ' || tags || ' ' LIKE $2)
                 ORDER BY id DESC LIMIT $3 OFFSET $4"
            ),
            &[&scopes, &tag, &(limit as i64 + 1), &(offset as i64)],
        )?;
        let mut notes: Vec<Note> = rows.iter().map(note_of).collect();
        let next = (notes.len() > limit).then(|| offset + limit);
        notes.truncate(limit);
        Ok((notes, next))
    }

    fn search(
        &mut self,
        text: &str,
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Hit>, NotesError> {
        let mut words: Vec<String> = query_words(text).into_iter().map(lexeme).collect();
        words.sort();
        words.dedup();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let any = words.join(" | ");
        let scopes = scopes.map(<[String]>::to_vec);
        // A word the `simple` configuration makes nothing of (none, today) matches nothing.
        let stats = self.db()?.query(
            "SELECT (SELECT value FROM meta WHERE key = 'quota_notes'),
                    (SELECT count(*) FROM (SELECT 1 FROM notes
                        WHERE tsv @@ to_tsquery('simple', w) LIMIT $2) s)
             FROM unnest($1::text[]) AS u(w)",
            &[&words, &DF_CAP],
        )?;
        let idfs: Vec<f64> = stats
            .iter()
            .map(|r| idf(r.get::<_, i64>(0), r.get::<_, i64>(1)))
            .collect();
        let rows = self.db()?.query(
            &format!(
                "WITH q AS MATERIALIZED (
                    SELECT to_tsquery('simple', w) AS tq, idf
                    FROM unnest($1::text[], $2::float8[]) AS u(w, idf))
                 SELECT {COLUMNS}, score,
                        ts_headline('simple', text, to_tsquery('simple', $3),
                            'StartSel=[, StopSel=], MaxWords=16, MinWords=6, ShortWord=0, FragmentDelimiter=…, MaxFragments=1')
                 FROM (
                    SELECT n.*, (SELECT sum(q.idf * ts_rank(n.tsv, q.tq, 1)) FROM q)::float8 AS score
                    FROM notes n
                    WHERE n.tsv @@ to_tsquery('simple', $3)
                      AND ($4::text[] IS NULL OR n.scope = ANY($4))
                    ORDER BY score DESC, n.id DESC LIMIT $5
                 ) best
                 ORDER BY score DESC, id DESC"
            ),
            &[&words, &idfs, &any, &scopes, &(limit as i64)],
        )?;
        Ok(rows
            .iter()
            .map(|r| Hit {
                note: note_of(r),
                score: r.get::<_, f64>(6),
                snippet: r.get(7),
            })
            .collect())
    }

    fn count(&mut self) -> Result<usize, NotesError> {
        let n: i64 = self
            .db()?
            .query_one("SELECT count(*) FROM notes", &[])?
            .get(0);
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_lexemes_and_rare_words_weigh_more() {
        assert_eq!(lexeme("it's"), "'it''s'");
        assert_eq!(lexeme("a\\b"), "'a\\\\b'");
        assert!(idf(1000, 1) > idf(1000, 500));
        assert!(
            idf(10, 10) > 0.0,
            "a word in every note still counts a little"
        );
    }
}
