//! The tools/, prompts/ and resources/ folders through the real protocol: declarative command
//! and HTTP tools under the same policies as the built-in ones, the shipped git tools, hot
//! reload seen by a client as list_changed, conflicts at start-up, rich prompts with embedded
//! resources and completion, the dynamic resources, and folder subscriptions.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, ContentBlock, GetPromptRequestParams, PromptReference,
    ReadResourceRequestParams, Reference, ResourceContents, Role, SubscribeRequestParams,
};
use serde_json::json;

use crate::harness::{Proc, Project, TestClient, eventually, session, session_with};

const ECHO_ARGS: &str = r#"
description: Print each argument in brackets, to show how values reach the program.
kind: command
annotations: {read_only: true}
parameters:
  text: {type: string, required: true, allow_leading_dash: true}
  flag: {type: string, description: "An option-like value, which may not start with a dash."}
  words: {type: array, items: {type: string}, default: []}
program: printf
args: ["[%s]", "{text}", {when: flag, args: ["{flag}"]}, "{words}"]
"#;

#[tokio::test]
async fn a_declared_command_gets_each_value_as_one_literal_argument() {
    let p = Project::new();
    let dir = p.base.join("tools");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("echo_args.yaml"), ECHO_ARGS).unwrap();
    let mut settings = p.settings();
    settings.tools.dirs = vec![dir];
    let s = session(settings).await;
    let tools = s.client.list_all_tools().await.unwrap();
    let tool = tools
        .iter()
        .find(|t| t.name == "echo_args")
        .expect("listed");
    assert_eq!(tool.input_schema["required"], json!(["text"]));
    assert_eq!(
        tool.annotations.as_ref().unwrap().read_only_hint,
        Some(true)
    );

    let hostile = "-rf ; touch PWNED && $(touch PWNED2) `touch PWNED3` 'q\" * >out |x";
    let out = s
        .ok_text(
            "echo_args",
            json!({"text": hostile, "words": ["two words", "*", "$HOME"]}),
        )
        .await;
    assert_eq!(out, format!("[{hostile}][two words][*][$HOME]"));
    for f in ["PWNED", "PWNED2", "PWNED3", "out"] {
        assert!(!p.root.join(f).exists(), "{f} was created: a shell ran");
    }
    // A value that could be read as an option is refused before anything runs.
    let err = s
        .err("echo_args", json!({"text": "x", "flag": "--output=/etc/x"}))
        .await;
    assert!(err.contains("may not start with `-`"), "{err}");
    let err = s
        .err("echo_args", json!({"text": "x", "words": ["ok", "-n"]}))
        .await;
    assert!(err.contains("item 1") && err.contains("`-`"), "{err}");
    let err = s.err("echo_args", json!({"txt": "x"})).await;
    assert!(err.contains("`arguments.txt`: unknown property"), "{err}");
    let err = s.err("echo_args", json!({})).await;
    assert!(err.contains("missing required property `text`"), "{err}");
    assert_eq!(
        s.ok_text("echo_args", json!({"text": "a", "flag": "b"}))
            .await,
        "[a][b]"
    );
}

#[tokio::test]
async fn the_shipped_git_tools_read_a_repository_and_refuse_options() {
    let p = Project::new();
    p.write("README.md", "# demo\n");
    p.write("src/lib.rs", "fn main() {}\n");
    p.git_init();
    p.write("README.md", "# demo\nchanged\n");
    let s = session(p.settings()).await;
    let status = s.ok_text("git_status", json!({})).await;
    assert!(status.contains(" M README.md"), "{status}");
    let log = s.ok_text("git_log", json!({"paths": ["src"]})).await;
    assert!(log.contains("Test: first commit"), "{log}");
    let diff = s.ok_text("git_diff", json!({"paths": ["README.md"]})).await;
    assert!(diff.contains("+changed"), "{diff}");
    // A new file has no diff until it is added; the answer says so instead of nothing.
    p.write("new.txt", "fresh\n");
    let empty = s.ok_text("git_diff", json!({"paths": ["new.txt"]})).await;
    assert!(
        empty.contains("git add") && empty.contains("git_status"),
        "{empty}"
    );
    let err = s
        .err("git_log", json!({"revision": "--output=/tmp/x"}))
        .await;
    assert!(
        err.contains("`arguments.revision`") && err.contains("pattern"),
        "{err}"
    );
    let err = s
        .err("git_diff", json!({"paths": [p.outside.join("secret.txt")]}))
        .await;
    assert!(err.contains("outside"), "{err}");
    let err = s.err("git_status", json!({"repo": "/"})).await;
    assert!(err.contains("outside"), "{err}");
}

