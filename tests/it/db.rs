//! The database layers (`switchboard::db`) against real engines: SQLite in the unit tests, and
//! here a throw-away PostgreSQL cluster (`tests/db/postgres.py`, Debian's `postgresql` package,
//! installed by `scripts/test.sh`). The cluster starts once per test run on a free loopback
//! port and is stopped and deleted when the run ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::db::postgres::{connect, query};
use switchboard::db::sqlite::Access;
use switchboard::db::{DbError, Limits};

pub(crate) struct Pg {
    pub(crate) admin: String,
    reader: String,
    climber: String,
    /// Kept so the cluster's stdin stays open until this process ends.
    _child: Child,
}

static PG: OnceLock<Option<Pg>> = OnceLock::new();
/// The tests below share one table; they take turns.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn pg() -> Option<&'static Pg> {
    PG.get_or_init(|| {
        crate::clients::installed("SWITCHBOARD_TEST_POSTGRES", "PostgreSQL")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/db/postgres.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the PostgreSQL helper starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("PostgreSQL did not start ({e}): {line:?}"));
        Some(Pg {
            admin: v["admin"].as_str().unwrap().to_owned(),
            reader: v["reader"].as_str().unwrap().to_owned(),
            climber: v["climber"].as_str().unwrap().to_owned(),
            _child: child,
        })
    })
    .as_ref()
}

fn limits() -> Limits {
    Limits {
        max_rows: 200,
        max_bytes: 1 << 20,
        timeout: Duration::from_millis(800),
    }
}

/// A fresh table `t` with three rows of assorted types, readable by `reader`.
async fn fixture(pg: &Pg) -> tokio_postgres::Client {
    let admin = connect(&pg.admin, Duration::from_secs(5))
        .await
        .unwrap()
        .client;
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS t;
             CREATE TABLE t(a int PRIMARY KEY, b text, n numeric(10,3), j jsonb,
                            ts timestamptz, u uuid, bin bytea, ok boolean, f float8);
             INSERT INTO t VALUES
               (1, 'one', 12345.678, '{\"k\": [1, 2]}', '2026-01-02 03:04:05+00',
                'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0102', true, 0.5),
               (2, 'two', -0.05, NULL, NULL, NULL, NULL, false, NULL),
               (3, 'three', 0, 'null', NULL, NULL, NULL, NULL, NULL);
             GRANT SELECT ON t TO reader;",
        )
        .await
        .unwrap();
    admin
}

