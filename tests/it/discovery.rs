//! Tool search against real child servers: the official filesystem, git, memory and time
//! servers, whose tools overlap switchboard's own. Their live tool lists must equal the
//! definitions the in-process quality test ranks (`tests/discovery/children_tools.json`), and
//! the child-server query set, run through `search_tools` over the protocol in both protocol
//! generations, must hold its floor, each result naming the server it comes from.
//! `scripts/test.sh` installs the servers; without them the test is skipped with a note,
//! except under `SWITCHBOARD_TEST_STRICT=1`, where it fails.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use switchboard::config::Settings;
use switchboard::policy::tools::Exposure;
use switchboard::support::queryset::{parse, parse_floors, score};

use crate::clients::installed;
use crate::harness::{Project, Session, TestClient, found, session, session_modern};

const SETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/discovery");

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(SETS).join(name)).unwrap()
}

/// The four official servers as children of a compact-mode switchboard, or `None` (skipped)
/// when they are not installed.
fn with_official_children(p: &Project) -> Option<Settings> {
    let fs = installed(
        "SWITCHBOARD_TEST_FILESYSTEM_SERVER",
        "the official filesystem server",
    )?;
    let memory = installed(
        "SWITCHBOARD_TEST_MEMORY_SERVER",
        "the official memory server",
    )?;
    let git = installed("SWITCHBOARD_TEST_GIT_SERVER", "the official git server")?;
    let time = installed("SWITCHBOARD_TEST_TIME_SERVER", "the official time server")?;
    p.write("README.md", "# a project\n");
    p.git_init();
    // The npm servers run on the Node installed beside them.
    let node_bin = Path::new(&fs).parent().unwrap().display().to_string();
    let path = format!("{node_bin}:{}", std::env::var("PATH").unwrap_or_default());
    let root = p.root.display().to_string();
    let servers = json!({"mcpServers": {
        "filesystem": {"command": fs, "args": [root], "env": {"PATH": path}},
        "memory": {"command": memory, "env": {"PATH": path,
            "MEMORY_FILE_PATH": p.base.join("memory.jsonl").display().to_string()}},
        "git": {"command": git, "args": ["--repository", root]},
        "time": {"command": time, "args": ["--local-timezone", "UTC"]},
    }});
    let file = p.base.join("servers_config.json");
    std::fs::write(&file, servers.to_string()).unwrap();
    let mut s = p.settings();
    s.proxy.servers_config = Some((file, "--servers"));
    s.tools.exposure = Exposure::Compact;
    Some(s)
}

/// `search_tools`' answer for `query`.
async fn search(s: &Session, query: &str) -> Value {
    s.ok("search_tools", json!({"query": query, "limit": 10}))
        .await
}

/// The child tools `search_tools` can see, by server: every tool the search for a server's
/// name brings up is that server's, so ask for each tool by its exposed name.
async fn live_names(
    s: &Session,
    fixture: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut live: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (alias, names) in fixture {
        for name in names {
            let exposed = format!("{alias}__{name}");
            let answer = search(s, &exposed).await;
            let first = &answer["tools"][0];
            if first["name"] == exposed.as_str() {
                assert_eq!(first["server"], alias.as_str(), "{first}");
                live.entry(alias.clone()).or_default().push(name.clone());
            }
        }
    }
    live
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn search_tools_ranks_the_official_servers_tools_beside_its_own() {
    let p = Project::new();
    let Some(settings) = with_official_children(&p) else {
        return;
    };
    let fixture: BTreeMap<String, Vec<Value>> =
        serde_json::from_str(&read("children_tools.json")).unwrap();
    let fixture_names: BTreeMap<String, Vec<String>> = fixture
        .iter()
        .map(|(alias, tools)| {
            let names = tools.iter().map(|t| t["name"].as_str().unwrap().to_owned());
            (alias.clone(), names.collect())
        })
        .collect();
    let total: usize = fixture_names.values().map(Vec::len).sum();

    for modern in [false, true] {
        let s = if modern {
            session_modern(settings.clone(), TestClient::default()).await
        } else {
            session(settings.clone()).await
        };
        // Every child is up once the search finds each of its tools by name. (Counting the
        // tools searched is no signal: switchboard's own outnumber the children's.) A child
        // such as the Python git server takes seconds to start on a busy machine.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut live = live_names(&s, &fixture_names).await;
        while live.values().map(Vec::len).sum::<usize>() < total
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            live = live_names(&s, &fixture_names).await;
        }

        // What the in-process test ranks is what the real servers offer.
        assert_eq!(
            live, fixture_names,
            "children_tools.json differs from the live servers: capture their tools/list again"
        );

        // The child-server set, through the protocol.
        let set = parse(&read("children.txt")).unwrap();
        let floors = parse_floors(&read("floors.txt")).unwrap();
        let floor = floors.iter().find(|f| f.set == "children").unwrap();
        let mut answers = Vec::new();
        for q in &set.queries {
            answers.push((q.text.clone(), search(&s, &q.text).await));
        }
        let scores = score(&set, &set.same, |text| {
            let (_, answer) = answers.iter().find(|(q, _)| q == text).unwrap();
            found(answer, "name")
        });
        eprintln!(
            "{}",
            scores.summary(if modern {
                "children (2026-07-28)"
            } else {
                "children"
            })
        );
        assert!(
            scores.holds(floor),
            "{}\n{}",
            scores.summary("children"),
            scores.report()
        );

        // Naming the server brings its tool first, and the result says where it comes from.
        let answer = search(&s, "use the git server to show the status").await;
        assert_eq!(answer["tools"][0]["name"], "git__git_status", "{answer}");
        assert_eq!(answer["tools"][0]["server"], "git");
        // Without a server named, switchboard's own tool comes first and the child's follows.
        let answer = search(&s, "read_file").await;
        assert_eq!(answer["tools"][0]["server"], "switchboard", "{answer}");
        let answer = search(&s, "list the files in a folder").await;
        let servers = found(&answer, "server");
        assert!(servers.contains(&"filesystem".to_owned()), "{answer}");
    }
}

/// A query or tool name the size of a whole frame gets a short answer that says what to do,
/// without echoing it back.
#[tokio::test]
async fn huge_queries_and_names_get_a_short_clear_answer() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.tools.exposure = Exposure::Compact;
    let s = session(settings).await;
    let huge: String = (0..300_000).map(|i| format!("w{i} ")).collect();
    let e = s.err("search_tools", json!({"query": huge})).await;
    assert!(
        e.contains("tools.max_search_query_chars"),
        "{}",
        &e[..e.len().min(300)]
    );
    assert!(e.len() < 400, "{} characters", e.len());
    let e = s
        .err("call_tool", json!({"name": huge, "arguments": {}}))
        .await;
    assert!(
        e.contains("at most 128 characters"),
        "{}",
        &e[..e.len().min(300)]
    );
    assert!(e.len() < 400, "{} characters", e.len());
    // A long but allowed query still searches.
    let long = "find where the configuration file is read ".repeat(20);
    let found = s.ok("search_tools", json!({"query": long})).await;
    assert!(!found["tools"].as_array().unwrap().is_empty(), "{found}");
}