/// The shipped git tools that change a repository, through the real binary: stage, unstage,
/// commit under the user's identity (the sandbox hides `~/.gitconfig`; `exec.git_identity`
/// passes the name and email), branches, switching, show. A repository's hooks never run, a
/// switch that would overwrite changes is refused, and values never become options.
#[test]
fn the_git_write_tools_stage_commit_branch_and_switch() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.write("README.md", "# demo\n");
    p.git_init();
    // Hooks of both kinds: the default folder and a configured hooksPath inside the root.
    let marker = p.root.join("hook-ran");
    for dir in [p.root.join(".git/hooks"), p.root.join(".git/myhooks")] {
        std::fs::create_dir_all(&dir).unwrap();
        for hook in ["pre-commit", "commit-msg", "post-commit", "post-checkout"] {
            let f = dir.join(hook);
            std::fs::write(&f, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@e",
            ])
            .args(args)
            .current_dir(&p.root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &p.base)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["config", "core.hooksPath", ".git/myhooks"]);
    let mut sb = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    std::fs::write(
        sb.home.path().join(".gitconfig"),
        "[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n",
    )
    .unwrap();
    sb.initialize();
    let mut id = 1;
    let mut call = |name: &str, args: serde_json::Value| -> (bool, String) {
        id += 1;
        let r = sb.request(id, "tools/call", json!({"name": name, "arguments": args}));
        let r = &r["result"];
        let text = r["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        (r["isError"] == true, text)
    };
    p.write("new.txt", "fresh\n");
    p.write("README.md", "# demo\nchanged\n");

    let (err, out) = call("git_add", json!({"paths": ["new.txt"]}));
    assert!(!err && out.starts_with("Staged."), "{out}");
    let (_, status) = call("git_status", json!({}));
    assert!(
        status.contains("A  new.txt") && status.contains(" M README.md"),
        "{status}"
    );
    let (err, out) = call("git_reset", json!({}));
    assert!(!err && out.contains("Unstaged"), "{out}");
    let (_, status) = call("git_status", json!({}));
    assert!(status.contains("?? new.txt"), "{status}");

    let (err, out) = call("git_add", json!({"paths": ["."]}));
    assert!(!err, "{out}");
    let (err, out) = call(
        "git_commit",
        json!({"message": "Add new.txt\n\nWith a body."}),
    );
    assert!(
        !err && out.contains("Add new.txt") && out.contains("2 files changed"),
        "{out}"
    );
    let (_, log) = call("git_log", json!({"max_count": 1}));
    assert!(log.contains("Ada Lovelace: Add new.txt"), "{log}");
    assert!(!marker.exists(), "a repository hook ran");
    let (err, out) = call("git_commit", json!({"message": "again"}));
    assert!(err && out.contains("nothing to commit"), "{out}");

    let (err, out) = call("git_create_branch", json!({"name": "feature/x"}));
    assert!(!err && out.contains("Branch created"), "{out}");
    let (_, branches) = call("git_branch", json!({}));
    assert!(
        branches.contains("feature/x") && branches.contains("* "),
        "{branches}"
    );
    let (err, out) = call("git_checkout", json!({"branch": "feature/x"}));
    assert!(!err && out.contains("Switched"), "{out}");
    let (_, status) = call("git_status", json!({}));
    assert!(status.starts_with("## feature/x"), "{status}");
    let (err, out) = call(
        "git_create_branch",
        json!({"name": "topic", "start_point": "HEAD", "checkout": true}),
    );
    assert!(!err, "{out}");
    let (_, status) = call("git_status", json!({}));
    assert!(status.starts_with("## topic"), "{status}");
    assert!(!marker.exists(), "a checkout hook ran");

    let (err, out) = call("git_show", json!({"revision": "HEAD:new.txt"}));
    assert!(!err && out == "fresh\n", "{out:?}");
    let (_, out) = call("git_show", json!({"stat_only": true}));
    assert!(
        out.contains("Author: Ada Lovelace <ada@example.com>")
            && out.contains("2 files changed")
            && !out.contains("@@"),
        "{out}"
    );

    // A switch that would overwrite an uncommitted change is refused; the change stays.
    git(&["switch", "-q", "-c", "other"]);
    std::fs::write(p.root.join("new.txt"), "on other\n").unwrap();
    git(&["commit", "-qam", "other"]);
    std::fs::write(p.root.join("new.txt"), "mine\n").unwrap();
    let (err, out) = call("git_checkout", json!({"branch": "topic"}));
    assert!(err && out.contains("would be overwritten"), "{out}");
    assert_eq!(
        std::fs::read_to_string(p.root.join("new.txt")).unwrap(),
        "mine\n"
    );

    for (tool, args) in [
        ("git_create_branch", json!({"name": "--force"})),
        ("git_checkout", json!({"branch": "--orphan=x"})),
        ("git_show", json!({"revision": "--output=/tmp/x"})),
        ("git_commit", json!({})),
        ("git_add", json!({"paths": []})),
    ] {
        let (err, out) = call(tool, args);
        assert!(err && out.contains("arguments"), "{tool}: {out}");
    }
    let (err, out) = call(
        "git_add",
        json!({"paths": [p.outside.join("x").to_str().unwrap()]}),
    );
    assert!(err && out.contains("outside"), "{out}");

    // Read-only mode offers the reading git tools only.
    let mut ro = Proc::spawn(&[
        "--root",
        p.root.to_str().unwrap(),
        "--read-only",
        "--exposure",
        "full",
    ]);
    ro.initialize();
    let list = ro.request(2, "tools/list", json!({})).to_string();
    for name in [
        "git_status",
        "git_log",
        "git_diff",
        "git_show",
        "git_branch",
    ] {
        assert!(list.contains(&format!("\"{name}\"")), "{name} missing");
    }
    for name in [
        "git_add",
        "git_reset",
        "git_commit",
        "git_create_branch",
        "git_checkout",
    ] {
        assert!(
            !list.contains(&format!("\"{name}\"")),
            "{name} offered read-only"
        );
    }
}