async fn count(admin: &tokio_postgres::Client) -> i64 {
    admin
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0)
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn postgres_rows_come_back_typed_and_paged() {
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let _admin = fixture(pg).await;
    let mut c = connect(&pg.reader, Duration::from_secs(5)).await.unwrap();
    let r = query(
        &mut c,
        "SELECT * FROM t ORDER BY a",
        0,
        limits(),
        Access::ReadOnly,
    )
    .await
    .unwrap();
    assert_eq!(r.columns[2].decl_type.as_deref(), Some("numeric"));
    assert_eq!(
        Value::Array(r.rows[0].clone()),
        json!([1, "one", "12345.678", {"k": [1, 2]}, "2026-01-02T03:04:05Z",
               "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "<bytea: 2 bytes>", true, 0.5])
    );
    assert_eq!(r.rows[1][2], json!("-0.050"));
    assert_eq!(r.rows[1][3], Value::Null);
    let small = Limits {
        max_rows: 2,
        ..limits()
    };
    let p1 = query(
        &mut c,
        "SELECT b FROM t ORDER BY a",
        0,
        small,
        Access::ReadOnly,
    )
    .await
    .unwrap();
    assert_eq!(p1.next_offset, Some(2));
    let p2 = query(
        &mut c,
        "SELECT b FROM t ORDER BY a",
        2,
        small,
        Access::ReadOnly,
    )
    .await
    .unwrap();
    assert_eq!(p2.rows, vec![vec![json!("three")]]);
    assert!(p2.next_offset.is_none());
    // A type the server cannot send in binary (aclitem) comes back as its text, the rest typed,
    // paged and capped the same way.
    let acl = query(
        &mut c,
        "SELECT relname::text, relacl, relnatts, relhasindex FROM pg_class WHERE relacl IS NOT NULL ORDER BY relname",
        1,
        small,
        Access::ReadOnly,
    )
    .await
    .unwrap();
    assert_eq!(acl.rows.len(), 2, "{:?}", acl.rows);
    assert_eq!(acl.next_offset, Some(3));
    let row = &acl.rows[0];
    assert!(
        row[1]
            .as_str()
            .is_some_and(|a| a.starts_with('{') && a.contains('=')),
        "{row:?}"
    );
    assert!(row[2].is_number() && row[3].is_boolean(), "{row:?}");
    let star = query(&mut c, "SELECT * FROM pg_class", 0, small, Access::ReadOnly)
        .await
        .unwrap();
    assert_eq!(star.rows.len(), 2);
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn postgres_read_only_holds_against_hostile_sql() {
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let admin = fixture(pg).await;
    let file = std::env::temp_dir().join(format!("switchboard-copy-{}", std::process::id()));
    let copy = format!("COPY t TO '{}'", file.display());
    for url in [&pg.reader, &pg.admin] {
        let mut c = connect(url, Duration::from_secs(5)).await.unwrap();
        if url == &pg.admin {
            // A superuser can write server files even read-only: every read is refused.
            assert!(c.file_writer);
            let r = query(&mut c, "SELECT 1", 0, limits(), Access::ReadOnly).await;
            assert!(
                matches!(&r, Err(DbError::Refused(m)) if m.contains("superuser")),
                "{r:?}"
            );
            let r = query(&mut c, &copy, 0, limits(), Access::ReadOnly).await;
            assert!(matches!(r, Err(DbError::Refused(_))), "{r:?}");
            continue;
        }
        assert!(!c.file_writer);
        // A role that could SET ROLE into writing server files counts as one.
        let mut climber = connect(&pg.climber, Duration::from_secs(5)).await.unwrap();
        assert!(climber.file_writer);
        let r = query(&mut climber, "SELECT 1", 0, limits(), Access::ReadOnly).await;
        assert!(matches!(r, Err(DbError::Refused(_))), "{r:?}");
        for sql in [
            "SELECT 1; COMMIT; DROP TABLE t;",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "DROP TABLE t",
            "INSERT INTO t(a, b) VALUES (9, 'x')",
            "UPDATE t SET b = 'x'",
            "CREATE TABLE z(a int)",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE false",
        ] {
            let r = query(&mut c, sql, 0, limits(), Access::ReadOnly).await;
            // pg_terminate_backend on no rows changes nothing; every other one is refused.
            if sql.starts_with("SELECT pg_terminate") {
                continue;
            }
            assert!(
                matches!(r, Err(DbError::Refused(_))),
                "{url} {sql}: refused, not {r:?}"
            );
        }
        let r = query(&mut c, &copy, 0, limits(), Access::ReadOnly).await;
        assert!(matches!(r, Err(DbError::Refused(_))), "{copy}: {r:?}");
        // The connection is still usable after each refusal.
        let ok = query(
            &mut c,
            "SELECT count(*) FROM t",
            0,
            limits(),
            Access::ReadOnly,
        )
        .await
        .unwrap();
        assert_eq!(ok.rows[0][0], json!(3));
    }
    assert!(!file.exists(), "no server file was written");
    assert_eq!(count(&admin).await, 3);
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn postgres_huge_results_stop_at_the_cap_or_the_timeout() {
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let mut c = connect(&pg.reader, Duration::from_secs(5)).await.unwrap();
    // 10 million rows (3200 x 3200): the portal hands over one page and the rest stays put.
    let cross = "SELECT a, b FROM generate_series(1, 3200) a CROSS JOIN generate_series(1, 3200) b";
    let started = Instant::now();
    let r = query(&mut c, cross, 0, limits(), Access::ReadOnly)
        .await
        .unwrap();
    assert_eq!(r.rows.len(), 200);
    assert_eq!(r.next_offset, Some(200));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the portal streams"
    );
    // An aggregate over a far bigger join must see every row: the statement timeout ends it.
    let agg = "SELECT count(*) FROM generate_series(1, 10000000) a \
               CROSS JOIN generate_series(1, 10000000) b";
    let r = query(&mut c, agg, 0, limits(), Access::ReadOnly).await;
    assert!(matches!(r, Err(DbError::Timeout { .. })), "{r:?}");
    let ok = query(&mut c, "SELECT 1", 0, limits(), Access::ReadOnly)
        .await
        .unwrap();
    assert_eq!(ok.rows[0][0], json!(1));
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn postgres_writable_connections_write() {
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let admin = fixture(pg).await;
    let mut c = connect(&pg.admin, Duration::from_secs(5)).await.unwrap();
    let r = query(
        &mut c,
        "INSERT INTO t(a, b) VALUES (4, 'four') RETURNING a",
        0,
        limits(),
        Access::Writable,
    )
    .await
    .unwrap();
    assert_eq!(r.rows[0][0], json!(4));
    assert_eq!(count(&admin).await, 4);
    let err = connect("postgres://nobody@127.0.0.1:1/x", Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be opened"), "{err}");
}

/// The database tools on PostgreSQL: `ro` logs in as the SELECT-only role, `su` as the
/// superuser (read-only in config), `rw` as the superuser with `writable: true`.
fn pg_settings(pg: &Pg, p: &crate::harness::Project) -> switchboard::config::Settings {
    use switchboard::config::{ConnectionSettings, Target};
    let mut s = p.settings();
    for (name, url, writable) in [
        ("ro", &pg.reader, false),
        ("su", &pg.admin, false),
        ("rw", &pg.admin, true),
    ] {
        s.database.connections.push(ConnectionSettings {
            name: name.into(),
            target: Target::Postgres(url.clone()),
            writable,
            statement_timeout: Duration::from_millis(800),
            max_rows: 200,
            description: None,
            built_in: false,
        });
    }
    s
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn postgres_through_the_tools_reads_refuses_writes_and_exports() {
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let admin = fixture(pg).await;
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS line; DROP TABLE IF EXISTS head;
             CREATE TABLE head(id int PRIMARY KEY, name text NOT NULL DEFAULT 'x');
             CREATE TABLE line(id serial PRIMARY KEY, head int REFERENCES head(id), qty int);
             CREATE UNIQUE INDEX line_head_qty ON line(head, qty);
             GRANT SELECT ON head, line TO reader;",
        )
        .await
        .unwrap();
    let p = crate::harness::Project::new();
    let s = crate::harness::session(pg_settings(pg, &p)).await;
    let conns = s.ok("db_connections", json!({})).await;
    let ro = conns["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ro")
        .unwrap()
        .clone();
    assert_eq!(ro["engine"], "postgres");
    assert!(
        ro["location"].as_str().unwrap().contains("reader:***@"),
        "{ro}"
    );

    let r = s
        .ok(
            "db_query",
            json!({"database": "ro", "sql": "SELECT a, b FROM t ORDER BY a"}),
        )
        .await;
    assert_eq!(r["rows"][0], json!([1, "one"]));
    let file = std::env::temp_dir().join(format!("switchboard-tool-copy-{}", std::process::id()));
    for sql in [
        "SELECT 1; COMMIT; DROP TABLE t;".to_owned(),
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d".to_owned(),
        format!("COPY t TO '{}'", file.display()),
        "DELETE FROM t".to_owned(),
    ] {
        for db in ["ro", "su", "rw"] {
            let err = s.err("db_query", json!({"database": db, "sql": sql})).await;
            assert!(!err.is_empty(), "{db} {sql}");
        }
    }
    let err = s
        .err("db_query", json!({"database": "su", "sql": "SELECT 1"}))
        .await;
    assert!(err.contains("superuser") && err.contains("SELECT"), "{err}");
    let err = s
        .err(
            "db_execute",
            json!({"database": "ro", "sql": "DELETE FROM t"}),
        )
        .await;
    assert!(err.contains("read-only"), "{err}");
    let err = s
        .err(
            "db_query",
            json!({"database": "ro", "sql": "SELECT count(*) FROM generate_series(1, 10000000) a CROSS JOIN generate_series(1, 10000000) b"}),
        )
        .await;
    assert!(err.contains("statement_timeout_ms"), "{err}");
    assert!(!file.exists(), "no server file was written");
    assert_eq!(count(&admin).await, 3, "nothing was deleted");

    let done = s
        .ok(
            "db_execute",
            json!({"database": "rw", "sql": "INSERT INTO head(id) VALUES (1), (2)"}),
        )
        .await;
    assert_eq!(done["affected_rows"], 2);
    let ret = s
        .ok(
            "db_execute",
            json!({"database": "rw", "sql": "INSERT INTO line(head, qty) VALUES (1, 5) RETURNING id"}),
        )
        .await;
    assert_eq!(ret["affected_rows"], 1);
    assert_eq!(ret["result"]["rows"], json!([[1]]));

    let tables = s.ok("db_tables", json!({"database": "ro"})).await;
    assert!(
        tables["tables"]
            .as_array()
            .unwrap()
            .contains(&json!({"schema": "public", "name": "line", "kind": "table"})),
        "{tables}"
    );
    let d = s
        .ok(
            "db_describe",
            json!({"database": "ro", "table": "public.line"}),
        )
        .await;
    assert_eq!(d["primary_key"], json!(["id"]));
    assert_eq!(
        d["columns"][2],
        json!({"name": "qty", "type": "integer", "nullable": true})
    );
    assert_eq!(
        d["foreign_keys"],
        json!([{"columns": ["head"], "references": "head", "referenced_columns": ["id"]}])
    );
    assert!(
        d["indexes"].as_array().unwrap().contains(
            &json!({"name": "line_head_qty", "columns": ["head", "qty"], "unique": true})
        ),
        "{d}"
    );
    let h = s
        .ok("db_describe", json!({"database": "ro", "table": "head"}))
        .await;
    assert_eq!(h["columns"][1]["default"], "'x'::text", "{h}");

    let out = s
        .ok(
            "db_export_csv",
            json!({"database": "ro", "sql": "SELECT a, b, n FROM t ORDER BY a", "path": "t.csv"}),
        )
        .await;
    assert_eq!(out["rows"], 3);
    assert_eq!(
        p.read("t.csv"),
        "a,b,n\r\n1,one,12345.678\r\n2,two,-0.050\r\n3,three,0.000\r\n"
    );
    // A column the server cannot send in binary is exported as its text, once.
    let acl = s
        .ok(
            "db_export_csv",
            json!({"database": "ro", "sql": "SELECT relname::text, relacl FROM pg_class WHERE relname = 'pg_class'", "path": "acl.csv"}),
        )
        .await;
    assert_eq!(acl["rows"], 1, "{acl}");
    let csv = p.read("acl.csv");
    assert!(
        csv.starts_with("relname,relacl\r\npg_class,")
            && csv.contains('=')
            && csv.matches("relname").count() == 1,
        "{csv}"
    );
}

/// Through the real binary: nothing of one call reaches the next on a kept PostgreSQL session
/// (a prepared statement, a session setting, a session advisory lock that would block other
/// applications).
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_are_reset_after_every_call() {
    use crate::harness::{Proc, Project};
    let Some(pg) = pg() else { return };
    let _turn = TURN.lock().await;
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database:\n  connections:\n    rw:\n      url: {}\n      writable: true\n",
            pg.admin
        ),
    )
    .unwrap();
    let results = tokio::task::spawn_blocking(move || {
        let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
        proc.initialize();
        let mut out = Vec::new();
        for (i, sql) in [
            "SELECT pg_advisory_lock(4242)",
            "PREPARE sb_kept AS SELECT 41 + 1",
            "EXECUTE sb_kept",
            "SET application_name = 'changed'",
            "SELECT current_setting('application_name') AS name",
        ]
        .iter()
        .enumerate()
        {
            out.push(proc.request(
                10 + i as i64,
                "tools/call",
                json!({"name": "db_execute", "arguments": {"database": "rw", "sql": sql}}),
            ));
        }
        (proc, out)
    })
    .await
    .unwrap();
    let (proc, out) = results;
    assert_ne!(out[0]["result"]["isError"], true, "{}", out[0]);
    // The lock taken by the first call is free for another application while switchboard
    // (and its session) is still there.
    let admin = connect(&pg.admin, Duration::from_secs(5))
        .await
        .unwrap()
        .client;
    let free: bool = admin
        .query_one("SELECT pg_try_advisory_lock(4242)", &[])
        .await
        .unwrap()
        .get(0);
    assert!(free, "the session advisory lock outlived its call");
    let _ = admin.batch_execute("SELECT pg_advisory_unlock_all()").await;
    assert_eq!(out[2]["result"]["isError"], true, "{}", out[2]);
    assert_eq!(
        out[2]["result"]["_meta"]["switchboard/reason"], "sql_error",
        "{}",
        out[2]
    );
    assert!(out[2].to_string().contains("sb_kept"), "{}", out[2]);
    assert!(
        out[4].to_string().contains("switchboard") && !out[4].to_string().contains("changed"),
        "{}",
        out[4]
    );
    drop(proc);
}
