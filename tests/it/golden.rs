//! The `tools/list` answer is pinned in `tests/golden/tools_list.json`, so any change to a tool's
//! name, description, schema or annotations shows up in review. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test golden`.

use crate::harness::{Project, session};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tools_list.json");

#[tokio::test]
async fn tools_list_matches_the_golden_file_and_is_deterministic() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let first = s.client.list_tools(None).await.unwrap();
    let second = s.client.list_tools(None).await.unwrap();
    let a = serde_json::to_string_pretty(&first.tools).unwrap();
    assert_eq!(
        a,
        serde_json::to_string_pretty(&second.tools).unwrap(),
        "tools/list is deterministic"
    );
    // run_code lists the interpreters found on this machine's PATH; the golden file does not.
    let mut pinned = serde_json::to_value(&first.tools).unwrap();
    for t in pinned.as_array_mut().unwrap() {
        if t["name"] == "run_code" {
            let langs = &mut t["inputSchema"]["properties"]["language"]["enum"];
            assert!(langs.as_array().is_some_and(|l| !l.is_empty()));
            *langs = serde_json::json!(["(interpreters found on PATH)"]);
        }
    }
    let a = serde_json::to_string_pretty(&pinned).unwrap();
    let names: Vec<&str> = first.tools.iter().map(|t| t.name.as_ref()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "tools are listed in name order");
    for t in &first.tools {
        let ann = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has annotations", t.name));
        assert!(
            ann.title.is_some() && ann.read_only_hint.is_some() && ann.destructive_hint.is_some(),
            "{}",
            t.name
        );
        assert!(
            t.name.len() <= 64
                && t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        assert!(
            t.description
                .as_ref()
                .is_some_and(|d| d.len() > 40 && d.len() < 400),
            "{} description",
            t.name
        );
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, format!("{a}\n")).unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN)
        .expect("golden file exists; create it with UPDATE_GOLDEN=1");
    assert_eq!(
        a.trim(),
        golden.trim(),
        "tools/list changed; review it and regenerate with UPDATE_GOLDEN=1"
    );
}

#[tokio::test]
async fn read_only_mode_registers_only_read_only_tools() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.read_only = true;
    let s = session(settings).await;
    let tools = s.client.list_all_tools().await.unwrap();
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
    assert!(tools.iter().any(|t| t.name == "read_file"));
    // No exec tool at all, not even the read-only process_read or process_list.
    assert!(
        !tools.iter().any(|t| t.name.starts_with("process_")
            || (t.name.starts_with("run_") && t.name != "run_workflow")),
        "exec tools in read-only mode"
    );
    // A workflow stays: it reaches only the tools this mode offers.
    assert!(tools.iter().any(|t| t.name == "run_workflow"));
    let err = s
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("write_file"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown tool"), "{err}");
}