#[tokio::test]
async fn a_declared_http_tool_goes_through_the_network_policy() {
    let server = crate::net::Server::start().await;
    let p = Project::new();
    let dir = p.base.join("tools");
    std::fs::create_dir_all(&dir).unwrap();
    let base = format!("http://127.0.0.1:{}", server.port);
    std::fs::write(
        dir.join("lookup.yaml"),
        format!(
            r#"
description: Look an item up by id in the test service.
kind: http
annotations: {{read_only: true}}
parameters:
  id: {{type: string, required: true}}
url: "{base}/echo/{{id}}"
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("search.yaml"),
        format!(
            r#"
description: Search the test service (needs its key, from the config's credentials).
kind: http
annotations: {{read_only: true}}
parameters:
  q: {{type: string, required: true}}
url: "{base}/res/v1/web/search"
query: {{q: "{{q}}"}}
credential: search
output: {{format: json}}
"#
        ),
    )
    .unwrap();

    // Loopback is a private address: refused until web.allow lists it.
    let mut settings = p.settings();
    settings.tools.dirs = vec![dir.clone()];
    let s = session(settings.clone()).await;
    let err = s.err("lookup", json!({"id": "1"})).await;
    assert!(err.contains("web.allow"), "{err}");
    drop(s);

    settings.web.net.rules.allow = vec![
        switchboard::policy::net::AllowEntry::parse(&format!("127.0.0.1:{}", server.port)).unwrap(),
    ];
    settings.web.credentials.insert(
        "search".into(),
        switchboard::config::Credential {
            header: reqwest::header::HeaderName::from_static("x-subscription-token"),
            value: reqwest::header::HeaderValue::from_static("brave-key"),
            hosts: vec!["127.0.0.1".into()],
        },
    );
    let s = session(settings).await;
    let echoed = s.ok_text("lookup", json!({"id": "../admin?x=1#y z"})).await;
    assert!(
        echoed.starts_with("get /echo/..%2fadmin%3fx%3d1%23y%20z "),
        "the value stays one path segment: {echoed}"
    );
    let found = s.ok("search", json!({"q": "rust"})).await;
    assert_eq!(found["web"]["results"][0]["title"], "Brave hit");
}

fn counting_client() -> TestClient {
    TestClient::default()
}

#[tokio::test]
async fn files_dropped_into_the_folders_appear_without_a_restart() {
    let p = Project::new();
    let tools = p.base.join("conf/tools");
    let prompts = p.base.join("conf/prompts");
    let resources = p.base.join("conf/resources");
    std::fs::create_dir_all(p.base.join("conf")).unwrap();
    std::fs::create_dir_all(&prompts).unwrap();
    let mut settings = p.settings();
    // tools/ and resources/ do not exist yet: creating them is noticed too.
    settings.tools.dirs = vec![tools.clone()];
    settings.prompt_dirs = vec![prompts.clone()];
    settings.resource_dirs = vec![resources.clone()];
    let client = counting_client();
    let (tc, pc, rc) = (
        client.tools_changed.clone(),
        client.prompts_changed.clone(),
        client.resources_changed.clone(),
    );
    let log = client.log.clone();
    let s = session_with(settings, client).await;
    assert!(!s.tool_names().await.contains(&"hello".to_owned()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    std::fs::create_dir_all(&tools).unwrap();
    let hello = "description: Say hello.\nkind: command\nprogram: echo\nargs: [hello]\n";
    std::fs::write(tools.join("hello.yaml"), hello).unwrap();
    assert!(
        eventually(|| async { tc.load(Ordering::SeqCst) >= 1 }).await,
        "tools/list_changed"
    );
    assert!(s.tool_names().await.contains(&"hello".to_owned()));
    assert_eq!(s.ok_text("hello", json!({})).await.trim(), "hello");

    std::fs::write(
        prompts.join("greet.md"),
        "---\ndescription: Greet\n---\nSay hi.",
    )
    .unwrap();
    assert!(
        eventually(|| async { pc.load(Ordering::SeqCst) >= 1 }).await,
        "prompts/list_changed"
    );
    let names = s.prompt_names().await;
    assert!(names.contains(&"greet".to_owned()), "{names:?}");

    std::fs::create_dir_all(resources.join("docs")).unwrap();
    std::fs::write(
        resources.join("docs/notes.md"),
        "---\ntitle: Notes\n---\n# Notes\n",
    )
    .unwrap();
    assert!(
        eventually(|| async { rc.load(Ordering::SeqCst) >= 1 }).await,
        "resources/list_changed"
    );
    let uris = s.resource_uris().await;
    assert!(
        uris.contains(&"switchboard://resources/docs/notes.md".to_owned()),
        "{uris:?}"
    );

    // A broken edit keeps the previous version; a second file taking the name changes nothing.
    std::fs::write(tools.join("hello.yaml"), "description: [unclosed\n").unwrap();
    std::fs::write(tools.join("again.yaml"), format!("name: hello\n{hello}")).unwrap();
    assert!(
        eventually(|| async {
            let l = log.lock().unwrap();
            l.iter().any(|m| m.contains("previous version"))
                && l.iter().any(|m| m.contains("defined in both"))
        })
        .await,
        "the client is told: {:?}",
        log.lock().unwrap()
    );
    assert_eq!(s.ok_text("hello", json!({})).await.trim(), "hello");

    // Removing the files removes the tool.
    let before = tc.load(Ordering::SeqCst);
    std::fs::remove_file(tools.join("hello.yaml")).unwrap();
    std::fs::remove_file(tools.join("again.yaml")).unwrap();
    assert!(
        eventually(|| async { tc.load(Ordering::SeqCst) > before }).await,
        "list_changed on removal"
    );
    assert!(!s.tool_names().await.contains(&"hello".to_owned()));
    let err = s
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("hello"))
        .await;
    assert!(err.is_err(), "an unknown tool is a protocol error");
}

#[test]
fn a_name_defined_twice_stops_start_up_and_config_check_lists_every_problem() {
    let p = Project::new();
    let conf = p.base.join("conf");
    std::fs::create_dir_all(conf.join("tools")).unwrap();
    std::fs::create_dir_all(conf.join("prompts")).unwrap();
    let cfg = conf.join("config.yaml");
    std::fs::write(&cfg, "{}\n").unwrap();
    let tool = "name: same\ndescription: x\nkind: command\nprogram: echo\n";
    std::fs::write(conf.join("tools/a.yaml"), tool).unwrap();
    std::fs::write(conf.join("tools/b.yaml"), tool).unwrap();
    std::fs::write(
        conf.join("tools/read_file.yaml"),
        "description: x\nkind: command\nprogram: cat\n",
    )
    .unwrap();
    std::fs::write(conf.join("prompts/broken.md"), "---\nname: [x\n---\n").unwrap();
    let out = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap()])
        .env("HOME", &p.base)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("tools/a.yaml") && err.contains("tools/b.yaml") && err.contains("`same`"),
        "{err}"
    );
    assert!(err.contains("built-in tool"), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    // With the host's pipe still open, the server stops by itself as soon as it has read the
    // folders.
    let mut child = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap()])
        .env("HOME", &p.base)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
    let out = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .env("HOME", &p.base)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 problem(s)"), "{text}");
    assert!(
        text.contains("broken.md") && text.contains("`same`"),
        "{text}"
    );
}

