//! The helper commands, run as a user would, and the README kept true to the code.

use std::process::Command;

use crate::harness::{Project, bin};

fn run(args: &[&str], home: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env_remove("SWITCHBOARD_CONFIG")
        .env_remove("SWITCHBOARD_PROFILE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tools_lists_the_catalogue() {
    let p = Project::new();
    let (code, out, _) = run(&["tools"], &p.base);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("read_file ")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("git_log ")),
        "declarative tools are listed: {out}"
    );
    let (_, json, _) = run(&["tools", "--json"], &p.base);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.as_array().unwrap().len() >= 15);
    let (_, ro, _) = run(&["--read-only", "tools"], &p.base);
    assert!(!ro.contains("write_file") && ro.contains("read_file"));
}

/// `tools --tokens`: a line per offered tool and each mode's total; toolsets shrink the full
/// list but not the compact one, and a bad toolset name is a configuration error.
#[test]
fn tools_tokens_prints_each_tool_and_each_modes_total() {
    let p = Project::new();
    let total = |out: &str, mode: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.starts_with(mode))
            .unwrap_or_else(|| panic!("no {mode} line in {out}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (code, all, _) = run(&["tools", "--tokens"], &p.base);
    assert_eq!(code, 0);
    assert!(
        all.lines().any(|l| l.trim_end().ends_with(" read_file")),
        "{all}"
    );
    assert!(all.contains("tools.exposure: auto: compact"), "{all}");
    let (code, files, _) = run(&["--toolsets", "files", "tools", "--tokens"], &p.base);
    assert_eq!(code, 0);
    assert!(!files.contains(" web_search"), "{files}");
    assert!(files.contains("tools.exposure: auto: full"), "{files}");
    assert!(total(&files, "full") < total(&all, "full") / 2);
    assert_eq!(total(&files, "compact"), total(&all, "compact"));
    assert!(total(&all, "compact") < 1800);
    let (code, _, err) = run(&["--toolsets", "files,shell", "tools"], &p.base);
    assert_eq!(code, 2);
    assert!(err.contains("`shell` is not a toolset"), "{err}");
}

#[test]
fn readme_tool_table_is_current() {
    let p = Project::new();
    let (_, table, _) = run(&["tools", "--markdown"], &p.base);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- tools:start -->\n")
        .expect("README has the tools:start marker")
        + "<!-- tools:start -->\n".len();
    let end = readme
        .find("<!-- tools:end -->")
        .expect("README has the tools:end marker");
    assert_eq!(
        &readme[start..end],
        table,
        "README's tool table is stale: paste the output of `switchboard tools --markdown`"
    );
}

#[test]
fn call_runs_one_tool() {
    let p = Project::new();
    p.write("a.txt", "content of a\n");
    let root = p.root.to_str().unwrap();
    let (code, out, _) = run(
        &["--root", root, "call", "read_file", r#"{"path":"a.txt"}"#],
        &p.base,
    );
    assert_eq!((code, out.as_str()), (0, "content of a\n\n"));
    let (code, out, _) = run(
        &[
            "--root",
            root,
            "call",
            "file_info",
            r#"{"path":"a.txt"}"#,
            "--json",
        ],
        &p.base,
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["line_count"], 1);
    let (code, out, _) = run(
        &[
            "--root",
            root,
            "call",
            "read_file",
            r#"{"path":"/etc/passwd"}"#,
        ],
        &p.base,
    );
    assert_eq!(code, 1, "isError gives exit code 1");
    assert!(out.contains("outside"));
    let (code, _, err) = run(&["call", "read_file", "not json"], &p.base);
    assert_eq!(code, 1);
    assert!(err.contains("not valid JSON"));
}

/// `call` reaches a child server's tool: it starts the children and waits for them (within
/// `proxy.startup_wait_ms`) like a host's first call does.
#[test]
fn call_reaches_a_child_servers_tool() {
    let p = Project::new();
    let child = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/children/child_server.py"
    );
    let servers = p.base.join("servers.json");
    let entry = serde_json::json!({"command": "python3", "args": [child, "good"],
        "env": {"STATE_DIR": p.base.display().to_string()}});
    std::fs::write(
        &servers,
        serde_json::json!({"mcpServers": {"kid": entry}}).to_string(),
    )
    .unwrap();
    let servers = servers.to_str().unwrap();
    let (code, _, err) = run(&["--servers", servers, "proxy", "approve", "kid"], &p.base);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(
        &[
            "--servers",
            servers,
            "call",
            "kid__echo",
            r#"{"text":"from the cli"}"#,
        ],
        &p.base,
    );
    assert_eq!((code, out.trim_end()), (0, "echo: from the cli"), "{err}");
    // A wrong argument is named, as on every route.
    let (code, out, _) = run(
        &["--servers", servers, "call", "kid__echo", r#"{"text": 5}"#],
        &p.base,
    );
    assert_eq!(code, 1);
    assert!(out.contains("`arguments.text`: expected string"), "{out}");
}

#[test]
fn config_commands() {
    let p = Project::new();
    let cfg = p.write(
        "config.yaml",
        "files:\n  roots: [\".\"]\n  protected: [\"env:PROTECT_GLOB\"]\nprofile: work\n",
    );
    let c = cfg.to_str().unwrap();
    let out = Command::new(bin())
        .args(["--config", c, "config", "show"])
        .env("PROTECT_GLOB", "*.key")
        .env("HOME", &p.base)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("env:PROTECT_GLOB (set, redacted)") && !shown.contains("*.key"),
        "{shown}"
    );
    assert!(
        shown.contains("profile: work") && shown.contains("max_entries: 1000"),
        "defaults are shown: {shown}"
    );
    let out = Command::new(bin())
        .args(["--config", c, "config", "check"])
        .env("PROTECT_GLOB", "*.key")
        .env("HOME", &p.base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new(bin())
        .args(["--config", c, "config", "path"])
        .env("PROTECT_GLOB", "*.key")
        .env("HOME", &p.base)
        .output()
        .unwrap();
    let paths = String::from_utf8_lossy(&out.stdout);
    assert!(
        paths.contains(c) && paths.contains("profiles/work"),
        "{paths}"
    );
    let (code, _, err) = run(&["--profile", "Bad Name", "config", "check"], &p.base);
    assert_eq!(code, 2);
    assert!(err.contains("profile"), "{err}");
}

#[test]
fn profiles_keep_state_apart() {
    let p = Project::new();
    let (_, a, _) = run(&["--profile", "alice", "config", "path"], &p.base);
    let (_, b, _) = run(&["--profile", "bob", "config", "path"], &p.base);
    let data = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("data dir"))
            .unwrap()
            .to_owned()
    };
    assert_ne!(data(&a), data(&b));
    assert!(data(&a).ends_with("profiles/alice"));
}

