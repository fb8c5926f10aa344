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