#[tokio::test]
async fn prompts_have_sections_choices_completion_and_embedded_files() {
    let p = Project::new();
    p.write("src/lib.rs", "pub fn answer() -> u32 { 42 }\n");
    p.write("src/main.rs", "");
    let dir = p.base.join("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("review_file.md"),
        "---\ndescription: Review one file\narguments:\n  - name: path\n    required: true\n    complete: path\n  - name: depth\n    enum: [quick, thorough]\n---\n## user\nReview {{path}} ({{depth}}):\n{{resource:{path}}}\n## assistant\nI read it.\n## user\nNow list the problems.\n",
    )
    .unwrap();
    let mut settings = p.settings();
    settings.prompt_dirs = vec![dir];
    let s = session(settings).await;
    let mut args = serde_json::Map::new();
    args.insert("path".into(), json!("src/lib.rs"));
    args.insert("depth".into(), json!("quick"));
    let got = s
        .client
        .get_prompt(GetPromptRequestParams::new("review_file").with_arguments(args.clone()))
        .await
        .unwrap();
    let roles: Vec<Role> = got.messages.iter().map(|m| m.role.clone()).collect();
    assert_eq!(roles, [Role::User, Role::User, Role::Assistant, Role::User]);
    let ContentBlock::Text(t) = &got.messages[0].content else {
        panic!("{:?}", got.messages[0])
    };
    assert_eq!(t.text, "Review src/lib.rs (quick):");
    let ContentBlock::Resource(r) = &got.messages[1].content else {
        panic!("{:?}", got.messages[1])
    };
    let ResourceContents::TextResourceContents { uri, text, .. } = &r.resource else {
        panic!()
    };
    assert_eq!(
        uri,
        &format!("file://{}", p.root.join("src/lib.rs").display())
    );
    assert!(text.contains("42"));

    args.insert("depth".into(), json!("sloppy"));
    let err = s
        .client
        .get_prompt(GetPromptRequestParams::new("review_file").with_arguments(args.clone()))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("quick, thorough"), "{err:?}");
    args.insert("depth".into(), json!("quick"));
    args.insert("path".into(), json!(p.outside.join("secret.txt")));
    let err = s
        .client
        .get_prompt(GetPromptRequestParams::new("review_file").with_arguments(args))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("outside"), "{err:?}");

    let complete = |arg: &str, value: &str| {
        CompleteRequestParams::new(
            Reference::Prompt(PromptReference::new("review_file")),
            ArgumentInfo::new(arg, value),
        )
    };
    let got = s.client.complete(complete("depth", "th")).await.unwrap();
    assert_eq!(got.completion.values, ["thorough"]);
    let prefix = format!("{}/src/m", p.root.display());
    let got = s.client.complete(complete("path", &prefix)).await.unwrap();
    assert_eq!(got.completion.values, [format!("{prefix}ain.rs")]);
}

