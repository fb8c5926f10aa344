//! Per-profile quotas of the memory store (the rule, and the SQLite store's counters): how many notes, how many graph items (entities,
//! observations, relations) and how many bytes of their text it holds. Counters in the `meta`
//! table are kept by triggers, so checking a write costs three reads, not a scan; the check
//! runs inside the write's own `BEGIN IMMEDIATE` transaction, so two processes cannot both
//! slip under a cap. A write that would grow a counter past its cap is rolled back whole; one
//! that shrinks it (a delete) always goes through, even over a lowered cap.

use rusqlite::Connection;

use super::notes::NotesError;

/// Counters, their triggers, and their first values for a store made before them (computed
/// only when the counter is missing).
pub(super) const SCHEMA: &str = "
INSERT INTO meta(key, value) SELECT 'quota_notes', (SELECT count(*) FROM notes)
    WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'quota_notes');
INSERT INTO meta(key, value) SELECT 'quota_graph',
    (SELECT count(*) FROM entities) + (SELECT count(*) FROM observations) + (SELECT count(*) FROM relations)
    WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'quota_graph');
INSERT INTO meta(key, value) SELECT 'quota_bytes',
    (SELECT coalesce(sum(length(CAST(text AS BLOB)) + length(CAST(tags AS BLOB)) + length(CAST(scope AS BLOB))), 0) FROM notes)
    + (SELECT coalesce(sum(length(CAST(name AS BLOB)) + length(CAST(type AS BLOB))), 0) FROM entities)
    + (SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM observations)
    + (SELECT coalesce(sum(length(CAST(src AS BLOB)) + length(CAST(dst AS BLOB)) + length(CAST(type AS BLOB))), 0) FROM relations)
    WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'quota_bytes');
