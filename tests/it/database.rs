//! The database tools over real SQLite: a database file inside the roots (always read-only,
//! whatever the SQL tries), the built-in writable `local` database, schema tools, CSV export
//! through the path policy, and read-only mode. PostgreSQL through the same tools is in `db.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Project, session};

/// `shop.db` inside the root: customers and orders with a foreign key and an index.
fn shop(p: &Project) -> std::path::PathBuf {
    let path = p.root.join("shop.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
         CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customers(id),
                             total REAL DEFAULT 0, note BLOB);
         CREATE INDEX orders_customer ON orders(customer, total);
         CREATE VIEW big AS SELECT * FROM orders WHERE total > 100;
         INSERT INTO customers(name, email) VALUES ('Ada', 'ada@example.com'), ('Lin', NULL);
         INSERT INTO orders(customer, total, note) VALUES (1, 250.5, x'00ff'), (1, 12, NULL), (2, 99.9, NULL);",
    )
    .unwrap();
    path
}

#[tokio::test]
async fn a_sqlite_file_in_the_roots_is_read_only_to_queries_and_written_by_db_execute() {
    let p = Project::new();
    let db = shop(&p);
    let before = std::fs::read(&db).unwrap();
    let outside_before = p.outside_snapshot();
    let mut settings = p.settings();
    settings.database.statement_timeout = Duration::from_millis(500);
    let s = session(settings).await;

    let r = s
        .ok(
            "db_query",
            json!({"database": "shop.db", "sql": "SELECT id, total, note FROM orders ORDER BY id"}),
        )
        .await;
    assert_eq!(r["columns"][1]["decl_type"], "REAL");
    assert_eq!(r["rows"][0], json!([1, 250.5, "<blob: 2 bytes>"]));
    assert!(r["duration_ms"].is_u64());

    let copy = p.outside.join("copy.db");
    let attached = p.outside.join("x.db");
    for sql in [
        "SELECT 1; COMMIT; DROP TABLE orders;".to_owned(),
        "DROP TABLE orders".to_owned(),
        "DELETE FROM orders".to_owned(),
        "UPDATE customers SET name = 'x'".to_owned(),
        format!("VACUUM INTO '{}'", copy.display()),
        format!("ATTACH '{}' AS x", attached.display()),
        "PRAGMA query_only=0".to_owned(),
        "PRAGMA writable_schema=1".to_owned(),
        "SELECT load_extension('x')".to_owned(),
        "WITH d AS (SELECT 1) DELETE FROM orders".to_owned(),
    ] {
        let err = s
            .err("db_query", json!({"database": "shop.db", "sql": sql}))
            .await;
        assert!(
            err.contains("not allowed") || err.contains("statements") || err.contains("read-only"),
            "{sql}: {err}"
        );
    }
    // db_execute writes SQLite files inside the roots, and creates one where the path policy
    // allows a new file.
    let made = s
        .ok(
            "db_execute",
            json!({"database": "new.db", "sql": "CREATE TABLE t(a INTEGER)"}),
        )
        .await;
    assert_eq!(made["affected_rows"], 0);
    assert!(p.root.join("new.db").is_file());
    s.ok(
        "db_execute",
        json!({"database": "new.db", "sql": "INSERT INTO t VALUES (7), (8)"}),
    )
    .await;
    let back = s
        .ok(
            "db_query",
            json!({"database": "new.db", "sql": "SELECT sum(a) FROM t"}),
        )
        .await;
    assert_eq!(back["rows"], json!([[15]]));
    let err = s
        .err(
            "db_execute",
            json!({"database": "nowhere/new.db", "sql": "CREATE TABLE t(a INTEGER)"}),
        )
        .await;
    assert!(err.contains("create_directory"), "{err}");
    let outside = p.outside.join("x.db").display().to_string();
    let err = s
        .err(
            "db_execute",
            json!({"database": outside, "sql": "CREATE TABLE t(a INTEGER)"}),
        )
        .await;
    assert!(err.contains("outside"), "{err}");
    assert!(!p.outside.join("x.db").exists());

    // A 100-million-row cross join: the row cap ends the page, the deadline ends an aggregate.
    let big = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 10000) \
               SELECT a.i, b.i FROM n a, n b";
    let r = s
        .ok("db_query", json!({"database": "shop.db", "sql": big}))
        .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 200);
    assert_eq!(r["next_offset"], 200);
    assert!(r["cut"].as_str().unwrap().contains("max_rows"));
    let err = s
        .err(
            "db_query",
            json!({"database": "shop.db", "sql": format!("SELECT count(*) FROM ({big})")}),
        )
        .await;
    assert!(
        err.contains("500 ms") && err.contains("statement_timeout_ms"),
        "{err}"
    );

    // Files outside the roots are the policy's to refuse, even by a path that looks inside.
    let outside_db = p.outside.join("other.db");
    std::fs::copy(&db, &outside_db).unwrap();
    for path in [
        outside_db.display().to_string(),
        "../project_evil/other.db".to_owned(),
    ] {
        let err = s
            .err("db_query", json!({"database": path, "sql": "SELECT 1"}))
            .await;
        assert!(err.contains("outside"), "{path}: {err}");
    }
    let err = s
        .err("db_query", json!({"database": "nosuch", "sql": "SELECT 1"}))
        .await;
    assert!(
        err.contains("no connection `nosuch`") && err.contains("local"),
        "{err}"
    );

    assert!(!copy.exists() && !attached.exists());
    std::fs::remove_file(&outside_db).unwrap();
    assert_eq!(
        p.outside_snapshot(),
        outside_before,
        "nothing outside changed"
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the database is unchanged"
    );
}

