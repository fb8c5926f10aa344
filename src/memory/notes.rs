//! Notes the agent keeps across sessions: the note types, what every store does with them
//! ([`NoteStore`]), and the SQLite store ([`SqliteStore`]): one database per profile, in WAL
//! mode, so several switchboard processes (several agents) can write at once without losing a
//! note.
//! Each write is one short `BEGIN IMMEDIATE` transaction; a writer that finds the database busy
//! waits (`busy_timeout`) instead of failing. Full-text search is FTS5 with BM25 ranking and
//! snippets, kept in step with the notes by triggers.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// How long a writer waits for another process's write to finish.
const BUSY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum NotesError {
    #[error("no note {0}; memory_list shows the notes")]
    NotFound(i64),
    /// A call that cannot be done as asked, worded for the model.
    #[error("{0}")]
    Invalid(String),
    #[error("the memory database failed: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the PostgreSQL memory store failed: {}", crate::memory::postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    /// A quota of the profile is full (`memory::quota`).
    #[error("{0}")]
    QuotaFull(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Note {
    pub id: i64,
    pub text: String,
    pub tags: Vec<String>,
    /// `global`, or `project:PATH` for notes about one project.
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    pub note: Note,
    /// Relevance, higher is better: BM25 for a word search, the fused rank score for a hybrid one.
    pub score: f64,
    /// The matching passage, matches in [brackets].
    pub snippet: String,
}

/// What every memory store does with notes. Writes are atomic and checked against the
/// profile's quotas; reads see every process's committed writes.
pub trait NoteStore {
    fn save(&mut self, text: &str, tags: &[String], scope: &str) -> Result<Note, NotesError>;
    fn get(&mut self, id: i64) -> Result<Note, NotesError>;
    /// Changes the text and/or the tags (`None`: kept).
    fn update(
        &mut self,
        id: i64,
        text: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<Note, NotesError>;
    fn delete(&mut self, id: i64) -> Result<(), NotesError>;
    /// Notes newest first, optionally of some scopes and one tag; `limit` of them from
    /// `offset`, and the offset of the next page when there is one.
    fn list(
        &mut self,
        scopes: Option<&[String]>,
        tag: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Note>, Option<usize>), NotesError>;
    /// The notes that best match `text` (BM25 over text and tags), optionally in some scopes.
    fn search(
        &mut self,
        text: &str,
        scopes: Option<&[String]>,
        limit: usize,
    ) -> Result<Vec<Hit>, NotesError>;
    fn count(&mut self) -> Result<usize, NotesError>;
}

pub struct SqliteStore {
    conn: Connection,
    path: std::path::PathBuf,
    quotas: super::quota::Quotas,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notes(
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_scope ON notes(scope, id);
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(
    text, tags, content='notes', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS notes_ai AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, text, tags) VALUES (new.id, new.text, new.tags);
END;
CREATE TRIGGER IF NOT EXISTS notes_ad AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, text, tags) VALUES ('delete', old.id, old.text, old.tags);
END;
CREATE TRIGGER IF NOT EXISTS notes_au AFTER UPDATE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, text, tags) VALUES ('delete', old.id, old.text, old.tags);
    INSERT INTO notes_fts(rowid, text, tags) VALUES (new.id, new.text, new.tags);
END;
";

fn now() -> i64 {
    crate::support::time::unix_secs(std::time::SystemTime::now())
}

/// Tags stored as one space-separated field (searchable by FTS), each lowercased and without
/// spaces.
pub(super) fn tags_field(tags: &[String]) -> String {
    let mut t: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_lowercase().replace(char::is_whitespace, "-"))
        .filter(|t| !t.is_empty())
        .collect();
    t.sort();
    t.dedup();
    t.join(" ")
}

/// Scopes as the JSON array the queries read with `json_each`.
fn scopes_json(scopes: Option<&[String]>) -> Option<String> {
    scopes.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()))
}

fn note_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    let tags: String = row.get(2)?;
    Ok(Note {
        id: row.get(0)?,
        text: row.get(1)?,
        tags: tags.split_whitespace().map(str::to_owned).collect(),
        scope: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

/// The words of a free-text query, as every store searches for them: runs of letters, digits,
/// `_` and `-`, with no query syntax of any engine obeyed.
pub(super) fn query_words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Free text as an FTS5 query: every word quoted (so no FTS syntax from the text is obeyed),
/// any of them may match, and BM25 ranks notes matching more of them higher.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = query_words(text)
        .into_iter()
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

impl SqliteStore {
    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn open(path: &Path) -> Result<Self, NotesError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} {} {} {} COMMIT;",
            super::graph::SCHEMA,
            super::vectors::SCHEMA,
            super::quota::SCHEMA
        ))?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            quotas: super::quota::Quotas::default(),
        })
    }

    /// The store with these quotas (the defaults until set).
    pub fn with_quotas(mut self, quotas: super::quota::Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: it takes the write lock at once, so two
    /// processes never both read and then collide on upgrading to a write.
    pub(super) fn write<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, NotesError>,
    ) -> Result<T, NotesError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let before = super::quota::usage(&tx)?;
        let out = f(&tx)?;
        super::quota::check(&tx, before, self.quotas)?;
        tx.commit()?;
        Ok(out)
    }
}