CREATE TRIGGER IF NOT EXISTS quota_notes_ai AFTER INSERT ON notes BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'quota_notes';
    UPDATE meta SET value = value + length(CAST(new.text AS BLOB)) + length(CAST(new.tags AS BLOB)) + length(CAST(new.scope AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_notes_ad AFTER DELETE ON notes BEGIN
    UPDATE meta SET value = value - 1 WHERE key = 'quota_notes';
    UPDATE meta SET value = value - length(CAST(old.text AS BLOB)) - length(CAST(old.tags AS BLOB)) - length(CAST(old.scope AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_notes_au AFTER UPDATE ON notes BEGIN
    UPDATE meta SET value = value
        + length(CAST(new.text AS BLOB)) + length(CAST(new.tags AS BLOB)) + length(CAST(new.scope AS BLOB))
        - length(CAST(old.text AS BLOB)) - length(CAST(old.tags AS BLOB)) - length(CAST(old.scope AS BLOB))
        WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_entities_ai AFTER INSERT ON entities BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value + length(CAST(new.name AS BLOB)) + length(CAST(new.type AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_entities_ad AFTER DELETE ON entities BEGIN
    UPDATE meta SET value = value - 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value - length(CAST(old.name AS BLOB)) - length(CAST(old.type AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_observations_ai AFTER INSERT ON observations BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value + length(CAST(new.text AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_observations_ad AFTER DELETE ON observations BEGIN
    UPDATE meta SET value = value - 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value - length(CAST(old.text AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_relations_ai AFTER INSERT ON relations BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value + length(CAST(new.src AS BLOB)) + length(CAST(new.dst AS BLOB)) + length(CAST(new.type AS BLOB)) WHERE key = 'quota_bytes';
END;
CREATE TRIGGER IF NOT EXISTS quota_relations_ad AFTER DELETE ON relations BEGIN
    UPDATE meta SET value = value - 1 WHERE key = 'quota_graph';
    UPDATE meta SET value = value - length(CAST(old.src AS BLOB)) - length(CAST(old.dst AS BLOB)) - length(CAST(old.type AS BLOB)) WHERE key = 'quota_bytes';
END;
";

/// The caps (`memory.max_notes`, `memory.max_graph_items`, `memory.max_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub notes: u64,
    pub graph_items: u64,
    pub bytes: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            notes: 100_000,
            graph_items: 200_000,
            bytes: 256 * 1024 * 1024,
        }
    }
}

/// (notes, graph items, bytes) as the counters hold them.
pub(super) fn usage(c: &Connection) -> Result<[u64; 3], NotesError> {
    let mut out = [0u64; 3];
    let mut stmt = c.prepare_cached(
        "SELECT key, value FROM meta WHERE key IN ('quota_notes', 'quota_graph', 'quota_bytes')",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        let value: i64 = row.get(1)?;
        let i = match key.as_str() {
            "quota_notes" => 0,
            "quota_graph" => 1,
            _ => 2,
        };
        out[i] = value.max(0) as u64;
    }
    Ok(out)
}

/// Refuses a write that took a counter from `before` past its cap.
pub(super) fn check(c: &Connection, before: [u64; 3], q: Quotas) -> Result<(), NotesError> {
    verdict(before, usage(c)?, q)
}

/// Refuses a write that took a counter from `before` to `after`, past its cap (every store's
/// rule: growth past a cap is refused whole, shrinking always passes).
pub(super) fn verdict(before: [u64; 3], after: [u64; 3], q: Quotas) -> Result<(), NotesError> {
    let caps = [q.notes, q.graph_items, q.bytes];
    const WHAT: [(&str, &str); 3] = [
        ("notes", "memory.max_notes"),
        (
            "graph entities, observations and relations",
            "memory.max_graph_items",
        ),
        ("bytes of stored text", "memory.max_bytes"),
    ];
    for i in 0..3 {
        if after[i] > caps[i] && after[i] > before[i] {
            let (what, key) = WHAT[i];
            return Err(NotesError::QuotaFull(format!(
                "the memory of this profile is full: this would make {} {what}, over the {} allowed ({key}); nothing was saved. Delete what is no longer needed (memory_delete, delete_entities) or ask the user to raise {key}",
                after[i], caps[i]
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::GraphStore;
    use crate::memory::graph::{Entity, Relation};
    use crate::memory::notes::{NoteStore, SqliteStore};

    fn recount(n: &SqliteStore) -> [u64; 3] {
        let c = n.conn();
        let one = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
        [
            one("SELECT count(*) FROM notes"),
            one("SELECT (SELECT count(*) FROM entities) + (SELECT count(*) FROM observations) + (SELECT count(*) FROM relations)"),
            one("SELECT (SELECT coalesce(sum(length(CAST(text AS BLOB)) + length(CAST(tags AS BLOB)) + length(CAST(scope AS BLOB))), 0) FROM notes)
                 + (SELECT coalesce(sum(length(CAST(name AS BLOB)) + length(CAST(type AS BLOB))), 0) FROM entities)
                 + (SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM observations)
                 + (SELECT coalesce(sum(length(CAST(src AS BLOB)) + length(CAST(dst AS BLOB)) + length(CAST(type AS BLOB))), 0) FROM relations)"),
        ]
    }

    #[test]
    fn caps_refuse_growth_whole_and_deletes_always_pass() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("memory.db");
        let mut n = SqliteStore::open(&db).unwrap().with_quotas(Quotas {
            notes: 2,
            graph_items: 3,
            bytes: 10_000,
        });
        let a = n.save("first ünïcode", &["t".into()], "global").unwrap();
        n.save("second", &[], "global").unwrap();
        let err = n.save("third", &[], "global").unwrap_err();
        assert!(matches!(err, NotesError::QuotaFull(_)), "{err}");
        assert!(err.to_string().contains("memory.max_notes"));
        assert_eq!(n.count().unwrap(), 2, "the refused write left nothing");
        // Three graph items fit, a fourth does not, and the whole call is rolled back.
        let e = |name: &str, obs: &[&str]| Entity {
            name: name.into(),
            entity_type: "thing".into(),
            observations: obs.iter().map(|o| (*o).into()).collect(),
        };
        n.create_entities(&[e("a", &["x"]), e("b", &[])]).unwrap();
        let err = n
            .create_relations(&[
                Relation {
                    from: "a".into(),
                    to: "b".into(),
                    relation_type: "r".into(),
                },
                Relation {
                    from: "b".into(),
                    to: "a".into(),
                    relation_type: "r".into(),
                },
            ])
            .unwrap_err();
        assert!(err.to_string().contains("memory.max_graph_items"), "{err}");
        assert_eq!(usage(n.conn()).unwrap(), recount(&n));
        // Over a lowered cap, deleting still works and updates keep the bytes right.
        let mut n = n.with_quotas(Quotas {
            notes: 1,
            graph_items: 1,
            bytes: 10,
        });
        n.update(a.id, Some("longer text than before"), None)
            .unwrap_err();
        n.delete(a.id).unwrap();
        n.delete_entities(&["a".into()]).unwrap();
        assert_eq!(usage(n.conn()).unwrap(), recount(&n));
        // A store made before the counters gets them from what it holds.
        drop(n);
        let c = Connection::open(&db).unwrap();
        c.execute("DELETE FROM meta WHERE key LIKE 'quota_%'", [])
            .unwrap();
        drop(c);
        let n = SqliteStore::open(&db).unwrap();
        assert_eq!(usage(n.conn()).unwrap(), recount(&n));
    }
}
