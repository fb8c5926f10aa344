//! Every file tool through the real protocol: the normal path and the edges a model hits.

use std::os::unix::fs::PermissionsExt;

use rmcp::model::ContentBlock;
use serde_json::json;

use crate::harness::{Project, TestClient, session, session_with, text};

#[tokio::test]
async fn list_roots_reports_configured_and_client_roots() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let out = s.ok("list_roots", json!({})).await;
    assert_eq!(out["roots"][0]["path"], p.root.display().to_string());
    assert_eq!(out["roots"][0]["source"], "command_line");

    // A client root inside the configured one narrows it; one outside is ignored.
    std::fs::create_dir_all(p.root.join("sub")).unwrap();
    let client = TestClient {
        roots: Some(vec![
            format!("file://{}", p.root.join("sub").display()),
            format!("file://{}", p.outside.display()),
        ]),
        ..Default::default()
    };
    let s = session_with(p.settings(), client).await;
    let out = s.ok("list_roots", json!({})).await;
    assert_eq!(out["roots"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        out["roots"][0]["path"],
        p.root.join("sub").display().to_string()
    );
    assert_eq!(out["roots"][0]["source"], "client");
    p.write("top.txt", "x");
    let err = s
        .err("read_file", json!({"path": p.root.join("top.txt")}))
        .await;
    assert!(err.contains("outside the allowed roots"), "{err}");
}

#[tokio::test]
#[allow(deprecated)]
async fn roots_list_changed_is_honoured() {
    let p = Project::new();
    p.write("a/one.txt", "1");
    p.write("b/two.txt", "2");
    let client = TestClient {
        roots: Some(vec![format!("file://{}", p.root.join("a").display())]),
        ..Default::default()
    };
    let changed = client.changed_roots.clone();
    let s = session_with(p.settings(), client).await;
    assert_eq!(
        s.ok_text("read_file", json!({"path": "one.txt"})).await,
        "1\n"
    );
    assert!(
        s.err("read_file", json!({"path": p.root.join("b/two.txt")}))
            .await
            .contains("outside")
    );
    *changed.lock().unwrap() = Some(vec![format!("file://{}", p.root.join("b").display())]);
    s.client.notify_roots_list_changed().await.unwrap();
    let b = p.root.join("b").display().to_string();
    let now_b = crate::harness::eventually(|| async {
        s.ok("list_roots", json!({})).await["roots"][0]["path"] == b.as_str()
    })
    .await;
    assert!(now_b, "the new roots are in force");
    assert_eq!(
        s.ok_text("read_file", json!({"path": "two.txt"})).await,
        "2\n"
    );
    assert!(
        s.err("read_file", json!({"path": p.root.join("a/one.txt")}))
            .await
            .contains("outside")
    );
}

#[tokio::test]
async fn client_roots_are_used_when_none_are_configured() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.files.roots.clear();
    let s = crate::harness::session(settings.clone()).await;
    let err = s.err("read_file", json!({"path": "a.txt"})).await;
    assert!(
        err.contains("--root"),
        "no roots: the error says how to configure one: {err}"
    );
    let out = s.ok("list_roots", json!({})).await;
    assert!(out["note"].as_str().unwrap().contains("files.roots"));

    p.write("a.txt", "from client root\n");
    let client = TestClient {
        roots: Some(vec![format!("file://{}", p.root.display())]),
        ..Default::default()
    };
    let s = session_with(settings, client).await;
    assert!(
        s.ok_text("read_file", json!({"path": "a.txt"}))
            .await
            .contains("from client root")
    );
}

