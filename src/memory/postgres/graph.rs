//! The knowledge graph in PostgreSQL, with the SQLite store's semantics statement for
//! statement: names ordered by their bytes (`COLLATE "C"`, as SQLite orders them), unknown
//! names ignored where the official server ignores them, every write moving the counter.

use postgres::{Row, Transaction};

use super::PgStore;
use crate::memory::graph::{
    Entity, Graph, GraphCounts, GraphStore, Imported, ObservationAdd, ObservationDelete,
    ObservationsAdded, Relation,
};
use crate::memory::notes::NotesError;

fn bump(tx: &mut Transaction<'_>) -> Result<(), NotesError> {
    tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'graph'", &[])?;
    Ok(())
}

fn entity_id(tx: &mut Transaction<'_>, name: &str) -> Result<Option<i64>, NotesError> {
    Ok(tx
        .query_opt("SELECT id FROM entities WHERE name = $1", &[&name])?
        .map(|r| r.get(0)))
}

fn add_observations(
    tx: &mut Transaction<'_>,
    id: i64,
    contents: &[String],
) -> Result<Vec<String>, NotesError> {
    let stmt = tx.prepare(
        "INSERT INTO observations(entity, text) VALUES ($1, $2)
         ON CONFLICT (entity, (md5(text))) DO NOTHING",
    )?;
    let mut added = Vec::new();
    for text in contents {
        if tx.execute(&stmt, &[&id, text])? == 1 {
            added.push(text.clone());
        }
    }
    Ok(added)
}

/// Inserts an entity unless one of its name exists; its id when it was made.
fn insert_entity(tx: &mut Transaction<'_>, e: &Entity) -> Result<Option<i64>, NotesError> {
    Ok(tx
        .query_opt(
            "INSERT INTO entities(name, type) VALUES ($1, $2)
             ON CONFLICT ((md5(name))) DO NOTHING RETURNING id",
            &[&e.name, &e.entity_type],
        )?
        .map(|r| r.get(0)))
}

fn insert_relation(tx: &mut Transaction<'_>, r: &Relation) -> Result<bool, NotesError> {
    Ok(tx.execute(
        "INSERT INTO relations(src, dst, type) VALUES ($1, $2, $3)
         ON CONFLICT ((md5(src)), (md5(dst)), (md5(type))) DO NOTHING",
        &[&r.from, &r.to, &r.relation_type],
    )? == 1)
}

fn relation_of(r: &Row) -> Relation {
    Relation {
        from: r.get(0),
        to: r.get(1),
        relation_type: r.get(2),
    }
}

const RELATION_ORDER: &str = "ORDER BY src COLLATE \"C\", dst COLLATE \"C\", type COLLATE \"C\"";

impl PgStore {
    fn relations_where(
        &mut self,
        filter: &str,
        names: &[String],
    ) -> Result<Vec<Relation>, NotesError> {
        let names = names.to_vec();
        Ok(self
            .db()?
            .query(
                &format!("SELECT src, dst, type FROM relations WHERE {filter} {RELATION_ORDER}"),
                &[&names],
            )?
            .iter()
            .map(relation_of)
            .collect())
    }

    fn subgraph(&mut self, names: &[String]) -> Result<Graph, NotesError> {
        let entities = self.entities(names)?;
        let found: Vec<String> = entities.iter().map(|e| e.name.clone()).collect();
        let relations = self.relations_where("src = ANY($1) OR dst = ANY($1)", &found)?;
        Ok(Graph {
            entities,
            relations,
        })
    }