#[tokio::test]
async fn tables_and_their_columns_keys_and_indexes_are_described() {
    let p = Project::new();
    shop(&p);
    let s = session(p.settings()).await;
    let t = s.ok("db_tables", json!({"database": "shop.db"})).await;
    assert_eq!(
        t["tables"],
        json!([
            {"name": "big", "kind": "view"},
            {"name": "customers", "kind": "table"},
            {"name": "orders", "kind": "table"},
        ])
    );
    let d = s
        .ok(
            "db_describe",
            json!({"database": "shop.db", "table": "orders"}),
        )
        .await;
    assert_eq!(d["primary_key"], json!(["id"]));
    assert_eq!(
        d["columns"][1],
        json!({"name": "customer", "type": "INTEGER", "nullable": false})
    );
    assert_eq!(d["columns"][2]["default"], "0");
    assert_eq!(
        d["foreign_keys"],
        json!([{"columns": ["customer"], "references": "customers", "referenced_columns": ["id"]}])
    );
    assert_eq!(
        d["indexes"],
        json!([{"name": "orders_customer", "columns": ["customer", "total"], "unique": false}])
    );
    let c = s
        .ok(
            "db_describe",
            json!({"database": "shop.db", "table": "customers"}),
        )
        .await;
    assert_eq!(c["indexes"][0]["unique"], true, "{c}");
    let err = s
        .err(
            "db_describe",
            json!({"database": "shop.db", "table": "nope"}),
        )
        .await;
    assert!(err.contains("db_tables"), "{err}");
}

#[tokio::test]
async fn the_local_database_takes_writes_and_exports_csv_inside_the_roots() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.database.max_export_rows = 50;
    let s = session(settings).await;
    let conns = s.ok("db_connections", json!({})).await;
    assert_eq!(conns["connections"][0]["name"], "local");
    assert_eq!(conns["connections"][0]["writable"], true);

    let made = s
        .ok(
            "db_execute",
            json!({"database": "local", "sql": "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INT)"}),
        )
        .await;
    assert_eq!(made["affected_rows"], 0);
    let ins = s
        .ok(
            "db_execute",
            json!({"database": "local", "sql": "INSERT INTO items(name, qty) VALUES ('bolt, hex', 3), ('nut \"M6\"', 10), ('washer', NULL) RETURNING id"}),
        )
        .await;
    assert_eq!(ins["affected_rows"], 3);
    assert_eq!(ins["result"]["rows"], json!([[1], [2], [3]]));
    let upd = s
        .ok(
            "db_execute",
            json!({"database": "local", "sql": "UPDATE items SET qty = qty + 1 WHERE qty IS NOT NULL"}),
        )
        .await;
    assert_eq!(upd["affected_rows"], 2);
    // db_query stays read-only on a writable connection.
    let err = s
        .err(
            "db_query",
            json!({"database": "local", "sql": "DELETE FROM items"}),
        )
        .await;
    assert!(err.contains("not allowed"), "{err}");
    let err = s
        .err(
            "db_execute",
            json!({"database": "local", "sql": "DELETE FROM items; DROP TABLE items"}),
        )
        .await;
    assert!(err.contains("exactly one"), "{err}");
    assert!(
        p.data.join("profiles/default/local.db").exists(),
        "in the profile's data dir"
    );

    let out = s
        .ok(
            "db_export_csv",
            json!({"database": "local", "sql": "SELECT name, qty FROM items ORDER BY id", "path": "out/items.csv", "create_parents": true}),
        )
        .await;
    assert_eq!(out["rows"], 3);
    assert_eq!(out["columns"], json!(["name", "qty"]));
    assert_eq!(
        p.read("out/items.csv"),
        "name,qty\r\n\"bolt, hex\",4\r\n\"nut \"\"M6\"\"\",11\r\nwasher,\r\n"
    );
    let err = s
        .err(
            "db_export_csv",
            json!({"database": "local", "sql": "SELECT 1", "path": "out/items.csv"}),
        )
        .await;
    assert!(err.contains("overwrite"), "{err}");
    let err = s
        .err(
            "db_export_csv",
            json!({"database": "local", "sql": "SELECT 1", "path": p.outside.join("x.csv")}),
        )
        .await;
    assert!(err.contains("outside"), "{err}");
    assert!(!p.outside.join("x.csv").exists());
    // A failing query leaves no file behind.
    let err = s
        .err(
            "db_export_csv",
            json!({"database": "local", "sql": "SELECT nope FROM items", "path": "bad.csv"}),
        )
        .await;
    assert!(err.contains("no such column"), "{err}");
    assert!(!p.root.join("bad.csv").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&p.root)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".switchboard-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The export cap cuts the file and says how to get the rest.
    let cut = s
        .ok(
            "db_export_csv",
            json!({"database": "local", "path": "many.csv",
                   "sql": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000) SELECT i FROM n"}),
        )
        .await;
    assert_eq!(cut["rows"], 50);
    assert!(
        cut["cut"].as_str().unwrap().contains("max_export_rows"),
        "{cut}"
    );
    assert_eq!(p.read("many.csv").lines().count(), 51);
}

