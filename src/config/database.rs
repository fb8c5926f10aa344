//! The `database` section validated: each connection's engine and target, whether it may be
//! written, and its limits. The built-in `local` connection (a writable SQLite file in the
//! profile's data dir, the agent's scratch database) is added here, so every other part of
//! switchboard sees one list of connections.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::raw::RawDatabase;
use super::{ConfigError, nonzero};

/// What a connection points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file (created on first use only when the connection is writable).
    Sqlite(PathBuf),
    /// A PostgreSQL URL; may hold a password, so it is never shown.
    Postgres(String),
}

#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub name: String,
    pub target: Target,
    /// Set only by `writable: true` in the config (and never in `--read-only` mode).
    pub writable: bool,
    pub statement_timeout: Duration,
    pub max_rows: usize,
    pub description: Option<String>,
    /// Built in rather than configured.
    pub built_in: bool,
}

impl ConnectionSettings {
    pub fn engine(&self) -> &'static str {
        match self.target {
            Target::Sqlite(_) => "sqlite",
            Target::Postgres(_) => "postgres",
        }
    }

    /// Where it points, safe to show: a SQLite path, or the PostgreSQL URL without password.
    pub fn location(&self) -> String {
        match &self.target {
            Target::Sqlite(p) => p.display().to_string(),
            Target::Postgres(url) => redact_url(url),
        }
    }
}

/// A PostgreSQL URL without its password.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// In name order; `local` is among them.
    pub connections: Vec<ConnectionSettings>,
    /// The default page size; a connection may lower or raise its own.
    pub max_rows: usize,
    pub max_result_bytes: usize,
    pub connect_timeout: Duration,
    pub max_export_rows: u64,
    pub max_export_bytes: u64,
    /// The default statement timeout, also used for SQLite files opened by path.
    pub statement_timeout: Duration,
    /// `database.sqlite_max_length_bytes`: the longest value or row SQLite makes or reads.
    pub sqlite_max_length: u64,
    /// `database.sqlite_max_heap_bytes`: SQLite's memory in the whole process.
    pub sqlite_max_heap: u64,
}

impl DatabaseSettings {
    pub fn get(&self, name: &str) -> Option<&ConnectionSettings> {
        self.connections.iter().find(|c| c.name == name)
    }
}