#[tokio::test]
async fn read_file_pages_and_says_how_to_continue() {
    let p = Project::new();
    let body: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    p.write("long.txt", &body);
    let mut settings = p.settings();
    settings.files.max_read_bytes = 200;
    let s = session(settings).await;
    let first = s.ok_text("read_file", json!({"path": "long.txt"})).await;
    assert!(first.starts_with("line 1\n"));
    let next: u64 = first
        .rsplit("offset=")
        .next()
        .unwrap()
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert!(first.contains("files.max_read_bytes"), "{first}");
    let second = s
        .ok_text("read_file", json!({"path": "long.txt", "offset": next}))
        .await;
    assert!(second.starts_with(&format!("line {next}\n")), "{second}");

    let page = s
        .ok_text(
            "read_file",
            json!({"path": "long.txt", "offset": 10, "limit": 3, "line_numbers": true}),
        )
        .await;
    assert!(
        page.contains("10\tline 10\n")
            && page.contains("12\tline 12\n")
            && !page.contains("line 13\n"),
        "{page}"
    );
    assert!(page.contains("offset=13"), "{page}");
    let tail = s
        .ok_text("read_file", json!({"path": "long.txt", "tail": 2}))
        .await;
    assert!(
        tail.starts_with("line 99\nline 100\n") && tail.contains("[lines 99-100 of 100]"),
        "{tail}"
    );
    let head = s
        .ok_text("read_file", json!({"path": "long.txt", "head": 2}))
        .await;
    assert!(head.starts_with("line 1\nline 2\n"), "{head}");
    let err = s
        .err("read_file", json!({"path": "long.txt", "offset": 500}))
        .await;
    assert!(err.contains("has 100 lines"), "{err}");
    let err = s
        .err(
            "read_file",
            json!({"path": "long.txt", "head": 1, "tail": 1}),
        )
        .await;
    assert!(err.contains("head or tail"), "{err}");
}

#[tokio::test]
async fn read_file_refuses_binary_and_marks_lossy_text() {
    let p = Project::new();
    p.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0binary");
    p.write("latin1.txt", b"caf\xe9\n");
    p.write("empty.txt", b"");
    let s = session(p.settings()).await;
    let err = s.err("read_file", json!({"path": "img.png"})).await;
    assert!(
        err.contains("binary") && err.contains("read_media"),
        "{err}"
    );
    let t = s.ok_text("read_file", json!({"path": "latin1.txt"})).await;
    assert!(
        t.contains("caf\u{fffd}") && t.contains("not valid UTF-8"),
        "{t}"
    );
    assert_eq!(
        s.ok_text("read_file", json!({"path": "empty.txt"})).await,
        "[empty file]"
    );
    let err = s.err("read_file", json!({"path": "."})).await;
    assert!(err.contains("folder"), "{err}");
    p.write("with space.txt", "spaced\n");
    let uri = format!("file://{}/with%20space.txt", p.root.display());
    assert_eq!(
        s.ok_text("read_file", json!({"path": uri})).await,
        "spaced\n",
        "file:// URIs are percent-decoded"
    );
    let err = s.err("read_file", json!({"path": "nope.txt"})).await;
    assert!(err.contains("does not exist"), "{err}");
    let r = s.call("read_file", json!({"path": "a", "bogus": 1})).await;
    assert_eq!(r.is_error, Some(true), "unknown arguments are refused");
}

