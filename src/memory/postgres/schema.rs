//! The PostgreSQL memory schema: created and migrated by switchboard, one version at a time,
//! recorded in the schema's own `meta` table. Unique keys on texts (entity names,
//! observations, relations) are on their MD5, since a B-tree entry cannot hold a text as long
//! as `memory.max_note_chars` allows; equality lookups use hash indexes.

use postgres::Client;

use super::ident;
use crate::memory::notes::NotesError;

/// The migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE notes(
    id bigserial PRIMARY KEY,
    text text NOT NULL,
    tags text NOT NULL DEFAULT '',
    scope text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text || ' ' || tags)) STORED
);
CREATE INDEX notes_scope ON notes(scope, id);
CREATE INDEX notes_tsv ON notes USING gin(tsv);
CREATE TABLE entities(
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    type text NOT NULL
);
CREATE UNIQUE INDEX entities_key ON entities((md5(name)));
CREATE INDEX entities_name ON entities USING hash(name);
CREATE TABLE observations(
    id bigserial PRIMARY KEY,
    entity bigint NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
    text text NOT NULL
);
CREATE UNIQUE INDEX observations_key ON observations(entity, (md5(text)));
CREATE TABLE relations(
    src text NOT NULL,
    dst text NOT NULL,
    type text NOT NULL
);
CREATE UNIQUE INDEX relations_key ON relations((md5(src)), (md5(dst)), (md5(type)));
CREATE INDEX relations_src ON relations USING hash(src);
CREATE INDEX relations_dst ON relations USING hash(dst);
CREATE TABLE note_vectors(
    note bigint PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    model text NOT NULL,
    vec bytea NOT NULL
);
INSERT INTO meta(key, value) VALUES
    ('graph', 0), ('quota_notes', 0), ('quota_graph', 0), ('quota_bytes', 0)
    ON CONFLICT DO NOTHING;

-- The bytes a row's texts take, as the quota counts them (the SQLite store counts the same).
CREATE FUNCTION row_bytes(t text, r jsonb) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t
        WHEN 'notes' THEN octet_length(r->>'text') + octet_length(r->>'tags') + octet_length(r->>'scope')
        WHEN 'entities' THEN octet_length(r->>'name') + octet_length(r->>'type')
        WHEN 'observations' THEN octet_length(r->>'text')
        ELSE octet_length(r->>'src') + octet_length(r->>'dst') + octet_length(r->>'type')
    END
$$;
CREATE FUNCTION count_quota() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    n bigint := 0;
    b bigint := 0;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        n := n + 1;
        b := b + row_bytes(TG_TABLE_NAME, to_jsonb(NEW) - 'tsv');
    END IF;
    IF TG_OP <> 'INSERT' THEN
        n := n - 1;
        b := b - row_bytes(TG_TABLE_NAME, to_jsonb(OLD) - 'tsv');
    END IF;
    UPDATE meta SET value = value + n
        WHERE key = CASE TG_TABLE_NAME WHEN 'notes' THEN 'quota_notes' ELSE 'quota_graph' END;
    UPDATE meta SET value = value + b WHERE key = 'quota_bytes';
    RETURN NULL;
END $$;
CREATE TRIGGER notes_quota AFTER INSERT OR DELETE OR UPDATE OF text, tags, scope ON notes
    FOR EACH ROW EXECUTE FUNCTION count_quota();
CREATE TRIGGER entities_quota AFTER INSERT OR DELETE ON entities
    FOR EACH ROW EXECUTE FUNCTION count_quota();
CREATE TRIGGER observations_quota AFTER INSERT OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION count_quota();
CREATE TRIGGER relations_quota AFTER INSERT OR DELETE ON relations
    FOR EACH ROW EXECUTE FUNCTION count_quota();

-- A changed note loses its vector, as in the SQLite store.
CREATE FUNCTION drop_vector() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM note_vectors WHERE note = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER notes_vector AFTER UPDATE OF text, tags ON notes
    FOR EACH ROW EXECUTE FUNCTION drop_vector();

-- Changes announced on the schema's channel at commit: `note:ID` for a note, `graph` when the
-- graph's counter moves. Other processes' subscriptions listen there.
CREATE FUNCTION announce() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_TABLE_NAME = 'notes' THEN
        PERFORM pg_notify(current_schema(),
            'note:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    ELSE
        PERFORM pg_notify(current_schema(), 'graph');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notes_announce AFTER INSERT OR UPDATE OR DELETE ON notes
    FOR EACH ROW EXECUTE FUNCTION announce();
CREATE TRIGGER graph_announce AFTER UPDATE ON meta
    FOR EACH ROW WHEN (NEW.key = 'graph') EXECUTE FUNCTION announce();
"#];

/// The version this switchboard writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Creates the profile's schema or brings it to [`VERSION`], in one transaction under an
/// advisory lock (processes starting at once wait for each other, then find it done).
pub(super) fn prepare(client: &mut Client, schema: &str) -> Result<(), NotesError> {
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('switchboard memory ' || $1))",
        &[&schema],
    )?;
    let s = ident(schema);
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {s};
         SET LOCAL search_path TO {s};
         CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value bigint NOT NULL);
         INSERT INTO meta(key, value) VALUES ('schema_version', 0) ON CONFLICT DO NOTHING;"
    ))?;
    let version: i64 = tx
        .query_one("SELECT value FROM meta WHERE key = 'schema_version'", &[])?
        .get(0);
    if version > VERSION {
        return Err(NotesError::Invalid(format!(
            "the memory schema {schema} is at version {version}, newer than this switchboard knows ({VERSION}); update switchboard"
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step)?;
        tx.execute(
            "UPDATE meta SET value = $1 WHERE key = 'schema_version'",
            &[&(i as i64 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The schema pgvector is installed in, if it is (tried once with `CREATE EXTENSION` when
/// the server offers it; a role without the right simply goes without).
pub(super) fn pgvector(client: &mut Client) -> Result<Option<String>, NotesError> {
    const FIND: &str = "SELECT n.nspname FROM pg_extension e
        JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'";
    if let Some(row) = client.query_opt(FIND, &[])? {
        return Ok(Some(row.get(0)));
    }
    let offered = client
        .query_opt(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'",
            &[],
        )?
        .is_some();
    if offered {
        if let Err(e) = client.batch_execute("CREATE EXTENSION IF NOT EXISTS vector") {
            tracing::info!(error = %super::describe(&e), "pgvector is offered but could not be installed; vectors are compared in process");
            return Ok(None);
        }
        return Ok(client.query_opt(FIND, &[])?.map(|r| r.get(0)));
    }
    Ok(None)
}

/// Gives the vectors table its pgvector column (vectors stored before it keep their bytes and
/// count as stale until embedded again).
pub(super) fn add_vector_column(
    client: &mut Client,
    ext_schema: Option<&str>,
) -> Result<(), NotesError> {
    let Some(ext) = ext_schema else {
        return Ok(());
    };
    client.batch_execute(&format!(
        "ALTER TABLE note_vectors ADD COLUMN IF NOT EXISTS embedding {}.vector",
        ident(ext)
    ))?;
    Ok(())
}