#[test]
fn doctor_and_install_snippet() {
    let p = Project::new();
    let (code, out, err) = run(&["--root", p.root.to_str().unwrap(), "doctor"], &p.base);
    assert_eq!(code, 0, "{out}");
    // Its report is the output: no log lines mixed in unless a level is asked for.
    assert!(!err.contains(" INFO ") && !err.contains(" WARN "), "{err}");
    // With no browser, doctor says how to install one (the browser tools say the same).
    let no_browser = p.write(
        "no-browser.yaml",
        "browser:\n  executable: /nonexistent/chromium\n",
    );
    let (code, out, _) = run(
        &[
            "--root",
            p.root.to_str().unwrap(),
            "--config",
            no_browser.to_str().unwrap(),
            "doctor",
        ],
        &p.base,
    );
    assert_eq!(code, 0, "a missing browser is a warning: {out}");
    assert!(
        out.contains("warn browser tools") && out.contains("apt install chromium"),
        "{out}"
    );
    assert!(
        out.contains("ok   MCP self-test") && out.contains("is writable"),
        "{out}"
    );
    assert!(
        out.contains("ok   database local (sqlite, writable)"),
        "{out}"
    );
    let bad = p.write("prompts/broken.md", "---\nnot: [valid\n---\n");
    let cfg = p.write(
        "config.yaml",
        "database:\n  connections:\n    gone: {url: \"sqlite:///nonexistent/x.db\"}\n",
    );
    let (code, out, _) = run(&["--config", cfg.to_str().unwrap(), "doctor"], &p.base);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL prompt file") && out.contains(bad.to_str().unwrap()),
        "{out}"
    );
    assert!(
        out.contains("FAIL database gone (sqlite, read-only)") && out.contains("cannot be opened"),
        "{out}"
    );
    let servers = p.write("servers.json", r#"{"mcpServers": {}}"#);
    // The options given with the command are the entry's arguments, paths made absolute (in
    // the order the entry gives them).
    let given = [
        "--root",
        p.root.to_str().unwrap(),
        "--profile",
        "work",
        "--servers",
        servers.to_str().unwrap(),
        "--toolsets",
        "files,web",
        "--exposure",
        "full",
    ];
    for host in ["claude", "vscode", "cursor", "zed"] {
        let mut argv = given.to_vec();
        argv.extend(["install-snippet", host]);
        let (code, out, _) = run(&argv, &p.base);
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let entry = match host {
            "vscode" => &v["servers"]["switchboard"],
            "zed" => &v["context_servers"]["switchboard"],
            _ => &v["mcpServers"]["switchboard"],
        };
        assert!(std::path::Path::new(entry["command"].as_str().unwrap()).is_absolute());
        let args: Vec<&str> = entry["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args, given, "{host}");
    }
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let p = Project::new();
    p.write("big.txt", "a line of text\n".repeat(100_000));
    let mut child = Command::new(bin())
        .args([
            "--root",
            p.root.to_str().unwrap(),
            "call",
            "read_file",
            r#"{"path":"big.txt"}"#,
        ])
        .env("HOME", &p.base)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        status.signal(),
        Some(libc::SIGPIPE),
        "like `head`, a broken pipe ends it: {status:?}"
    );
}
