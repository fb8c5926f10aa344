//! The knowledge graph, with the official memory server's semantics (entities with a type and
//! observations, directed typed relations between entity names): its types, what every store
//! does with it ([`GraphStore`]) and the SQLite store's side of it. It is kept in the profile's
//! memory store instead of a JSONL file rewritten on every change, which is what
//! lost writes there when two agents saved at once. Relations refer to entity names, as in the
//! official format, so a relation may point at a name with no entity yet (imports keep them).
//! Every write bumps a version counter, which is how subscriptions to `memory://graph` learn
//! of changes made by any process.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::notes::{NotesError, SqliteStore};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entities(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS observations(
    id INTEGER PRIMARY KEY,
    entity INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    UNIQUE(entity, text)
);
CREATE TABLE IF NOT EXISTS relations(
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY(src, dst, type)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relations_dst ON relations(dst);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('graph', 0);
";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    pub name: String,
    pub entity_type: String,
    pub observations: Vec<String>,
}

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Relation {
    pub from: String,
    pub to: String,
    pub relation_type: String,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObservationAdd {
    pub entity_name: String,
    pub contents: Vec<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservationsAdded {
    pub entity_name: String,
    pub added_observations: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObservationDelete {
    pub entity_name: String,
    pub observations: Vec<String>,
}

/// Entities and the relations touching them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Graph {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

/// How much a graph holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct GraphCounts {
    pub entities: u64,
    pub relations: u64,
    pub observations: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub entities: u64,
    pub observations: u64,
    pub relations: u64,
}

/// What every memory store does with the knowledge graph. Each write is one transaction and
/// moves the graph's change counter.
pub trait GraphStore {
    /// The graph's change counter (any process's writes move it).
    fn graph_version(&mut self) -> Result<i64, NotesError>;
    /// Creates the entities whose names are new; returns those created.
    fn create_entities(&mut self, entities: &[Entity]) -> Result<Vec<Entity>, NotesError>;
    /// Creates the relations not already present; returns those created.
    fn create_relations(&mut self, relations: &[Relation]) -> Result<Vec<Relation>, NotesError>;
    /// Adds the observations each entity does not have yet. An unknown entity fails the whole
    /// call (nothing is added).
    fn add_observations(
        &mut self,
        adds: &[ObservationAdd],
    ) -> Result<Vec<ObservationsAdded>, NotesError>;
    /// Deletes the entities and every relation from or to them; unknown names are ignored.
    /// Returns how many entities went.
    fn delete_entities(&mut self, names: &[String]) -> Result<usize, NotesError>;
    /// Removes the given observations; unknown entities and observations are ignored.
    fn delete_observations(&mut self, deletions: &[ObservationDelete])
    -> Result<usize, NotesError>;
    fn delete_relations(&mut self, relations: &[Relation]) -> Result<usize, NotesError>;
    fn graph_counts(&mut self) -> Result<GraphCounts, NotesError>;
    /// Entities by name from `offset` (at most `limit`) with the relations that start at one of
    /// them, and the offset of the next page.
    fn read_graph(
        &mut self,
        offset: usize,
        limit: usize,
    ) -> Result<(Graph, Option<usize>), NotesError>;
    /// Entities whose name, type or an observation contains `query` (any case), by name, with
    /// the relations touching them; at most `limit` entities from `offset`.
    fn search_nodes(
        &mut self,
        query: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Graph, Option<usize>), NotesError>;
    /// The named entities (unknown names are left out) and the relations touching them.
    fn open_nodes(&mut self, names: &[String]) -> Result<Graph, NotesError>;
    /// Every entity name, in order.
    fn entity_names(&mut self) -> Result<Vec<String>, NotesError>;
    /// The named entities with their observations (in the order they were added), by name.
    fn entities(&mut self, names: &[String]) -> Result<Vec<Entity>, NotesError>;
    /// Every relation, ordered by from, to and type.
    fn all_relations(&mut self) -> Result<Vec<Relation>, NotesError>;
    /// Merges entities (new observations added to existing ones of the same name) and
    /// relations, all in one transaction.
    fn merge_graph(
        &mut self,
        entities: &[Entity],
        relations: &[Relation],
    ) -> Result<Imported, NotesError>;

    /// Reads the official memory server's JSONL file into the graph ([`Self::merge_graph`]).
    fn import_jsonl(&mut self, text: &str) -> Result<Imported, NotesError> {
        let (entities, relations) = parse_jsonl(text)?;
        self.merge_graph(&entities, &relations)
    }

    /// The whole graph as the official server's JSONL: entities by name, then relations.
    fn export_jsonl(&mut self, out: &mut dyn std::io::Write) -> Result<GraphCounts, NotesError> {
        let names = self.entity_names()?;
        let io = |e: std::io::Error| NotesError::Invalid(format!("writing the export failed: {e}"));
        let mut counts = GraphCounts {
            entities: 0,
            relations: 0,
            observations: 0,
        };
        for chunk in names.chunks(500) {
            for e in self.entities(chunk)? {
                counts.entities += 1;
                counts.observations += e.observations.len() as u64;
                let line = serde_json::json!({"type": "entity", "name": e.name, "entityType": e.entity_type, "observations": e.observations});
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        for r in self.all_relations()? {
            counts.relations += 1;
            let line = serde_json::json!({"type": "relation", "from": r.from, "to": r.to, "relationType": r.relation_type});
            writeln!(out, "{line}").map_err(io)?;
        }
        Ok(counts)
    }
}

/// The entities and relations of the official memory server's JSONL file.
pub fn parse_jsonl(text: &str) -> Result<(Vec<Entity>, Vec<Relation>), NotesError> {
    let mut entities = Vec::new();
    let mut relations = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| NotesError::Invalid(format!("line {}: {why}", i + 1));
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        match v.get("type").and_then(|t| t.as_str()) {
            Some("entity") => {
                let e = serde_json::from_value::<EntityLine>(v)
                    .map_err(|e| bad(format!("not an entity: {e}")))?;
                entities.push(Entity {
                    name: e.name,
                    entity_type: e.entity_type,
                    observations: e.observations,
                });
            }
            Some("relation") => {
                let r = serde_json::from_value::<RelationLine>(v)
                    .map_err(|e| bad(format!("not a relation: {e}")))?;
                relations.push(Relation {
                    from: r.from,
                    to: r.to,
                    relation_type: r.relation_type,
                });
            }
            _ => return Err(bad("`type` is neither \"entity\" nor \"relation\"".into())),
        }
    }
    Ok((entities, relations))
}

fn bump(c: &Connection) -> rusqlite::Result<()> {
    c.execute("UPDATE meta SET value = value + 1 WHERE key = 'graph'", [])?;
    Ok(())
}

fn entity_id(c: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    c.query_row("SELECT id FROM entities WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()
}

fn add_observations(c: &Connection, id: i64, contents: &[String]) -> rusqlite::Result<Vec<String>> {
    let mut added = Vec::new();
    let mut stmt =
        c.prepare_cached("INSERT OR IGNORE INTO observations(entity, text) VALUES (?1, ?2)")?;
    for text in contents {
        if stmt.execute(params![id, text])? == 1 {
            added.push(text.clone());
        }
    }
    Ok(added)
}

impl SqliteStore {
    fn subgraph(&mut self, names: &[String]) -> Result<Graph, NotesError> {
        let entities = self.entities(names)?;
        let found: Vec<String> = entities.iter().map(|e| e.name.clone()).collect();
        let json = serde_json::to_string(&found).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn().prepare_cached(
            "SELECT src, dst, type FROM relations
             WHERE src IN (SELECT value FROM json_each(?1)) OR dst IN (SELECT value FROM json_each(?1))
             ORDER BY src, dst, type",
        )?;
        let relations = stmt
            .query_map([json], relation_of)?
            .collect::<Result<_, _>>()?;
        Ok(Graph {
            entities,
            relations,
        })
    }

    fn relations_from(&mut self, names: &[String]) -> Result<Vec<Relation>, NotesError> {
        let json = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn().prepare_cached(
            "SELECT src, dst, type FROM relations
             WHERE src IN (SELECT value FROM json_each(?1)) ORDER BY src, dst, type",
        )?;
        Ok(stmt
            .query_map([json], relation_of)?
            .collect::<Result<_, _>>()?)
    }
}

impl GraphStore for SqliteStore {
    fn graph_version(&mut self) -> Result<i64, NotesError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'graph'", [], |r| {
                r.get(0)
            })?)
    }

    fn create_entities(&mut self, entities: &[Entity]) -> Result<Vec<Entity>, NotesError> {
        self.write(|c| {
            let mut created = Vec::new();
            for e in entities {
                let n = c.execute(
                    "INSERT OR IGNORE INTO entities(name, type) VALUES (?1, ?2)",
                    params![e.name, e.entity_type],
                )?;
                if n == 1 {
                    let id = c.last_insert_rowid();
                    let observations = add_observations(c, id, &e.observations)?;
                    created.push(Entity {
                        observations,
                        ..e.clone()
                    });
                }
            }
            bump(c)?;
            Ok(created)
        })
    }

    fn create_relations(&mut self, relations: &[Relation]) -> Result<Vec<Relation>, NotesError> {
        self.write(|c| {
            let mut created = Vec::new();
            let mut stmt = c.prepare_cached(
                "INSERT OR IGNORE INTO relations(src, dst, type) VALUES (?1, ?2, ?3)",
            )?;
            for r in relations {
                if stmt.execute(params![r.from, r.to, r.relation_type])? == 1 {
                    created.push(r.clone());
                }
            }
            drop(stmt);
            bump(c)?;
            Ok(created)
        })
    }

    fn add_observations(
        &mut self,
        adds: &[ObservationAdd],
    ) -> Result<Vec<ObservationsAdded>, NotesError> {
        self.write(|c| {
            let mut out = Vec::new();
            for a in adds {
                let Some(id) = entity_id(c, &a.entity_name)? else {
                    return Err(NotesError::Invalid(format!(
                        "entity `{}` not found; create it with create_entities first (nothing was added)",
                        a.entity_name
                    )));
                };
                out.push(ObservationsAdded {
                    entity_name: a.entity_name.clone(),
                    added_observations: add_observations(c, id, &a.contents)?,
                });
            }
            bump(c)?;
            Ok(out)
        })
    }

    fn delete_entities(&mut self, names: &[String]) -> Result<usize, NotesError> {
        self.write(|c| {
            let mut deleted = 0;
            for name in names {
                deleted += c.execute("DELETE FROM entities WHERE name = ?1", [name])?;
                c.execute("DELETE FROM relations WHERE src = ?1 OR dst = ?1", [name])?;
            }
            bump(c)?;
            Ok(deleted)
        })
    }

    fn delete_observations(
        &mut self,
        deletions: &[ObservationDelete],
    ) -> Result<usize, NotesError> {
        self.write(|c| {
            let mut deleted = 0;
            for d in deletions {
                let Some(id) = entity_id(c, &d.entity_name)? else {
                    continue;
                };
                for text in &d.observations {
                    deleted += c.execute(
                        "DELETE FROM observations WHERE entity = ?1 AND text = ?2",
                        params![id, text],
                    )?;
                }
            }
            bump(c)?;
            Ok(deleted)
        })
    }

    fn delete_relations(&mut self, relations: &[Relation]) -> Result<usize, NotesError> {
        self.write(|c| {
            let mut deleted = 0;
            for r in relations {
                deleted += c.execute(
                    "DELETE FROM relations WHERE src = ?1 AND dst = ?2 AND type = ?3",
                    params![r.from, r.to, r.relation_type],
                )?;
            }
            bump(c)?;
            Ok(deleted)
        })
    }

    fn graph_counts(&mut self) -> Result<GraphCounts, NotesError> {
        let c = self.conn();
        let n = |sql: &str| {
            c.query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|v| v as u64)
        };
        Ok(GraphCounts {
            entities: n("SELECT count(*) FROM entities")?,
            relations: n("SELECT count(*) FROM relations")?,
            observations: n("SELECT count(*) FROM observations")?,
        })
    }

    fn read_graph(
        &mut self,
        offset: usize,
        limit: usize,
    ) -> Result<(Graph, Option<usize>), NotesError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT name FROM entities ORDER BY name LIMIT ?1 OFFSET ?2")?;
        let mut names: Vec<String> = stmt
            .query_map(params![limit as i64 + 1, offset as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        let next = (names.len() > limit).then_some(offset + limit);
        names.truncate(limit);
        let entities = self.entities(&names)?;
        let relations = self.relations_from(&names)?;
        Ok((
            Graph {
                entities,
                relations,
            },
            next,
        ))
    }

    fn search_nodes(
        &mut self,
        query: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Graph, Option<usize>), NotesError> {
        let pattern = format!(
            "%{}%",
            query
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = self.conn().prepare_cached(
            "SELECT e.name FROM entities e
             WHERE lower(e.name) LIKE ?1 ESCAPE '\\' OR lower(e.type) LIKE ?1 ESCAPE '\\'
                OR EXISTS (SELECT 1 FROM observations o
                           WHERE o.entity = e.id AND lower(o.text) LIKE ?1 ESCAPE '\\')
             ORDER BY e.name LIMIT ?2 OFFSET ?3",
        )?;
        let mut names: Vec<String> = stmt
            .query_map(params![pattern, limit as i64 + 1, offset as i64], |r| {
                r.get(0)
            })?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        let next = (names.len() > limit).then_some(offset + limit);
        names.truncate(limit);
        Ok((self.subgraph(&names)?, next))
    }

    fn open_nodes(&mut self, names: &[String]) -> Result<Graph, NotesError> {
        self.subgraph(names)
    }

    fn entities(&mut self, names: &[String]) -> Result<Vec<Entity>, NotesError> {
        let json = serde_json::to_string(names).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn().prepare_cached(
            "SELECT e.name, e.type, o.text FROM entities e
             LEFT JOIN observations o ON o.entity = e.id
             WHERE e.name IN (SELECT value FROM json_each(?1))
             ORDER BY e.name, o.id",
        )?;
        let mut out: Vec<Entity> = Vec::new();
        let mut rows = stmt.query([json])?;
        while let Some(r) = rows.next()? {
            let name: String = r.get(0)?;
            if out.last().is_none_or(|e| e.name != name) {
                out.push(Entity {
                    name,
                    entity_type: r.get(1)?,
                    observations: Vec::new(),
                });
            }
            if let (Some(e), Some(text)) = (out.last_mut(), r.get::<_, Option<String>>(2)?) {
                e.observations.push(text);
            }
        }
        Ok(out)
    }

    fn merge_graph(
        &mut self,
        entities: &[Entity],
        relations: &[Relation],
    ) -> Result<Imported, NotesError> {
        self.write(|c| {
            let mut done = Imported::default();
            for e in entities {
                let n = c.execute(
                    "INSERT OR IGNORE INTO entities(name, type) VALUES (?1, ?2)",
                    params![e.name, e.entity_type],
                )?;
                done.entities += n as u64;
                let id = entity_id(c, &e.name)?.unwrap_or_default();
                done.observations += add_observations(c, id, &e.observations)?.len() as u64;
            }
            for r in relations {
                done.relations += c.execute(
                    "INSERT OR IGNORE INTO relations(src, dst, type) VALUES (?1, ?2, ?3)",
                    params![r.from, r.to, r.relation_type],
                )? as u64;
            }
            bump(c)?;
            Ok(done)
        })
    }

    fn entity_names(&mut self) -> Result<Vec<String>, NotesError> {
        Ok(self
            .conn()
            .prepare("SELECT name FROM entities ORDER BY name")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    fn all_relations(&mut self) -> Result<Vec<Relation>, NotesError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT src, dst, type FROM relations ORDER BY src, dst, type")?;
        Ok(stmt.query_map([], relation_of)?.collect::<Result<_, _>>()?)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityLine {
    name: String,
    entity_type: String,
    #[serde(default)]
    observations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RelationLine {
    from: String,
    to: String,
    relation_type: String,
}

fn relation_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Relation> {
    Ok(Relation {
        from: r.get(0)?,
        to: r.get(1)?,
        relation_type: r.get(2)?,
    })
}