#[tokio::test]
async fn read_media_returns_typed_content() {
    let p = Project::new();
    p.write("pic.bin", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let mut wav = b"RIFF\x24\0\0\0WAVEfmt ".to_vec();
    wav.extend_from_slice(&[0u8; 24]);
    p.write("sound.wav", &wav);
    p.write("a.zip", b"PK\x03\x04rest");
    let s = session(p.settings()).await;
    let r = s.call("read_media", json!({"path": "pic.bin"})).await;
    assert!(
        matches!(&r.content[1], ContentBlock::Image(i) if i.mime_type == "image/png"),
        "{:?}",
        r.content
    );
    let r = s.call("read_media", json!({"path": "sound.wav"})).await;
    assert!(matches!(&r.content[1], ContentBlock::Audio(a) if a.mime_type == "audio/wav"));
    let r = s.call("read_media", json!({"path": "a.zip"})).await;
    assert!(matches!(&r.content[1], ContentBlock::Resource(_)));
    let mut settings = p.settings();
    settings.files.max_media_bytes = 4;
    let s = session(settings).await;
    assert!(
        s.err("read_media", json!({"path": "pic.bin"}))
            .await
            .contains("files.max_media_bytes")
    );
}

#[tokio::test]
async fn read_many_gives_each_file_its_own_result() {
    let p = Project::new();
    p.write("a.txt", "alpha\n");
    p.write("b.txt", "beta\n");
    let s = session(p.settings()).await;
    let r = s
        .call(
            "read_many",
            json!({"paths": ["a.txt", "missing.txt", "b.txt"]}),
        )
        .await;
    assert_ne!(r.is_error, Some(true));
    assert_eq!(r.content.len(), 3);
    let all = text(&r);
    assert!(
        all.contains("=== a.txt ===\nalpha") && all.contains("=== b.txt ===\nbeta"),
        "{all}"
    );
    assert!(
        all.contains("=== missing.txt ===\nerror:") && all.contains("does not exist"),
        "{all}"
    );
    assert!(
        s.err("read_many", json!({"paths": []}))
            .await
            .contains("1 to 50")
    );
}

#[tokio::test]
async fn write_file_creates_replaces_and_appends() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let out = s
        .ok("write_file", json!({"path": "new.txt", "content": "one\n"}))
        .await;
    assert_eq!(out["created"], true);
    assert_eq!(out["bytes_written"], 4);
    std::fs::set_permissions(
        p.root.join("new.txt"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let out = s
        .ok("write_file", json!({"path": "new.txt", "content": "two\n"}))
        .await;
    assert_eq!(out["created"], false);
    assert_eq!(p.read("new.txt"), "two\n");
    let mode = std::fs::metadata(p.root.join("new.txt"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640, "replacing keeps permissions");
    s.ok(
        "write_file",
        json!({"path": "new.txt", "content": "three\n", "mode": "append"}),
    )
    .await;
    assert_eq!(p.read("new.txt"), "two\nthree\n");
    assert!(
        s.err(
            "write_file",
            json!({"path": "new.txt", "content": "x", "mode": "create"})
        )
        .await
        .contains("already exists")
    );
    let err = s
        .err(
            "write_file",
            json!({"path": "deep/er/f.txt", "content": "x"}),
        )
        .await;
    assert!(err.contains("create_parents"), "{err}");
    s.ok(
        "write_file",
        json!({"path": "deep/er/f.txt", "content": "x", "create_parents": true}),
    )
    .await;
    assert_eq!(p.read("deep/er/f.txt"), "x");
    assert!(
        s.err("write_file", json!({"path": "deep", "content": "x"}))
            .await
            .contains("folder")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&p.root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".switchboard-"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files are left behind");
}

#[tokio::test]
async fn edit_file_is_all_or_nothing_with_a_diff() {
    let p = Project::new();
    p.write(
        "code.py",
        "def f():\n    return 1\n\ndef g():\n    return 2\n",
    );
    let s = session(p.settings()).await;
    let dry = s
        .ok_text("edit_file", json!({"path": "code.py", "dry_run": true, "edits": [{"old": "return 1", "new": "return 10"}]}))
        .await;
    assert!(
        dry.contains("Dry run") && dry.contains("-    return 1") && dry.contains("+    return 10"),
        "{dry}"
    );
    assert!(
        p.read("code.py").contains("return 1\n"),
        "dry run changes nothing"
    );
    let err = s
        .err("edit_file", json!({"path": "code.py", "edits": [{"old": "return 1", "new": "return 10"}, {"old": "missing", "new": "x"}]}))
        .await;
    assert!(
        err.contains("edit 2") && err.contains("Nothing was changed"),
        "{err}"
    );
    assert!(
        p.read("code.py").contains("return 1\n"),
        "a failed edit changes nothing"
    );
    let done = s
        .ok_text("edit_file", json!({"path": "code.py", "edits": [{"old": "return 1", "new": "return 10"}, {"old": "  def g():\n        return 2", "new": "def g():\n    return 20"}]}))
        .await;
    assert!(done.starts_with("Applied 2 edit(s)"), "{done}");
    assert_eq!(
        p.read("code.py"),
        "def f():\n    return 10\n\ndef g():\n    return 20\n"
    );
    let err = s
        .err(
            "edit_file",
            json!({"path": "code.py", "edits": [{"old": "return", "new": "yield"}]}),
        )
        .await;
    assert!(
        err.contains("occurs 2 times") && err.contains("expected_count"),
        "{err}"
    );
}

#[tokio::test]
async fn directories_move_copy_and_delete() {
    let p = Project::new();
    p.write("tree/a.txt", "a");
    p.write("tree/sub/b.txt", "b");
    std::os::unix::fs::symlink(p.outside.join("secret.txt"), p.root.join("tree/out-link")).unwrap();
    let s = session(p.settings()).await;
    assert_eq!(
        s.ok("create_directory", json!({"path": "made/x/y"})).await["created"],
        true
    );
    assert_eq!(
        s.ok("create_directory", json!({"path": "made/x/y"})).await["created"],
        false
    );

    let out = s
        .ok(
            "copy_path",
            json!({"source": "tree", "destination": "tree2"}),
        )
        .await;
    assert_eq!(out["files"], 2, "{out}");
    assert!(
        out["skipped"][0]
            .as_str()
            .unwrap()
            .contains("outside the roots"),
        "{out}"
    );
    assert_eq!(p.read("tree2/sub/b.txt"), "b");
    assert!(
        s.err(
            "copy_path",
            json!({"source": "tree", "destination": "tree2"})
        )
        .await
        .contains("already exists")
    );
    assert!(
        s.err(
            "copy_path",
            json!({"source": "tree", "destination": "tree/inside"})
        )
        .await
        .contains("into itself")
    );

    p.write("big.txt", "b".repeat(200_000));
    p.write("small.txt", "s");
    let out = s
        .ok(
            "copy_path",
            json!({"source": "big.txt", "destination": "small.txt", "overwrite": true}),
        )
        .await;
    assert_eq!(out["bytes"], 200_000);
    assert_eq!(
        p.read("small.txt").len(),
        200_000,
        "an existing file is replaced by the copy"
    );
    p.write("one.txt", "1");
    p.write("two.txt", "2");
    assert!(
        s.err(
            "move_path",
            json!({"source": "one.txt", "destination": "two.txt"})
        )
        .await
        .contains("overwrite")
    );
    assert_eq!(p.read("two.txt"), "2");
    let out = s
        .ok(
            "move_path",
            json!({"source": "one.txt", "destination": "two.txt", "overwrite": true}),
        )
        .await;
    assert_eq!(out["replaced"], true);
    assert_eq!(p.read("two.txt"), "1");
    assert!(!p.root.join("one.txt").exists());
    s.ok(
        "move_path",
        json!({"source": "tree2", "destination": "moved/tree3", "create_parents": true}),
    )
    .await;
    assert_eq!(p.read("moved/tree3/a.txt"), "a");

    assert!(
        s.err("delete_path", json!({"path": "tree", "permanent": true}))
            .await
            .contains("recursive")
    );
    let out = s
        .ok(
            "delete_path",
            json!({"path": "tree", "recursive": true, "permanent": true}),
        )
        .await;
    assert_eq!(out["method"], "permanent");
    assert!(!p.root.join("tree").exists());
    assert!(
        p.outside.join("secret.txt").exists(),
        "deleting a folder never follows its symlinks"
    );
    let err = s
        .err(
            "delete_path",
            json!({"path": p.root, "recursive": true, "permanent": true}),
        )
        .await;
    assert!(err.contains("root"), "{err}");
}

#[tokio::test]
async fn list_directory_sorts_and_pages() {
    let p = Project::new();
    p.write("b.txt", "bb");
    p.write("a.txt", "aaaa");
    p.write(".hidden", "h");
    std::fs::create_dir(p.root.join("zdir")).unwrap();
    let s = session(p.settings()).await;
    let out = s.ok("list_directory", json!({})).await;
    let names: Vec<&str> = out["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["zdir", "a.txt", "b.txt"],
        "folders first, hidden left out"
    );
    assert_eq!(out["entries"][1]["size"], 4);
    assert!(
        out["entries"][1]["modified"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let out = s
        .ok(
            "list_directory",
            json!({"sort": "size", "limit": 1, "show_hidden": true}),
        )
        .await;
    assert_eq!(out["entries"][0]["path"], "a.txt");
    assert_eq!(out["next_offset"], 1);
    assert_eq!(out["total"], 4);
    assert!(
        s.err("list_directory", json!({"path": "a.txt"}))
            .await
            .contains("not a folder")
    );
}

#[tokio::test]
async fn directory_tree_respects_depth_and_gitignore() {
    let p = Project::new();
    p.write(".gitignore", "target/\n");
    p.write("src/main.rs", "");
    p.write("src/deep/er/x.rs", "");
    p.write("target/debug/junk", "");
    let s = session(p.settings()).await;
    let tree = s.ok_text("directory_tree", json!({"max_depth": 2})).await;
    assert!(
        tree.contains("  src/\n") && tree.contains("    main.rs\n") && tree.contains("    deep/\n"),
        "{tree}"
    );
    assert!(!tree.contains("er/") && !tree.contains("target"), "{tree}");
    let tree = s
        .ok_text(
            "directory_tree",
            json!({"gitignore": false, "max_entries": 2}),
        )
        .await;
    assert!(tree.contains("[stopped at 2 entries"), "{tree}");
}

#[tokio::test]
async fn find_files_filters_and_pages() {
    let p = Project::new();
    p.write("src/lib.rs", "x".repeat(100));
    p.write("src/main.rs", "");
    p.write("docs/guide.md", "");
    p.write("ignored/x.rs", "");
    p.write(".gitignore", "ignored/\n");
    let s = session(p.settings()).await;
    let out = s.ok("find_files", json!({"patterns": ["*.rs"]})).await;
    let paths: Vec<&str> = out["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{out}");
    assert!(paths[0].ends_with("src/lib.rs") && paths[1].ends_with("src/main.rs"));
    let out = s
        .ok("find_files", json!({"patterns": ["*.rs"], "min_size": 50}))
        .await;
    assert_eq!(out["total"], 1);
    let out = s
        .ok(
            "find_files",
            json!({"patterns": ["src/**"], "type": "file", "limit": 1}),
        )
        .await;
    assert_eq!(
        (out["total"].as_u64(), out["next_offset"].as_u64()),
        (Some(2), Some(1))
    );
    let out = s.ok("find_files", json!({"type": "dir"})).await;
    assert_eq!(out["total"], 2, "{out}");
    let out = s
        .ok(
            "find_files",
            json!({"patterns": ["*.rs"], "modified_after": "1h"}),
        )
        .await;
    assert_eq!(out["total"], 2);
    let out = s
        .ok(
            "find_files",
            json!({"patterns": ["*.rs"], "modified_before": "2000-01-01"}),
        )
        .await;
    assert_eq!(out["total"], 0);
    assert!(
        s.err("find_files", json!({"patterns": ["a["]}))
            .await
            .contains("not a valid glob")
    );
}

#[tokio::test]
async fn search_content_finds_with_context_and_skips_binary() {
    let p = Project::new();
    p.write("a.rs", "fn main() {\n    let needle = 1;\n}\n");
    p.write("b.txt", "Needle in caps\nno match\n");
    p.write("bin.dat", b"needle\0\0\0");
    p.write("skip/c.rs", "needle\n");
    p.write(".gitignore", "skip/\n");
    let s = session(p.settings()).await;
    let out = s
        .ok("search_content", json!({"pattern": "needle", "context": 1}))
        .await;
    assert_eq!(
        out["total"], 2,
        "smart case matches both; binary and ignored skipped: {out}"
    );
    let m = &out["matches"][0];
    assert!(m["path"].as_str().unwrap().ends_with("a.rs"));
    assert_eq!(m["line"], 2);
    assert_eq!(m["before"][0], "fn main() {");
    assert_eq!(m["after"][0], "}");
    let out = s.ok("search_content", json!({"pattern": "Needle"})).await;
    assert_eq!(
        out["total"], 1,
        "an upper-case letter makes smart case sensitive"
    );
    let out = s
        .ok(
            "search_content",
            json!({"pattern": "needle", "include": ["*.rs"], "gitignore": false}),
        )
        .await;
    assert_eq!(out["total"], 2);
    let out = s
        .ok(
            "search_content",
            json!({"pattern": "let needle = 1;", "literal": true, "max_results": 1}),
        )
        .await;
    assert_eq!(out["total"], 1);
    let out = s
        .ok("search_content", json!({"pattern": "e", "max_results": 1}))
        .await;
    assert_eq!(out["next_offset"], 1);
    assert!(
        s.err("search_content", json!({"pattern": "("}))
            .await
            .contains("literal: true")
    );
}

#[tokio::test]
async fn file_info_describes_files_and_folders() {
    let p = Project::new();
    p.write("d/a.txt", "1\n2\n3");
    p.write("d/e/b.txt", "xy");
    std::os::unix::fs::symlink(p.root.join("d/a.txt"), p.root.join("link")).unwrap();
    let s = session(p.settings()).await;
    let out = s.ok("file_info", json!({"path": "d/a.txt"})).await;
    assert_eq!(
        (
            out["type"].as_str(),
            out["line_count"].as_u64(),
            out["is_text"].as_bool()
        ),
        (Some("file"), Some(3), Some(true))
    );
    assert_eq!(out["mime"], "text/plain");
    let out = s.ok("file_info", json!({"path": "d"})).await;
    assert_eq!(
        (
            out["files"].as_u64(),
            out["folders"].as_u64(),
            out["size"].as_u64()
        ),
        (Some(2), Some(1), Some(7))
    );
    let out = s.ok("file_info", json!({"path": "link"})).await;
    assert_eq!(
        out["symlink_target"],
        p.root.join("d/a.txt").display().to_string()
    );
}

/// An edit that changes every line of a large file succeeds with a diff cut to a readable
/// size (never a failed answer after the file was written).
#[tokio::test]
async fn an_edit_of_every_line_answers_with_a_cut_diff() {
    let p = Project::new();
    p.write("big.txt", "item\n".repeat(200_000));
    let s = session(p.settings()).await;
    let r = s
        .call(
            "edit_file",
            json!({"path": "big.txt", "edits": [{"old": "item", "new": "ITEM", "expected_count": 200000}]}),
        )
        .await;
    let body = text(&r);
    assert_ne!(r.is_error, Some(true), "{}", &body[..body.len().min(500)]);
    assert!(
        body.contains("more diff line(s) not shown"),
        "{}",
        &body[..500]
    );
    assert!(body.len() < 300 * 1024, "{} bytes", body.len());
    assert_eq!(p.read("big.txt"), "ITEM\n".repeat(200_000));
}

/// The tail of a file whose last line is longer than one answer shows the start of that line
/// and says where to go on (the line is never held whole).
#[tokio::test]
async fn the_tail_of_a_giant_line_is_cut_with_its_place() {
    let p = Project::new();
    p.write("one.txt", format!("first\n{}\n", "ab".repeat(1_500_000)));
    let s = session(p.settings()).await;
    let r = s
        .ok("read_file", json!({"path": "one.txt", "tail": 1}))
        .await;
    let content = r.as_str().expect("read_file answers text");
    let end = &content[content.len().saturating_sub(200)..];
    assert!(content.len() < 300 * 1024, "{} bytes", content.len());
    assert!(content.contains("[line 2: bytes 0-"), "{end}");
    assert!(content.contains("of 3000001]"), "{end}");
}
