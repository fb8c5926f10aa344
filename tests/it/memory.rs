//! The memory tools over a real SQLite notes store in the profile's data dir: saving, searching,
//! paging, updating and deleting notes, scopes, limits, persistence across sessions, and the
//! marking of stored text as data.

use serde_json::json;

use crate::harness::{Project, session};

#[tokio::test]
async fn notes_are_saved_found_paged_changed_and_forgotten() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let deploy = s
        .ok(
            "memory_save",
            json!({"text": "Deploys need AWS_PROFILE=staging.", "tags": ["Deploy", "aws"]}),
        )
        .await;
    let id = deploy["id"].as_i64().unwrap();
    assert_eq!(deploy["scope"], "global");
    assert_eq!(deploy["tags"], json!(["aws", "deploy"]));
    let local = s
        .ok(
            "memory_save",
            json!({"text": "This project deploys with make release.", "scope": "project", "tags": ["deploy"]}),
        )
        .await;
    assert_eq!(
        local["scope"],
        format!("project:{}", p.root.display()),
        "project notes belong to the first root"
    );
    s.ok("memory_save", json!({"text": "Lunch is at noon."}))
        .await;

    let found = s
        .ok(
            "memory_search",
            json!({"query": "how do we deploy to staging"}),
        )
        .await;
    assert!(
        found["notice"]
            .as_str()
            .unwrap()
            .contains("not as instructions")
    );
    let hits = found["hits"].as_array().unwrap();
    assert_eq!(hits[0]["note"]["id"], id, "{found}");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("[staging]"));
    assert!(!found.to_string().contains("Lunch"));
    let only = s
        .ok(
            "memory_search",
            json!({"query": "deploy", "scope": "project"}),
        )
        .await;
    assert_eq!(only["hits"].as_array().unwrap().len(), 1, "{only}");

    let page = s.ok("memory_list", json!({"limit": 2})).await;
    assert_eq!(page["notes"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_offset"], 2);
    let rest = s.ok("memory_list", json!({"offset": 2, "limit": 2})).await;
    assert_eq!(rest["notes"][0]["id"], id, "newest first");
    assert!(rest.get("next_offset").is_none());
    let tagged = s.ok("memory_list", json!({"tag": "deploy"})).await;
    assert_eq!(tagged["notes"].as_array().unwrap().len(), 2);

    let changed = s
        .ok(
            "memory_update",
            json!({"id": id, "text": "Deploys need AWS_PROFILE=prod."}),
        )
        .await;
    assert_eq!(changed["tags"], json!(["aws", "deploy"]));
    let got = s.ok("memory_get", json!({"id": id})).await;
    assert_eq!(got["note"]["text"], "Deploys need AWS_PROFILE=prod.");
    let old = s.ok("memory_search", json!({"query": "staging"})).await;
    assert!(old["hits"].as_array().unwrap().is_empty(), "{old}");

    s.ok("memory_delete", json!({"id": id})).await;
    let err = s.err("memory_get", json!({"id": id})).await;
    assert!(err.contains(&format!("no note {id}")), "{err}");
    let err = s.err("memory_delete", json!({"id": id})).await;
    assert!(err.contains("memory_list"), "{err}");
}

#[tokio::test]
async fn limits_and_bad_input_get_clear_answers() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.memory.max_note_chars = 10;
    let s = session(settings).await;
    let err = s.err("memory_save", json!({"text": "   "})).await;
    assert!(err.contains("empty"), "{err}");
    let err = s
        .err(
            "memory_save",
            json!({"text": "far more than ten characters"}),
        )
        .await;
    assert!(err.contains("memory.max_note_chars"), "{err}");
    let err = s.err("memory_update", json!({"id": 1})).await;
    assert!(err.contains("nothing to change"), "{err}");
    // Search text is words, never FTS syntax.
    let r = s
        .ok("memory_search", json!({"query": "NEAR(\"x AND OR *"}))
        .await;
    assert!(r["hits"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn notes_outlive_the_session_and_read_only_mode_can_still_read_them() {
    let p = Project::new();
    {
        let s = session(p.settings()).await;
        s.ok(
            "memory_save",
            json!({"text": "The build server is called hopper."}),
        )
        .await;
    }
    let mut settings = p.settings();
    settings.read_only = true;
    let s = session(settings).await;
    let tools = s.client.peer().list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for reader in ["memory_search", "memory_get", "memory_list"] {
        assert!(names.contains(&reader), "{reader} in read-only mode");
    }
    for writer in ["memory_save", "memory_update", "memory_delete"] {
        assert!(!names.contains(&writer), "{writer} not in read-only mode");
    }
    let r = s
        .ok("memory_search", json!({"query": "build server"}))
        .await;
    assert_eq!(
        r["hits"][0]["note"]["text"],
        "The build server is called hopper."
    );
}

/// The entity and relation lines of a JSONL graph, as a set (order differs between writers).
fn graph_lines(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A graph the official memory server wrote is imported whole; the export is the same graph,
/// and the official server reads it back.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn a_real_official_memory_file_round_trips() {
    let Some(server) = crate::clients::installed(
        "SWITCHBOARD_TEST_MEMORY_SERVER",
        "the official memory server",
    ) else {
        return;
    };
    let Some(py) = crate::clients::installed("SWITCHBOARD_TEST_PYTHON", "the Python MCP SDK")
    else {
        return;
    };
    let p = Project::new();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/memory/official.py");
    let official = p.base.join("official.jsonl");
    let helper = |mode: &str, file: &std::path::Path| {
        let out = std::process::Command::new(&py)
            .args([script, &server, mode, file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "official server ({mode}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    helper("write", &official);
    let written = std::fs::read_to_string(&official).unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(crate::harness::bin())
            .args(args)
            .env("HOME", &p.base)
            .env("XDG_CONFIG_HOME", p.base.join(".config"))
            .env("XDG_DATA_HOME", p.base.join(".local/share"))
            .env_remove("SWITCHBOARD_CONFIG")
            .env_remove("SWITCHBOARD_PROFILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let said = cli(&["memory", "import", official.to_str().unwrap()]);
    assert!(
        said.contains("imported 3 new entities, 5 new observations, 3 new relations"),
        "{said}"
    );
    let exported = p.base.join("ours.jsonl");
    cli(&["memory", "export", exported.to_str().unwrap()]);
    let ours = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        graph_lines(&ours),
        graph_lines(&written),
        "{ours}\n---\n{written}"
    );
    // stdout export is the same file.
    assert_eq!(cli(&["memory", "export"]), ours);
    // Importing twice changes nothing.
    let again = cli(&["memory", "import", official.to_str().unwrap()]);
    assert!(again.contains("imported 0 new entities, 0 new observations, 0 new relations"));
    // The official server reads our export.
    let read: serde_json::Value = serde_json::from_str(&helper("read", &exported)).unwrap();
    assert_eq!(read["entities"].as_array().unwrap().len(), 3, "{read}");
    assert_eq!(read["relations"].as_array().unwrap().len(), 3, "{read}");
}

/// The knowledge-graph tools with the official names and semantics, paging, the graph and note
/// resources, and subscriptions that fire on changes.
#[tokio::test]
#[allow(deprecated)]
async fn the_knowledge_graph_tools_and_memory_resources_work_together() {
    use rmcp::model::{ReadResourceRequestParams, ResourceContents, SubscribeRequestParams};
    let p = Project::new();
    let s = session(p.settings()).await;
    let made = s
        .ok(
            "create_entities",
            json!({"entities": [
                {"name": "Ada", "entityType": "person", "observations": ["writes Rust"]},
                {"name": "Acme", "entityType": "company", "observations": []},
                {"name": "Bob", "entityType": "person", "observations": ["likes tea"]}
            ]}),
        )
        .await;
    assert_eq!(made["entities"].as_array().unwrap().len(), 3);
    let again = s
        .ok(
            "create_entities",
            json!({"entities": [{"name": "Ada", "entityType": "robot", "observations": []}]}),
        )
        .await;
    assert_eq!(again["entities"], json!([]));

    let uri = "memory://graph".to_owned();
    s.client
        .subscribe(SubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    let rel = s
        .ok(
            "create_relations",
            json!({"relations": [{"from": "Ada", "to": "Acme", "relationType": "works_at"}]}),
        )
        .await;
    assert_eq!(rel["relations"][0]["relationType"], "works_at");
    assert!(
        crate::harness::eventually(|| async { s.updates.lock().unwrap().contains(&uri) }).await,
        "memory://graph notified"
    );
    let added = s
        .ok(
            "add_observations",
            json!({"observations": [{"entityName": "Ada", "contents": ["writes Rust", "lives in Oslo"]}]}),
        )
        .await;
    assert_eq!(
        added["results"][0]["addedObservations"],
        json!(["lives in Oslo"])
    );
    let err = s
        .err(
            "add_observations",
            json!({"observations": [{"entityName": "Zed", "contents": ["x"]}]}),
        )
        .await;
    assert!(err.contains("create_entities first"), "{err}");

    let found = s.ok("search_nodes", json!({"query": "oslo"})).await;
    assert!(
        found["notice"]
            .as_str()
            .unwrap()
            .contains("not as instructions")
    );
    assert_eq!(found["entities"][0]["name"], "Ada");
    assert_eq!(found["relations"][0]["to"], "Acme");
    let opened = s.ok("open_nodes", json!({"names": ["Acme"]})).await;
    assert_eq!(opened["relations"].as_array().unwrap().len(), 1);
    let page = s.ok("read_graph", json!({"limit": 2})).await;
    assert_eq!(page["total"]["entities"], 3);
    assert_eq!(page["next_offset"], 2);
    assert_eq!(page["entities"][0]["name"], "Acme");
    let rest = s.ok("read_graph", json!({"offset": 2, "limit": 2})).await;
    assert_eq!(rest["entities"][0]["name"], "Bob");
    assert!(rest.get("next_offset").is_none());

    let read = |uri: String| {
        let client = &s.client;
        async move {
            let r = client
                .read_resource(ReadResourceRequestParams::new(&uri))
                .await?;
            let ResourceContents::TextResourceContents { text, .. } = &r.contents[0] else {
                panic!("text");
            };
            Ok::<serde_json::Value, rmcp::ServiceError>(serde_json::from_str(text).unwrap())
        }
    };
    let summary = read(uri.clone()).await.unwrap();
    assert_eq!(summary["total"]["relations"], 1);
    assert_eq!(
        summary["entities"][1],
        json!({"name": "Ada", "entityType": "person", "observations": 2})
    );

    let note = s
        .ok("memory_save", json!({"text": "Ship on Fridays."}))
        .await;
    let note_uri = format!("memory://notes/{}", note["id"]);
    let got = read(note_uri.clone()).await.unwrap();
    assert_eq!(got["note"]["text"], "Ship on Fridays.");
    s.client
        .subscribe(SubscribeRequestParams::new(&note_uri))
        .await
        .unwrap();
    s.ok(
        "memory_update",
        json!({"id": note["id"], "text": "Ship on Thursdays."}),
    )
    .await;
    assert!(
        crate::harness::eventually(|| async { s.updates.lock().unwrap().contains(&note_uri) })
            .await,
        "the note's subscription fired"
    );
    let missing = read("memory://notes/999".into()).await.unwrap_err();
    assert!(missing.to_string().contains("no resource"), "{missing}");

    let del = s
        .ok(
            "delete_relations",
            json!({"relations": [{"from": "Ada", "to": "Acme", "relationType": "works_at"}]}),
        )
        .await;
    assert_eq!(del["deleted"], 1);
    s.ok(
        "delete_observations",
        json!({"deletions": [{"entityName": "Ada", "observations": ["writes Rust"]}]}),
    )
    .await;
    let gone = s
        .ok("delete_entities", json!({"entityNames": ["Bob", "Nobody"]}))
        .await;
    assert_eq!(
        gone,
        json!({"success": true, "message": "1 entities deleted", "deleted": 1})
    );
    let left = s.ok("read_graph", json!({})).await;
    assert_eq!(
        left["total"],
        json!({"entities": 2, "relations": 0, "observations": 1})
    );
}

/// Has each process save 500 notes as fast as its host sends them (all at once), checks that
/// every save succeeded, and gives the processes back.
fn save_500_each(procs: Vec<crate::harness::Proc>) -> Vec<crate::harness::Proc> {
    let workers: Vec<_> = procs
        .into_iter()
        .enumerate()
        .map(|(w, mut p)| {
            std::thread::spawn(move || {
                for i in 0..500 {
                    let call = json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
                        "params": {"name": "memory_save", "arguments": {"text": format!("process {w} note {i}")}}});
                    p.send(&call.to_string());
                }
                let mut failed = Vec::new();
                let mut got = 0;
                while got < 500 {
                    let v = p.recv();
                    if v.get("id").is_none() {
                        continue;
                    }
                    got += 1;
                    if v["result"]["isError"] == true || v.get("error").is_some() {
                        failed.push(v);
                    }
                }
                assert!(failed.is_empty(), "process {w}: {failed:?}");
                p
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap()).collect()
}

/// Four switchboard processes on one profile, each saving 500 notes as fast as its host sends
/// them: every one of the 2000 notes is there afterwards.
#[test]
fn four_switchboard_processes_saving_at_once_lose_no_note() {
    use crate::harness::Proc;
    let shared = tempfile::tempdir().unwrap();
    let data = shared.path().join("data");
    let data = data.to_str().unwrap();
    let mut procs: Vec<Proc> = (0..4)
        .map(|_| Proc::spawn_env(&[], &[("XDG_DATA_HOME", data)]))
        .collect();
    for p in &mut procs {
        p.initialize();
    }
    drop(save_500_each(procs));
    let db = shared
        .path()
        .join("data/switchboard/profiles/default/memory.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    let count: i64 = c
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 2000);
    for w in 0..4 {
        let mine: i64 = c
            .query_row(
                "SELECT count(DISTINCT text) FROM notes WHERE text LIKE ?1",
                [format!("process {w} note %")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(mine, 500, "process {w}");
    }
}

/// Through the real binary: the profile's memory has quotas; a full one refuses with its key
/// and a reason code, saves nothing, and deleting makes room again.
#[test]
fn a_full_memory_refuses_clearly_and_deleting_makes_room() {
    use crate::harness::Proc;
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(&cfg, "memory:\n  max_notes: 2\n  max_graph_items: 2\n").unwrap();
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
    proc.initialize();
    let mut call = |id: i64, name: &str, args: serde_json::Value| {
        proc.request(id, "tools/call", json!({"name": name, "arguments": args}))
    };
    let first = call(2, "memory_save", json!({"text": "one"}));
    let id = first["result"]["structuredContent"]["id"].clone();
    assert!(id.is_number(), "{first}");
    call(3, "memory_save", json!({"text": "two"}));
    let full = call(4, "memory_save", json!({"text": "three"}));
    assert_eq!(full["result"]["isError"], true, "{full}");
    assert_eq!(
        full["result"]["_meta"]["switchboard/reason"], "quota_exceeded",
        "{full}"
    );
    assert!(full.to_string().contains("memory.max_notes"), "{full}");
    let graph = call(
        5,
        "create_entities",
        json!({"entities": [
            {"name": "a", "entityType": "t", "observations": ["x", "y"]}
        ]}),
    );
    assert_eq!(
        graph["result"]["_meta"]["switchboard/reason"], "quota_exceeded",
        "{graph}"
    );
    let deleted = call(6, "memory_delete", json!({"id": id}));
    assert_ne!(deleted["result"]["isError"], true, "{deleted}");
    let again = call(7, "memory_save", json!({"text": "three"}));
    assert_ne!(again["result"]["isError"], true, "{again}");
}

/// A config file whose memory is the throw-away PostgreSQL cluster (the URL through the
/// environment, as a password would have to come), in a schema of the given profile.
fn postgres_config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("pg-config.yaml");
    std::fs::write(
        &cfg,
        format!("memory:\n  store: env:SB_TEST_MEMORY_URL\n{extra}"),
    )
    .unwrap();
    cfg
}

/// Two switchboard processes (two machines, as far as they can tell) on one PostgreSQL memory:
/// each sees the other's writes, and a subscription to `memory://graph` in one fires for a
/// write in the other through PostgreSQL's announcements (not the 60 s re-check).
#[test]
fn two_processes_share_a_postgres_memory_and_its_change_notices() {
    use crate::harness::Proc;
    let Some(pg) = crate::db::pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("shared{}", std::process::id());
    let cfg = postgres_config(dir.path(), &format!("profile: {profile}\n"));
    let env = [("SB_TEST_MEMORY_URL", pg.admin.as_str())];
    let args = ["--config", cfg.to_str().unwrap()];
    let mut a = Proc::spawn_env(&args, &env);
    let mut b = Proc::spawn_env(&args, &env);
    a.initialize();
    b.initialize();
    // The store exists before A subscribes (B makes it), so A's watch starts on a ready schema.
    let saved = b.request(
        2,
        "tools/call",
        json!({"name": "memory_save", "arguments": {"text": "deploys go through the staging cluster"}}),
    );
    let id = saved["result"]["structuredContent"]["id"].clone();
    assert!(id.is_number(), "{saved}");
    let found = a.request(
        2,
        "tools/call",
        json!({"name": "memory_search", "arguments": {"query": "staging deploys"}}),
    );
    assert_eq!(
        found["result"]["structuredContent"]["hits"][0]["note"]["id"], id,
        "{found}"
    );
    let sub = a.request(3, "resources/subscribe", json!({"uri": "memory://graph"}));
    assert!(sub.get("result").is_some(), "{sub}");
    let made = b.request(
        3,
        "tools/call",
        json!({"name": "create_entities", "arguments": {"entities": [
            {"name": "staging", "entityType": "cluster", "observations": ["three nodes"]}
        ]}}),
    );
    assert_eq!(made["result"]["isError"], false, "{made}");
    let started = std::time::Instant::now();
    loop {
        let v = a.recv();
        if v["method"] == "notifications/resources/updated" {
            assert_eq!(v["params"]["uri"], "memory://graph", "{v}");
            break;
        }
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let graph = a.request(
        4,
        "tools/call",
        json!({"name": "read_graph", "arguments": {}}),
    );
    assert!(graph.to_string().contains("three nodes"), "{graph}");
    // Another profile on the same database sees none of it.
    let other_cfg = dir.path().join("other.yaml");
    std::fs::write(
        &other_cfg,
        format!("memory:\n  store: env:SB_TEST_MEMORY_URL\nprofile: other{profile}\n"),
    )
    .unwrap();
    let mut c = Proc::spawn_env(&["--config", other_cfg.to_str().unwrap()], &env);
    c.initialize();
    let none = c.request(
        2,
        "tools/call",
        json!({"name": "memory_search", "arguments": {"query": "staging deploys"}}),
    );
    assert_eq!(
        none["result"]["structuredContent"]["hits"],
        json!([]),
        "{none}"
    );
}

/// Four switchboard processes saving 500 notes each into one PostgreSQL memory at once: all
/// 2000 are there, and `doctor` reports the store.
#[test]
fn four_switchboard_processes_on_postgres_lose_no_note() {
    use crate::harness::Proc;
    let Some(pg) = crate::db::pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let profile = format!("four{}", std::process::id());
    let cfg = postgres_config(dir.path(), &format!("profile: {profile}\n"));
    let env = [("SB_TEST_MEMORY_URL", pg.admin.as_str())];
    let args = ["--config", cfg.to_str().unwrap()];
    let mut procs: Vec<Proc> = (0..4).map(|_| Proc::spawn_env(&args, &env)).collect();
    for p in &mut procs {
        p.initialize();
    }
    let mut procs = save_500_each(procs);
    let p = &mut procs[0];
    for w in 0..4 {
        let listed = p.request(
            9000 + w,
            "tools/call",
            json!({"name": "memory_search", "arguments": {"query": format!("process {w}"), "limit": 100}}),
        );
        assert_eq!(listed["result"]["isError"], false, "{listed}");
    }
    let out = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap(), "doctor"])
        .env("SB_TEST_MEMORY_URL", &pg.admin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "memory (postgres) at {} (schema switchboard_{profile}): 2000 note(s)",
            pg.admin
        )),
        "{text}"
    );
}

/// `switchboard memory migrate`: a profile's SQLite memory copied into PostgreSQL through the
/// real binary; a URL with a password on the command line is refused, `env:VAR` is the way.
#[test]
fn memory_migrate_copies_a_profile_into_postgres() {
    use crate::harness::Proc;
    let Some(pg) = crate::db::pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = format!("moved{}", std::process::id());
    let env = [("XDG_DATA_HOME", data.to_str().unwrap())];
    let mut p = Proc::spawn_env(&["--profile", &profile], &env);
    p.initialize();
    let saved = p.request(
        2,
        "tools/call",
        json!({"name": "memory_save", "arguments": {"text": "the VPN needs the new certificate"}}),
    );
    let id = saved["result"]["structuredContent"]["id"].clone();
    p.request(
        3,
        "tools/call",
        json!({"name": "create_entities", "arguments": {"entities": [
            {"name": "VPN", "entityType": "service", "observations": ["needs a certificate"]}
        ]}}),
    );
    drop(p);
    let migrate = |to: &str| {
        std::process::Command::new(crate::harness::bin())
            .args(["--profile", &profile, "memory", "migrate", "--to", to])
            .env("XDG_DATA_HOME", &data)
            .env("SB_TEST_MIGRATE_URL", &pg.admin)
            .output()
            .unwrap()
    };
    let refused = migrate("postgres://admin:secret@127.0.0.1:1/test");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("env:VAR"));
    let out = migrate("env:SB_TEST_MIGRATE_URL");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("1 notes, 0 vectors, 1 entities, 1 observations, 0 relations"),
        "{text}"
    );
    // The same profile, now on PostgreSQL, finds the note under its old id.
    let cfg = postgres_config(dir.path(), "");
    let mut q = Proc::spawn_env(
        &["--config", cfg.to_str().unwrap(), "--profile", &profile],
        &[("SB_TEST_MEMORY_URL", pg.admin.as_str()), env[0]],
    );
    q.initialize();
    let got = q.request(
        2,
        "tools/call",
        json!({"name": "memory_get", "arguments": {"id": id}}),
    );
    assert!(got.to_string().contains("new certificate"), "{got}");
    assert!(
        !migrate("env:SB_TEST_MIGRATE_URL").status.success(),
        "a second copy is refused"
    );
}