pub(super) fn database_settings(
    d: &RawDatabase,
    redacted: &Value,
    data_dir: &Path,
    read_only: bool,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseSettings, ConfigError> {
    let err = |key: String, msg: String| ConfigError::new(file, key, msg);
    nonzero(
        file,
        &[
            ("database.max_rows", d.max_rows as u64),
            ("database.max_result_bytes", d.max_result_bytes as u64),
            ("database.statement_timeout_ms", d.statement_timeout_ms),
            ("database.connect_timeout_secs", d.connect_timeout_secs),
            ("database.max_export_rows", d.max_export_rows),
            ("database.max_export_bytes", d.max_export_bytes),
            (
                "database.sqlite_max_length_bytes",
                d.sqlite_max_length_bytes,
            ),
            ("database.sqlite_max_heap_bytes", d.sqlite_max_heap_bytes),
        ],
    )?;
    let mut connections = Vec::new();
    if !d.connections.contains_key("local") {
        connections.push(ConnectionSettings {
            name: "local".into(),
            target: Target::Sqlite(data_dir.join("local.db")),
            writable: !read_only,
            statement_timeout: Duration::from_millis(d.statement_timeout_ms),
            max_rows: d.max_rows,
            description: Some(
                "switchboard's own SQLite database in the profile's data dir: a scratch space \
                 for tables you create"
                    .into(),
            ),
            built_in: true,
        });
    }
    for (name, c) in &d.connections {
        let key = format!("database.connections.{name}");
        if !super::is_plain_name(name) {
            return Err(err(
                key,
                "a connection name is letters, digits, `_` and `-` only".into(),
            ));
        }
        let target = if let Some(rest) = c.url.strip_prefix("sqlite://") {
            if rest.is_empty() {
                return Err(err(
                    format!("{key}.url"),
                    "give a file: sqlite:///abs/path.db or sqlite://relative/path.db".into(),
                ));
            }
            let p = super::expand_home(Path::new(rest), env);
            Target::Sqlite(super::absolutize(&p, file))
        } else if c.url.starts_with("postgres://") || c.url.starts_with("postgresql://") {
            let from_env =
                super::written_as_env(redacted, &["database", "connections", name, "url"]);
            super::memory::check_postgres_url(&c.url, from_env)
                .map_err(|m| err(format!("{key}.url"), m))?;
            Target::Postgres(c.url.clone())
        } else {
            return Err(err(
                format!("{key}.url"),
                "use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE".into(),
            ));
        };
        if c.statement_timeout_ms == Some(0) || c.max_rows == Some(0) {
            return Err(err(key, "limits must be greater than 0".into()));
        }
        connections.push(ConnectionSettings {
            name: name.clone(),
            target,
            writable: c.writable && !read_only,
            statement_timeout: Duration::from_millis(
                c.statement_timeout_ms.unwrap_or(d.statement_timeout_ms),
            ),
            max_rows: c.max_rows.unwrap_or(d.max_rows),
            description: c.description.clone(),
            built_in: false,
        });
    }
    connections.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(DatabaseSettings {
        connections,
        max_rows: d.max_rows,
        max_result_bytes: d.max_result_bytes,
        connect_timeout: Duration::from_secs(d.connect_timeout_secs),
        max_export_rows: d.max_export_rows,
        max_export_bytes: d.max_export_bytes,
        statement_timeout: Duration::from_millis(d.statement_timeout_ms),
        sqlite_max_length: d.sqlite_max_length_bytes,
        sqlite_max_heap: d.sqlite_max_heap_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn settings(
        yaml: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<DatabaseSettings, ConfigError> {
        let (raw, redacted) = parse(yaml, None, env)?;
        database_settings(
            &raw.database,
            &redacted,
            Path::new("/data"),
            false,
            None,
            env,
        )
    }

    #[test]
    fn connections_are_validated_and_local_is_built_in() {
        let none = |_: &str| None;
        let s = settings("{}", &none).unwrap();
        assert_eq!(s.connections.len(), 1);
        let local = s.get("local").unwrap();
        assert!(local.writable && local.built_in);
        assert_eq!(local.target, Target::Sqlite("/data/local.db".into()));

        let s = settings(
            "database:\n  connections:\n    app: {url: \"sqlite:///srv/app.db\", max_rows: 5}\n    pg: {url: \"postgres://reader@db.example:5432/shop\", writable: true}\n",
            &none,
        )
        .unwrap();
        let app = s.get("app").unwrap();
        assert!(!app.writable, "read-only unless the config says so");
        assert_eq!(app.max_rows, 5);
        assert!(s.get("pg").unwrap().writable);

        let env = |v: &str| (v == "PG_URL").then(|| "postgres://u:secret@h/db".to_owned());
        let s = settings(
            "database:\n  connections:\n    pg: {url: \"env:PG_URL\"}\n",
            &env,
        )
        .unwrap();
        assert_eq!(s.get("pg").unwrap().location(), "postgres://u:***@h/db");

        for (yaml, key) in [
            (
                "database:\n  connections:\n    pg: {url: \"postgres://u:secret@h/db\"}\n",
                "database.connections.pg.url",
            ),
            (
                "database:\n  connections:\n    x: {url: \"mysql://h/db\"}\n",
                "database.connections.x.url",
            ),
            (
                "database:\n  connections:\n    \"a b\": {url: \"sqlite:///x.db\"}\n",
                "database.connections.a b",
            ),
            ("database:\n  max_rows: 0\n", "database.max_rows"),
            (
                "database:\n  connections:\n    x: {url: \"sqlite:///x.db\", writeable: true}\n",
                "database.connections.x.writeable",
            ),
        ] {
            let e = settings(yaml, &none).unwrap_err();
            assert_eq!(e.key, key, "{yaml}: {e}");
        }
    }

    #[test]
    fn read_only_mode_makes_every_connection_read_only() {
        let none = |_: &str| None;
        let (raw, redacted) = parse(
            "database:\n  connections:\n    app: {url: \"sqlite:///srv/app.db\", writable: true}\n",
            None,
            &none,
        )
        .unwrap();
        let s = database_settings(&raw.database, &redacted, Path::new("/d"), true, None, &none)
            .unwrap();
        assert!(s.connections.iter().all(|c| !c.writable));
    }
}