#[tokio::test]
async fn dynamic_resources_describe_the_machine_the_config_and_the_calls() {
    let p = Project::new();
    let s = session(p.settings()).await;
    s.ok("current_time", json!({"timezone": "UTC"})).await;
    s.err("read_file", json!({"path": "/etc/passwd"})).await;
    let read = |uri: &str| {
        let uri = uri.to_owned();
        let client = &s.client;
        async move {
            let got = client
                .read_resource(ReadResourceRequestParams::new(&uri))
                .await
                .unwrap();
            match &got.contents[0] {
                ResourceContents::TextResourceContents { text, .. } => text.clone(),
                other => panic!("{other:?}"),
            }
        }
    };
    let stats: serde_json::Value =
        serde_json::from_str(&read("switchboard://stats").await).unwrap();
    assert_eq!(stats["tools"]["current_time"]["calls"], 1);
    assert_eq!(stats["tools"]["read_file"]["errors"], 1);
    assert!(stats["tools"]["current_time"]["p50_ms"].as_f64().is_some());
    let system: serde_json::Value =
        serde_json::from_str(&read("switchboard://system").await).unwrap();
    assert!(
        system["os"].is_string() || system["os_name"].is_string(),
        "{system}"
    );
    let config = read("switchboard://config").await;
    assert!(config.contains("max_read_bytes"), "{config}");
    let listed = s.resource_uris().await;
    for uri in [
        "switchboard://stats",
        "switchboard://system",
        "switchboard://config",
    ] {
        assert!(listed.contains(&uri.to_owned()), "{listed:?}");
    }
}