    /// A page of entity names (from `offset`, at most `limit`) among those `filter` keeps.
    fn names_page(
        &mut self,
        filter: &str,
        arg: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<String>, Option<usize>), NotesError> {
        let mut names: Vec<String> = self
            .db()?
            .query(
                &format!(
                    "SELECT e.name FROM entities e WHERE {filter}
                     ORDER BY e.name COLLATE \"C\" LIMIT $2 OFFSET $3"
                ),
                &[&arg, &(limit as i64 + 1), &(offset as i64)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let next = (names.len() > limit).then_some(offset + limit);
        names.truncate(limit);
        Ok((names, next))
    }
}

impl GraphStore for PgStore {
    fn graph_version(&mut self) -> Result<i64, NotesError> {
        Ok(self
            .db()?
            .query_one("SELECT value FROM meta WHERE key = 'graph'", &[])?
            .get(0))
    }

    fn create_entities(&mut self, entities: &[Entity]) -> Result<Vec<Entity>, NotesError> {
        self.write(|tx| {
            let mut created = Vec::new();
            for e in entities {
                if let Some(id) = insert_entity(tx, e)? {
                    let observations = add_observations(tx, id, &e.observations)?;
                    created.push(Entity {
                        observations,
                        ..e.clone()
                    });
                }
            }
            bump(tx)?;
            Ok(created)
        })
    }

    fn create_relations(&mut self, relations: &[Relation]) -> Result<Vec<Relation>, NotesError> {
        self.write(|tx| {
            let mut created = Vec::new();
            for r in relations {
                if insert_relation(tx, r)? {
                    created.push(r.clone());
                }
            }
            bump(tx)?;
            Ok(created)
        })
    }

    fn add_observations(
        &mut self,
        adds: &[ObservationAdd],
    ) -> Result<Vec<ObservationsAdded>, NotesError> {
        self.write(|tx| {
            let mut out = Vec::new();
            for a in adds {
                let Some(id) = entity_id(tx, &a.entity_name)? else {
                    return Err(NotesError::Invalid(format!(
                        "entity `{}` not found; create it with create_entities first (nothing was added)",
                        a.entity_name
                    )));
                };
                out.push(ObservationsAdded {
                    entity_name: a.entity_name.clone(),
                    added_observations: add_observations(tx, id, &a.contents)?,
                });
            }
            bump(tx)?;
            Ok(out)
        })
    }

    fn delete_entities(&mut self, names: &[String]) -> Result<usize, NotesError> {
        self.write(|tx| {
            let mut deleted = 0;
            for name in names {
                deleted += tx.execute("DELETE FROM entities WHERE name = $1", &[name])? as usize;
                tx.execute("DELETE FROM relations WHERE src = $1 OR dst = $1", &[name])?;
            }
            bump(tx)?;
            Ok(deleted)
        })
    }

    fn delete_observations(
        &mut self,
        deletions: &[ObservationDelete],
    ) -> Result<usize, NotesError> {
        self.write(|tx| {
            let mut deleted = 0;
            for d in deletions {
                let Some(id) = entity_id(tx, &d.entity_name)? else {
                    continue;
                };
                for text in &d.observations {
                    deleted += tx.execute(
                        "DELETE FROM observations WHERE entity = $1 AND md5(text) = md5($2) AND text = $2",
                        &[&id, text],
                    )? as usize;
                }
            }
            bump(tx)?;
            Ok(deleted)
        })
    }

    fn delete_relations(&mut self, relations: &[Relation]) -> Result<usize, NotesError> {
        self.write(|tx| {
            let mut deleted = 0;
            for r in relations {
                deleted += tx.execute(
                    "DELETE FROM relations WHERE src = $1 AND dst = $2 AND type = $3",
                    &[&r.from, &r.to, &r.relation_type],
                )? as usize;
            }
            bump(tx)?;
            Ok(deleted)
        })
    }

    fn graph_counts(&mut self) -> Result<GraphCounts, NotesError> {
        let row = self.db()?.query_one(
            "SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM relations),
                    (SELECT count(*) FROM observations)",
            &[],
        )?;
        Ok(GraphCounts {
            entities: row.get::<_, i64>(0) as u64,
            relations: row.get::<_, i64>(1) as u64,
            observations: row.get::<_, i64>(2) as u64,
        })
    }

    fn read_graph(
        &mut self,
        offset: usize,
        limit: usize,
    ) -> Result<(Graph, Option<usize>), NotesError> {
        let (names, next) = self.names_page("$1::text IS NOT NULL", "", offset, limit)?;
        let entities = self.entities(&names)?;
        let relations = self.relations_where("src = ANY($1)", &names)?;
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
        let (names, next) = self.names_page(
            "strpos(lower(e.name), $1) > 0 OR strpos(lower(e.type), $1) > 0
             OR EXISTS (SELECT 1 FROM observations o
                        WHERE o.entity = e.id AND strpos(lower(o.text), $1) > 0)",
            &query.to_lowercase(),
            offset,
            limit,
        )?;
        Ok((self.subgraph(&names)?, next))
    }

    fn open_nodes(&mut self, names: &[String]) -> Result<Graph, NotesError> {
        self.subgraph(names)
    }

    fn entity_names(&mut self) -> Result<Vec<String>, NotesError> {
        Ok(self
            .db()?
            .query("SELECT name FROM entities ORDER BY name COLLATE \"C\"", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn entities(&mut self, names: &[String]) -> Result<Vec<Entity>, NotesError> {
        let names = names.to_vec();
        let rows = self.db()?.query(
            "SELECT e.name, e.type, o.text FROM entities e
             LEFT JOIN observations o ON o.entity = e.id
             WHERE e.name = ANY($1)
             ORDER BY e.name COLLATE \"C\", o.id",
            &[&names],
        )?;
        let mut out: Vec<Entity> = Vec::new();
        for r in &rows {
            let name: String = r.get(0);
            if out.last().is_none_or(|e| e.name != name) {
                out.push(Entity {
                    name,
                    entity_type: r.get(1),
                    observations: Vec::new(),
                });
            }
            if let (Some(e), Some(text)) = (out.last_mut(), r.get::<_, Option<String>>(2)) {
                e.observations.push(text);
            }
        }
        Ok(out)
    }

    fn all_relations(&mut self) -> Result<Vec<Relation>, NotesError> {
        Ok(self
            .db()?
            .query(
                &format!("SELECT src, dst, type FROM relations {RELATION_ORDER}"),
                &[],
            )?
            .iter()
            .map(relation_of)
            .collect())
    }

    fn merge_graph(
        &mut self,
        entities: &[Entity],
        relations: &[Relation],
    ) -> Result<Imported, NotesError> {
        self.write(|tx| merge(tx, entities, relations))
    }
}

/// Merges entities and relations into the graph (inside the caller's transaction).
pub(super) fn merge(
    tx: &mut Transaction<'_>,
    entities: &[Entity],
    relations: &[Relation],
) -> Result<Imported, NotesError> {
    let mut done = Imported::default();
    for e in entities {
        let id = match insert_entity(tx, e)? {
            Some(id) => {
                done.entities += 1;
                id
            }
            None => entity_id(tx, &e.name)?.unwrap_or_default(),
        };
        done.observations += add_observations(tx, id, &e.observations)?.len() as u64;
    }
    for r in relations {
        done.relations += u64::from(insert_relation(tx, r)?);
    }
    bump(tx)?;
    Ok(done)
}
