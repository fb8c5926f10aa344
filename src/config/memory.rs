//! The `memory` section validated: where the profile's notes, graph and vectors live (its
//! SQLite file, or a PostgreSQL database shared by several machines) and their limits.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::raw::RawMemory;
use super::{ConfigError, Profile};

/// Where the memory store is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreTarget {
    /// The profile's own SQLite file (`memory.db` in its data dir).
    Sqlite(PathBuf),
    /// A PostgreSQL database; the profile's memory is its own schema there (`schema`).
    Postgres {
        /// May hold a password (then it was written as `env:VAR`), so it is never shown.
        url: String,
        schema: String,
    },
}

impl StoreTarget {
    pub fn engine(&self) -> &'static str {
        match self {
            StoreTarget::Sqlite(_) => "sqlite",
            StoreTarget::Postgres { .. } => "postgres",
        }
    }

    /// Where it is, safe to show (no password).
    pub fn location(&self) -> String {
        match self {
            StoreTarget::Sqlite(p) => p.display().to_string(),
            StoreTarget::Postgres { url, schema } => {
                format!("{} (schema {schema})", super::database::redact_url(url))
            }
        }
    }
}

/// The notes store of the profile and its limits.
#[derive(Debug, Clone)]
pub struct MemorySettings {
    /// `memory.db` in the profile's data dir: the store unless `memory.store` names another,
    /// and what `switchboard memory migrate` copies from.
    pub db: PathBuf,
    /// `memory.store`.
    pub store: StoreTarget,
    pub max_note_chars: usize,
    pub max_results: usize,
    pub embed_model: Option<String>,
    pub embed_per_search: usize,
    /// `memory.max_notes`, `memory.max_graph_items`, `memory.max_bytes`.
    pub quotas: crate::memory::quota::Quotas,
}

/// The PostgreSQL schema that holds one profile's memory. A schema per profile rather than a
/// profile column: every statement runs with the profile's schema as its search path, so no
/// query can reach another profile's rows, and one profile is dropped, dumped or granted to a
/// role on its own.
pub fn schema_for(profile: &str) -> String {
    format!("switchboard_{profile}")
}

/// PostgreSQL's longest identifier, in bytes.
const MAX_IDENTIFIER: usize = 63;

/// Checks a PostgreSQL URL (a database connection, the memory store, a migration target): its
/// form, and that a password in it came from the environment (`from_env`).
pub fn check_postgres_url(url: &str, from_env: bool) -> Result<(), String> {
    let parsed: tokio_postgres::Config = url
        .parse()
        .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
    if parsed.get_password().is_some() && !from_env {
        return Err(
            "the URL holds a password: write the whole URL as env:VAR (the variable \
                    holding it), never the password itself"
                .into(),
        );
    }
    Ok(())
}

pub(super) fn memory_settings(
    m: &RawMemory,
    redacted: &Value,
    profile: &Profile,
    file: Option<&Path>,
) -> Result<MemorySettings, ConfigError> {
    let db = profile.data_dir.join("memory.db");
    let store = match m.store.as_deref().map(str::trim) {
        None | Some("") | Some("sqlite") => StoreTarget::Sqlite(db.clone()),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let from_env = super::written_as_env(redacted, &["memory", "store"]);
            check_postgres_url(url, from_env)
                .map_err(|msg| ConfigError::new(file, "memory.store", msg))?;
            let schema = schema_for(&profile.name);
            if schema.len() > MAX_IDENTIFIER {
                return Err(ConfigError::new(
                    file,
                    "memory.store",
                    format!(
                        "the profile name `{}` is too long for a PostgreSQL schema name ({schema} is over {MAX_IDENTIFIER} bytes); use a shorter profile",
                        profile.name
                    ),
                ));
            }
            StoreTarget::Postgres {
                url: url.to_owned(),
                schema,
            }
        }
        Some(_) => {
            return Err(ConfigError::new(
                file,
                "memory.store",
                "use `sqlite` (the profile's memory.db) or postgres://USER@HOST:PORT/DATABASE (as env:VAR when it holds a password)",
            ));
        }
    };
    Ok(MemorySettings {
        db,
        store,
        max_note_chars: m.max_note_chars,
        max_results: m.max_results,
        embed_model: m.embed_model.clone().filter(|m| !m.trim().is_empty()),
        embed_per_search: m.embed_per_search,
        quotas: crate::memory::quota::Quotas {
            notes: m.max_notes,
            graph_items: m.max_graph_items,
            bytes: m.max_bytes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn settings(
        yaml: &str,
        profile: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<MemorySettings, ConfigError> {
        let (raw, redacted) = parse(yaml, None, env)?;
        let profile = Profile {
            name: profile.into(),
            data_dir: "/data".into(),
            log_dir: "/logs".into(),
        };
        memory_settings(&raw.memory, &redacted, &profile, None)
    }

    #[test]
    fn the_store_is_sqlite_unless_a_postgres_url_is_given() {
        let env =
            |k: &str| (k == "MEM_URL").then(|| "postgres://sb:secret@db.internal/team".to_owned());
        let s = settings("{}", "default", &env).unwrap();
        assert_eq!(s.store, StoreTarget::Sqlite("/data/memory.db".into()));
        let s = settings("memory: {store: \"env:MEM_URL\"}\n", "team-a", &env).unwrap();
        match &s.store {
            StoreTarget::Postgres { url, schema } => {
                assert!(url.contains("secret"));
                assert_eq!(schema, "switchboard_team-a");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            !s.store.location().contains("secret"),
            "{}",
            s.store.location()
        );
        let e = settings(
            "memory: {store: \"postgres://sb:secret@db/team\"}\n",
            "x",
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("memory.store") && e.contains("env:VAR"), "{e}");
        let e = settings("memory: {store: \"mysql://x\"}\n", "x", &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("postgres://"), "{e}");
        settings("memory: {store: \"postgres://sb@db/team\"}\n", "x", &env).unwrap();
        let long = "p".repeat(60);
        assert!(settings("memory: {store: \"postgres://sb@db/team\"}\n", &long, &env).is_err());
    }
}