impl super::Memory for SqliteStore {
    fn describe(&self) -> super::StoreInfo {
        super::StoreInfo {
            engine: "sqlite",
            location: self.path.display().to_string(),
            vectors: "in process",
        }
    }
}

impl NoteStore for SqliteStore {
    fn save(&mut self, text: &str, tags: &[String], scope: &str) -> Result<Note, NotesError> {
        let t = now();
        let tags = tags_field(tags);
        self.write(|c| {
            c.execute(
                "INSERT INTO notes(text, tags, scope, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![text, tags, scope, t],
            )?;
            let id = c.last_insert_rowid();
            Ok(Note {
                id,
                text: text.to_owned(),
                tags: tags.split_whitespace().map(str::to_owned).collect(),
                scope: scope.to_owned(),
                created_at: t,
                updated_at: t,
            })
        })
    }

    fn get(&mut self, id: i64) -> Result<Note, NotesError> {
        self.conn
            .query_row(
                "SELECT id, text, tags, scope, created_at, updated_at FROM notes WHERE id = ?1",
                [id],
                note_of,
            )
            .optional()?
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
        self.write(|c| {
            let n = c.execute(
                "UPDATE notes SET text = coalesce(?2, text), tags = coalesce(?3, tags), updated_at = ?4 WHERE id = ?1",
                params![id, text, tags, t],
            )?;
            if n == 0 {
                return Err(NotesError::NotFound(id));
            }
            Ok(())
        })?;
        self.get(id)
    }

    fn delete(&mut self, id: i64) -> Result<(), NotesError> {
        self.write(
            |c| match c.execute("DELETE FROM notes WHERE id = ?1", [id])? {
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
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, text, tags, scope, created_at, updated_at FROM notes
             WHERE (?1 IS NULL OR scope IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR ' ' || tags || ' ' LIKE ?2)
             ORDER BY id DESC LIMIT ?3 OFFSET ?4",
        )?;
        let scopes = scopes_json(scopes);
        let mut notes: Vec<Note> = stmt
            .query_map(
                params![scopes, tag, limit as i64 + 1, offset as i64],
                note_of,
            )?
            .collect::<Result<_, _>>()?;
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
        let Some(q) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT n.id, n.text, n.tags, n.scope, n.created_at, n.updated_at,
                    bm25(notes_fts) AS rank,
                    snippet(notes_fts, 0, '[', ']', '…', 16)
             FROM notes_fts JOIN notes n ON n.id = notes_fts.rowid
             WHERE notes_fts MATCH ?1
               AND (?2 IS NULL OR n.scope IN (SELECT value FROM json_each(?2)))
             ORDER BY rank LIMIT ?3",
        )?;
        let hits = stmt
            .query_map(params![q, scopes_json(scopes), limit as i64], |row| {
                Ok(Hit {
                    note: note_of(row)?,
                    // SQLite's bm25() is lower-is-better; report higher-is-better.
                    score: -row.get::<_, f64>(6)?,
                    snippet: row.get(7)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(hits)
    }

    fn count(&mut self) -> Result<usize, NotesError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM notes", [], |r| r.get::<_, i64>(0))?
            as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer half of the test below, run in its own process (this test binary again).
    #[test]
    #[ignore = "run by concurrent_processes_lose_nothing"]
    fn writer_process() {
        let Ok(path) = std::env::var("SWITCHBOARD_NOTES_DB") else {
            return;
        };
        let w = std::env::var("SWITCHBOARD_NOTES_WRITER").unwrap();
        let mut n = SqliteStore::open(Path::new(&path)).unwrap();
        for i in 0..500 {
            n.save(&format!("process {w} note {i}"), &[], "global")
                .unwrap();
        }
    }

    /// Four processes saving 500 notes each at the same time: all 2000 are there afterwards.
    #[test]
    fn concurrent_processes_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.db");
        SqliteStore::open(&path).unwrap();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4)
            .map(|w| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "memory::notes::tests::writer_process",
                        "--ignored",
                    ])
                    .env("SWITCHBOARD_NOTES_DB", &path)
                    .env("SWITCHBOARD_NOTES_WRITER", w.to_string())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let mut n = SqliteStore::open(&path).unwrap();
        assert_eq!(n.count().unwrap(), 2000);
        for w in 0..4 {
            let (mine, _) = n.list(None, None, 0, 5000).unwrap();
            let count = mine
                .iter()
                .filter(|x| x.text.starts_with(&format!("process {w} ")))
                .count();
            assert_eq!(count, 500, "writer {w}");
        }
    }

    /// Writers on separate connections (as separate processes have) at the same time: every
    /// note arrives.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memory.db");
        SqliteStore::open(&path).unwrap();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut n = SqliteStore::open(&path).unwrap();
                    for i in 0..250 {
                        n.save(&format!("writer {w} note {i}"), &[], "global")
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let mut n = SqliteStore::open(&path).unwrap();
        assert_eq!(n.count().unwrap(), 1000);
        assert_eq!(n.search("writer 3", None, 2000).unwrap().len(), 1000);
    }
}