#[tokio::test]
async fn read_only_mode_has_no_writers_and_local_is_read_only() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.read_only = true;
    let s = session(settings).await;
    let names = s.tool_names().await;
    for reader in ["db_connections", "db_query", "db_tables", "db_describe"] {
        assert!(names.iter().any(|n| n == reader), "{reader}");
    }
    for writer in ["db_execute", "db_export_csv"] {
        assert!(!names.iter().any(|n| n == writer), "{writer}");
    }
    let conns: Value = s.ok("db_connections", json!({})).await;
    assert_eq!(conns["connections"][0]["writable"], false, "{conns}");
}

#[tokio::test]
// Subscriptions are the legacy API, which the hosts in use still speak.
#[allow(deprecated)]
async fn each_connection_has_a_schema_resource_that_notifies_on_change() {
    use rmcp::model::{ReadResourceRequestParams, ResourceContents, SubscribeRequestParams};
    let p = Project::new();
    let s = session(p.settings()).await;
    let uri = "db://local/schema".to_owned();
    let listed = s.client.list_all_resources().await.unwrap();
    assert!(listed.iter().any(|r| r.uri == uri), "{listed:?}");
    s.client
        .subscribe(SubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    s.ok(
        "db_execute",
        json!({"database": "local", "sql": "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)"}),
    )
    .await;
    assert!(
        crate::harness::eventually(|| async { s.updates.lock().unwrap().contains(&uri) }).await,
        "an update for {uri}"
    );
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(&uri))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("text");
    };
    let schema: Value = serde_json::from_str(text).unwrap();
    assert_eq!(schema["tables"][0]["table"], "notes");
    assert_eq!(schema["tables"][0]["kind"], "table");
    assert_eq!(schema["tables"][0]["columns"][1]["nullable"], false);
    let missing = s
        .client
        .read_resource(ReadResourceRequestParams::new("db://nope/schema"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("no resource"), "{missing}");
}

/// Through the real binary: SQLite's memory is bounded. A value over the length cap is refused
/// with the key to change, a query that needs more heap than the process allows fails alone,
/// and the server goes on answering.
#[test]
fn sqlite_memory_is_bounded_by_config() {
    use crate::harness::Proc;
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        "database:\n  sqlite_max_length_bytes: 200000000\n  sqlite_max_heap_bytes: 67108864\n",
    )
    .unwrap();
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
    proc.initialize();
    let mut call = |id: i64, sql: &str| {
        proc.request(
            id,
            "tools/call",
            serde_json::json!({"name": "db_query", "arguments": {"database": "local", "sql": sql}}),
        )
    };
    let r = call(2, "SELECT length(randomblob(150000000))");
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r.to_string().contains("database.sqlite_max_heap_bytes"),
        "{r}"
    );
    let r = call(3, "SELECT length(randomblob(300000000))");
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        r.to_string().contains("database.sqlite_max_length_bytes"),
        "{r}"
    );
    assert_eq!(
        r["result"]["_meta"]["switchboard/reason"],
        "response_too_large"
    );
    let r = call(4, "SELECT length(randomblob(1000)) AS n");
    assert_eq!(r["result"]["structuredContent"]["rows"][0][0], 1000, "{r}");
}