#[tokio::test]
#[allow(deprecated)]
async fn folder_subscriptions_report_changes_below_and_stop_when_unsubscribed() {
    let p = Project::new();
    p.write("watched/deep/a.txt", "1");
    let mut settings = p.settings();
    settings.max_subscriptions = 1;
    let s = session(settings).await;
    let uri = format!("file://{}", p.root.join("watched").display());
    let listing = s
        .client
        .read_resource(ReadResourceRequestParams::new(&uri))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &listing.contents[0] else {
        panic!()
    };
    assert_eq!(text, "deep/", "a folder resource reads as its listing");
    s.client
        .subscribe(SubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    let second = s
        .client
        .subscribe(SubscribeRequestParams::new(format!(
            "file://{}",
            p.root.join("watched/deep/a.txt").display()
        )))
        .await;
    assert!(
        format!("{second:?}").contains("resources.max_subscriptions"),
        "{second:?}"
    );
    s.ok(
        "write_file",
        json!({"path": "watched/deep/b.txt", "content": "new"}),
    )
    .await;
    assert!(
        eventually(|| async { s.updates.lock().unwrap().contains(&uri) }).await,
        "a change below the folder is reported"
    );
    s.client
        .unsubscribe(rmcp::model::UnsubscribeRequestParams::new(&uri))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.updates.lock().unwrap().clear();
    s.ok(
        "write_file",
        json!({"path": "watched/deep/c.txt", "content": "more"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        s.updates.lock().unwrap().is_empty(),
        "no updates after unsubscribing"
    );
    let err = s
        .client
        .subscribe(SubscribeRequestParams::new("switchboard://stats"))
        .await;
    assert!(format!("{err:?}").contains("read it again"), "{err:?}");
}
