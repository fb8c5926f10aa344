//! The browser tools through MCP, with a real Chromium and loopback sites served by the test:
//! a login form, a page JavaScript renders, a multi-step form, screenshots, a PDF and an
//! upload in the roots, dialogs and tabs; what a page may not reach; and no browser process
//! left behind, whatever way switchboard ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::policy::net::AllowEntry;
use tokio::io::AsyncWriteExt;

use crate::harness::{Project, Session, session, session_modern, text};

/// A loopback site: each path answers its page (`/slow` never answers); every request is
/// kept as `METHOD /path body`.
struct Site {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

async fn site(pages: &[(&str, &str)]) -> Site {
    let pages: Arc<HashMap<String, String>> = Arc::new(
        pages
            .iter()
            .map(|(p, html)| (p.to_string(), html.to_string()))
            .collect(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let kept = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (pages, kept) = (pages.clone(), kept.clone());
            tokio::spawn(async move {
                let Some((head, body)) = crate::harness::read_http_request(&mut stream).await
                else {
                    return;
                };
                let body = String::from_utf8_lossy(&body);
                let mut first = head.lines().next().unwrap_or_default().split(' ');
                let method = first.next().unwrap_or_default().to_owned();
                let target = first.next().unwrap_or_default();
                let path = target.split('?').next().unwrap_or_default().to_owned();
                kept.lock().unwrap().push(format!("{method} {path} {body}"));
                if path == "/slow" {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                let answer = match pages.get(&path) {
                    Some(page) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Site { port, seen }
}

impl Site {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Settings whose web rules allow only the loopback `ports`.
fn settings(project: &Project, ports: &[u16]) -> switchboard::config::Settings {
    let mut s = project.settings();
    for p in ports {
        s.web
            .net
            .rules
            .allow
            .push(AllowEntry::parse(&format!("127.0.0.1:{p}")).unwrap());
    }
    s.browser.navigation_timeout = Duration::from_secs(20);
    s
}

/// Whether a browser is here to test with (scripts/test.sh installs one; the full run fails
/// without it).
fn have_browser() -> bool {
    let found = switchboard::browser::find(None, &std::env::var_os("PATH").unwrap_or_default());
    match found {
        Ok(_) => true,
        Err(e) if std::env::var_os("SWITCHBOARD_TEST_STRICT").is_some() => {
            panic!("the full test run needs a browser (scripts/test.sh installs one): {e}")
        }
        Err(e) => {
            eprintln!("browser tool tests skipped: {e}");
            false
        }
    }
}

/// The ref of the first snapshot line that contains every one of `words`.
fn ref_of(snapshot: &str, words: &[&str]) -> String {
    let line = snapshot
        .lines()
        .find(|l| words.iter().all(|w| l.contains(w)) && l.contains("[ref="))
        .unwrap_or_else(|| panic!("no element with {words:?} in:\n{snapshot}"));
    let at = line.find("[ref=").unwrap() + 5;
    line[at..line[at..].find(']').unwrap() + at].to_owned()
}

const LOGIN: &str = r#"<html><head><title>Sign in</title></head><body>
<form method="post" action="/welcome">
<label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form></body></html>"#;

const WELCOME: &str =
    "<html><head><title>Home</title></head><body><h1>Welcome back</h1></body></html>";

async fn log_in(s: &Session, site: &Site) {
    let page = s
        .ok_text("browser_navigate", json!({"url": site.url("/login")}))
        .await;
    assert!(page.contains("Sign in"), "{page}");
    let user = ref_of(&page, &["textbox", "Username"]);
    let pass = ref_of(&page, &["textbox", "Password"]);
    let after = s
        .ok_text(
            "browser_fill",
            json!({"fields": [{"ref": user, "value": "alice"}, {"ref": pass, "value": "s3cret"}], "submit": true}),
        )
        .await;
    assert!(after.contains("Welcome back"), "{after}");
    assert!(after.contains("submitted with Enter"), "{after}");
    let posted = site.seen.lock().unwrap().clone();
    assert!(
        posted
            .iter()
            .any(|r| r == "POST /welcome username=alice&password=s3cret"),
        "{posted:?}"
    );
}

#[tokio::test]
async fn a_login_form_is_filled_and_submitted_in_both_protocol_generations() {
    if !have_browser() {
        return;
    }
    let site = site(&[("/login", LOGIN), ("/welcome", WELCOME)]).await;
    let project = Project::new();
    let s = session(settings(&project, &[site.port])).await;
    log_in(&s, &site).await;
    let modern = session_modern(settings(&project, &[site.port]), Default::default()).await;
    log_in(&modern, &site).await;
}

#[tokio::test]
async fn a_rendered_list_and_a_multi_step_form_are_read_and_driven() {
    if !have_browser() {
        return;
    }
    let list = r#"<html><body><ul id="l"></ul><script>
      setTimeout(() => { for (const n of ['Apples', 'Pears', 'Plums']) {
        const li = document.createElement('li'); li.textContent = n; document.getElementById('l').append(li); } }, 300);
    </script></body></html>"#;
    let steps = r#"<html><body>
      <div id="one"><h2>Step 1</h2>
        <label>Country <select id="c"><option value="">Choose</option><option value="fr">France</option><option value="de">Germany</option></select></label>
        <label><input type="checkbox" id="t"> I accept the terms</label>
        <button onclick="document.getElementById('one').hidden = true; const two = document.getElementById('two'); two.hidden = false; two.querySelector('p').textContent = 'Country ' + document.getElementById('c').value + ', terms ' + document.getElementById('t').checked;">Next</button>
      </div>
      <div id="two" hidden><h2>Step 2</h2><p></p></div>
    </body></html>"#;
    let site = site(&[("/list", list), ("/steps", steps)]).await;
    let project = Project::new();
    let s = session(settings(&project, &[site.port])).await;
    s.ok_text("browser_navigate", json!({"url": site.url("/list")}))
        .await;
    let waited = s.ok_text("browser_wait", json!({"text": "Plums"})).await;
    for fruit in ["Apples", "Pears", "Plums"] {
        assert!(waited.contains(fruit), "{waited}");
    }
    let page = s
        .ok_text("browser_navigate", json!({"url": site.url("/steps")}))
        .await;
    let country = ref_of(&page, &["combobox", "Country"]);
    let terms = ref_of(&page, &["checkbox", "I accept the terms"]);
    let filled = s
        .ok_text(
            "browser_fill",
            json!({"fields": [{"ref": country, "value": "France"}, {"ref": terms, "value": "true"}]}),
        )
        .await;
    assert!(
        filled.contains("selected fr") && filled.contains("checked"),
        "{filled}"
    );
    let next = ref_of(&filled, &["button", "Next"]);
    let two = s.ok_text("browser_click", json!({"ref": next})).await;
    assert!(two.contains("Country fr, terms true"), "{two}");
    // A ref of the page before is refused once the page changed documents.
    s.ok_text("browser_navigate", json!({"go": "reload"})).await;
    let stale = s.err("browser_click", json!({"ref": next})).await;
    assert!(stale.contains("new snapshot"), "{stale}");
    let bad = s.err("browser_click", json!({"ref": "nothing"})).await;
    assert!(bad.contains("e42"), "{bad}");
}

/// The width and height a PNG says it has.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

fn image_of(r: &rmcp::model::CallToolResult) -> (Vec<u8>, String) {
    use base64::Engine;
    r.content
        .iter()
        .find_map(|c| match c {
            rmcp::model::ContentBlock::Image(i) => Some((
                base64::engine::general_purpose::STANDARD
                    .decode(&i.data)
                    .unwrap(),
                i.mime_type.clone(),
            )),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no image in {}", text(r)))
}

#[tokio::test]
async fn screenshots_a_pdf_an_upload_and_a_dialog_stay_in_the_roots() {
    if !have_browser() {
        return;
    }
    let page = r#"<html><head><title>Tools</title></head><body style="margin:0">
      <div role="img" aria-label="Red box" style="width:120px;height:80px;background:#c00"></div>
      <input type="file" id="f" aria-label="Attachment" onchange="document.getElementById('got').textContent = 'got ' + this.files[0].name + ' ' + this.files[0].size + ' bytes'">
      <p id="got">nothing yet</p>
      <button onclick="document.getElementById('answer').textContent = 'confirmed ' + confirm('Delete everything?')">Delete</button>
      <p id="answer">not asked</p>
      <div style="height:3000px">tall</div>
    </body></html>"#;
    let site = site(&[("/tools", page)]).await;
    let project = Project::new();
    project.write("data.txt", "hello world");
    let s = session(settings(&project, &[site.port])).await;
    let snap = s
        .ok_text("browser_navigate", json!({"url": site.url("/tools")}))
        .await;

    let viewport = s.call("browser_screenshot", json!({})).await;
    let (png, mime) = image_of(&viewport);
    assert_eq!(mime, "image/png");
    let (w, h) = png_size(&png);
    let full = s
        .call("browser_screenshot", json!({"full_page": true}))
        .await;
    let (fw, fh) = png_size(&image_of(&full).0);
    // The whole page is as tall as its content and as wide as the viewport less its scrollbar.
    assert!(
        fh > h && fh >= 3000 && fw <= w && fw + 40 >= w,
        "viewport {w}x{h}, full {fw}x{fh}"
    );
    let bx = ref_of(&snap, &["image", "Red box"]);
    let boxed = s.call("browser_screenshot", json!({"ref": bx})).await;
    let (bw, bh) = png_size(&image_of(&boxed).0);
    assert!(bw < w && bh < h && bw >= 100, "element {bw}x{bh}");

    let saved = s
        .ok_text(
            "browser_pdf",
            json!({"path": "out/page.pdf", "create_parents": true}),
        )
        .await;
    assert!(saved.contains("page.pdf"), "{saved}");
    let pdf = std::fs::read(project.root.join("out/page.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let outside = project.outside.join("page.pdf");
    let refused = s
        .err(
            "browser_pdf",
            json!({"path": outside.display().to_string()}),
        )
        .await;
    assert!(refused.contains("outside"), "{refused}");
    assert!(!outside.exists());

    let input = ref_of(&snap, &["Attachment"]);
    let up = s
        .ok_text(
            "browser_upload",
            json!({"ref": input, "paths": ["data.txt"]}),
        )
        .await;
    assert!(up.contains("got data.txt 11 bytes"), "{up}");
    let secret = project.outside.join("secret.txt").display().to_string();
    let no = s
        .err("browser_upload", json!({"ref": input, "paths": [secret]}))
        .await;
    assert!(no.contains("outside"), "{no}");

    let delete = ref_of(&snap, &["button", "Delete"]);
    let asked = s.ok_text("browser_click", json!({"ref": delete})).await;
    assert!(
        asked.contains("confirm dialog is open") && asked.contains("Delete everything?"),
        "{asked}"
    );
    let blocked = s.err("browser_click", json!({"ref": delete})).await;
    assert!(blocked.contains("browser_dialog"), "{blocked}");
    let answered = s.ok_text("browser_dialog", json!({"accept": true})).await;
    assert!(answered.contains("confirmed true"), "{answered}");
    let none = s.err("browser_dialog", json!({"accept": true})).await;
    assert!(none.contains("no dialog"), "{none}");
}

#[tokio::test]
async fn tabs_popups_logs_and_evaluate() {
    if !have_browser() {
        return;
    }
    let first = r#"<html><head><title>First</title></head><body>
      <a href="/second" target="_blank">Open second</a>
      <script>console.log('hello from the page'); fetch('/missing');</script></body></html>"#;
    let second = "<html><head><title>Second</title></head><body>Second page</body></html>";
    let site = site(&[("/first", first), ("/second", second)]).await;
    let project = Project::new();
    let s = session(settings(&project, &[site.port])).await;
    let names = s.tool_names().await;
    assert!(
        !names.contains(&"browser_evaluate".to_owned()),
        "evaluate is off by default"
    );
    let snap = s
        .ok_text("browser_navigate", json!({"url": site.url("/first")}))
        .await;
    let logs = s.ok_text("browser_logs", json!({})).await;
    assert!(logs.contains("[log] hello from the page"), "{logs}");
    assert!(logs.contains("/missing → 404"), "{logs}");
    let link = ref_of(&snap, &["link", "Open second"]);
    let clicked = s.ok_text("browser_click", json!({"ref": link})).await;
    assert!(clicked.contains("opened a new tab (tab 1)"), "{clicked}");
    assert!(clicked.contains("Second page"), "{clicked}");
    let listed = s.ok_text("browser_tabs", json!({})).await;
    assert!(
        listed.contains("  0: First") && listed.contains("* 1: Second"),
        "{listed}"
    );
    s.ok_text("browser_tabs", json!({"action": "select", "index": 0}))
        .await;
    let closed = s
        .ok_text("browser_tabs", json!({"action": "close", "index": 1}))
        .await;
    assert!(!closed.contains("Second"), "{closed}");
    let opened = s
        .ok_text(
            "browser_tabs",
            json!({"action": "open", "url": site.url("/second")}),
        )
        .await;
    assert!(opened.contains("* 1: Second"), "{opened}");
    let none = s
        .err("browser_tabs", json!({"action": "select", "index": 7}))
        .await;
    assert!(none.contains("no tab 7"), "{none}");

    let mut with_eval = settings(&project, &[site.port]);
    with_eval.browser.allow_evaluate = true;
    let e = session(with_eval).await;
    e.ok_text("browser_navigate", json!({"url": site.url("/second")}))
        .await;
    let v = e
        .ok_text(
            "browser_evaluate",
            json!({"expression": "document.title + ' ' + (20 + 22)"}),
        )
        .await;
    assert_eq!(v, "\"Second 42\"");
    let thrown = e
        .err("browser_evaluate", json!({"expression": "nope.nope"}))
        .await;
    assert!(thrown.contains("nope is not defined"), "{thrown}");
}

#[tokio::test]
async fn a_page_reaches_nothing_the_rules_refuse_and_says_what_was_blocked() {
    if !have_browser() {
        return;
    }
    let canary = site(&[("/", "canary")]).await;
    let c = canary.port;
    let hostile = format!(
        r#"<html><body><h1>Hostile</h1>
        <img src="http://127.0.0.1:{c}/img">
        <iframe src="http://127.0.0.1:{c}/frame"></iframe>
        <iframe src="http://169.254.169.254/latest/meta-data/"></iframe>
        <script>
          fetch('http://127.0.0.1:{c}/fetch').catch(() => {{}});
          const x = new XMLHttpRequest(); x.open('GET', 'http://127.0.0.1:{c}/xhr'); x.send();
          try {{ new WebSocket('ws://127.0.0.1:{c}/ws'); }} catch (e) {{}}
        </script></body></html>"#
    );
    let redirect = format!(
        "<html><head><meta http-equiv=\"refresh\" content=\"0; url=http://127.0.0.1:{c}/redirected\"></head><body>moving</body></html>"
    );
    let site = site(&[("/hostile", &hostile), ("/redirect", &redirect)]).await;
    let project = Project::new();
    project.write(
        "local.html",
        format!(
            "<html><body><p>local page</p><iframe src=\"file://{}\"></iframe></body></html>",
            project.outside.join("secret.txt").display()
        ),
    );
    let s = session(settings(&project, &[site.port])).await;
    s.ok_text("browser_navigate", json!({"url": site.url("/hostile")}))
        .await;
    s.ok_text("browser_wait", json!({"idle": true})).await;
    let logs = s.ok_text("browser_logs", json!({})).await;
    s.ok_text("browser_navigate", json!({"url": site.url("/redirect")}))
        .await;
    let moved = s.ok_text("browser_wait", json!({"idle": true})).await;
    let said = format!("{logs}\n{moved}");
    assert!(said.contains(&format!("127.0.0.1:{c}")), "{said}");
    assert!(said.contains("169.254.169.254"), "{said}");
    // Straight to a refused address: refused before the browser is asked.
    let direct = s
        .err("browser_navigate", json!({"url": canary.url("/")}))
        .await;
    assert!(direct.contains("web.allow"), "{direct}");
    let meta = s
        .err(
            "browser_navigate",
            json!({"url": "http://169.254.169.254/"}),
        )
        .await;
    assert!(meta.contains("169.254.169.254"), "{meta}");
    assert!(
        canary.seen.lock().unwrap().is_empty(),
        "the canary was reached: {:?}",
        canary.seen.lock().unwrap()
    );
    // Local files: inside the roots yes, its frame outside them no, the browser's pages never.
    let local = format!("file://{}", project.root.join("local.html").display());
    let read = s.ok_text("browser_navigate", json!({"url": local})).await;
    assert!(read.contains("local page"), "{read}");
    assert!(!read.contains("TOP-SECRET"), "{read}");
    let logs = s.ok_text("browser_logs", json!({})).await;
    assert!(logs.contains("secret.txt"), "{logs}");
    let outside = format!("file://{}", project.outside.join("secret.txt").display());
    let no = s.err("browser_navigate", json!({"url": outside})).await;
    assert!(no.contains("outside"), "{no}");
    for url in [
        "chrome://settings",
        "devtools://devtools/bundled/inspector.html",
        "javascript:alert(1)",
    ] {
        let e = s.err("browser_navigate", json!({"url": url})).await;
        assert!(e.contains("http or https"), "{url}: {e}");
    }
}

/// Clicks the download link `link`, then reads the page until an answer says where the
/// download went (the answer after the download ends).
async fn downloaded(s: &Session, link: &str) -> String {
    let mut said = s.ok_text("browser_click", json!({"ref": link})).await;
    for _ in 0..50 {
        if said.contains("The page downloaded") {
            break;
        }
        said = s.ok_text("browser_snapshot", json!({})).await;
    }
    said
}

#[tokio::test]
async fn downloads_are_saved_in_the_roots_under_a_bare_name_never_over_a_file() {
    if !have_browser() {
        return;
    }
    let page = r#"<html><body>
      <a href="/report.txt" download="report.txt">Report</a>
      <a href="/report.txt" download="../../escape.txt">Sneaky</a>
    </body></html>"#;
    let site = site(&[("/dl", page), ("/report.txt", "quarterly numbers")]).await;
    let project = Project::new();
    project.write("downloads/report.txt", "keep me");
    let s = session(settings(&project, &[site.port])).await;
    let snap = s
        .ok_text("browser_navigate", json!({"url": site.url("/dl")}))
        .await;
    let said = downloaded(&s, &ref_of(&snap, &["link", "Report"])).await;
    assert!(
        said.contains("saved as") && said.contains("report (2).txt"),
        "{said}"
    );
    assert_eq!(
        project.read("downloads/report (2).txt"),
        "quarterly numbers"
    );
    assert_eq!(project.read("downloads/report.txt"), "keep me");
    let said = downloaded(&s, &ref_of(&snap, &["link", "Sneaky"])).await;
    // The browser itself makes a bare name of it; it lands in the download folder.
    assert!(
        said.contains("saved as") && said.contains("escape.txt"),
        "{said}"
    );
    let landed: Vec<_> = std::fs::read_dir(project.root.join("downloads"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        landed.iter().any(|n| n.ends_with("escape.txt")),
        "{landed:?}"
    );
    assert!(!project.base.join("escape.txt").exists());
    assert!(!project.root.join("escape.txt").exists());
}

#[tokio::test]
async fn without_a_browser_the_tools_say_how_to_install_one() {
    let project = Project::new();
    let mut s = project.settings();
    s.browser.executable = Some(project.base.join("no-such-chromium"));
    let s = session(s).await;
    let r = s
        .call("browser_navigate", json!({"url": "about:blank"}))
        .await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(
        t.contains("apt install chromium") && t.contains("browser.executable"),
        "{t}"
    );
    let meta: Value = serde_json::to_value(&r.meta).unwrap();
    assert!(meta.to_string().contains("browser_unavailable"), "{meta}");
}

/// Processes whose command line names a fresh browser profile starting with `tag`.
fn browsers(tag: &str) -> usize {
    crate::exec::procs_matching("")
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(tag))
                .unwrap_or(false)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_browser_is_left_after_exit_kill_or_a_navigation_timeout() {
    use crate::harness::{Proc, eventually};
    if !have_browser() {
        return;
    }
    let site = site(&[("/", "<html><body>up and running</body></html>")]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "files:\n  roots: [\"{}\"]\nweb:\n  allow: [\"127.0.0.1:{}\"]\nbrowser:\n  navigation_timeout_secs: 2\n",
            dir.path().display(),
            site.port
        ),
    )
    .unwrap();
    for ending in ["exit", "kill -9"] {
        let mut p = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
        p.initialize();
        let tag = format!("switchboard-browser-{}-", p.child.id());
        p.request(2, "tools/list", json!({}));
        assert_eq!(
            browsers(&tag),
            0,
            "no browser before the first browser call"
        );
        let call = |url: String| json!({"name": "browser_navigate", "arguments": {"url": url}});
        // A page that never answers ends the call at the navigation timeout.
        let slow = p.request(3, "tools/call", call(site.url("/slow")));
        assert_eq!(slow["result"]["isError"], true, "{slow}");
        assert!(slow.to_string().contains("within 2 s"), "{slow}");
        // The tab is usable after it.
        let up = p.request(4, "tools/call", call(site.url("/")));
        assert!(up.to_string().contains("up and running"), "{up}");
        assert!(browsers(&tag) > 0, "the browser runs");
        if ending == "exit" {
            p.close_stdin();
            assert!(p.wait_exit(Duration::from_secs(20)).success());
        } else {
            p.child.kill().unwrap();
            p.child.wait().unwrap();
        }
        assert!(
            eventually(|| async { browsers(&tag) == 0 }).await,
            "{ending}: browser processes left: {}",
            browsers(&tag)
        );
        if ending == "exit" {
            let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&tag))
                .collect();
            assert!(left.is_empty(), "the fresh profile was left: {left:?}");
        }
    }
}

#[tokio::test]
async fn a_persistent_profile_keeps_a_login_and_is_used_by_one_session_at_a_time() {
    if !have_browser() {
        return;
    }
    let set = r#"<html><body><script>document.cookie = 'session=alice; max-age=3600; path=/';</script>set</body></html>"#;
    let show = r#"<html><body><p id="c"></p><script>document.getElementById('c').textContent = 'cookie ' + document.cookie;</script></body></html>"#;
    let site = site(&[("/set", set), ("/show", show)]).await;
    let project = Project::new();
    let persistent = |project: &Project| {
        let mut s = settings(project, &[site.port]);
        s.browser.profile = switchboard::config::browser::BrowserProfile::Persistent;
        s
    };
    let first = session(persistent(&project)).await;
    first
        .ok_text("browser_navigate", json!({"url": site.url("/set")}))
        .await;
    // While the first session's browser holds the profile, a second session says so.
    let second = session(persistent(&project)).await;
    let busy = second
        .err("browser_navigate", json!({"url": site.url("/show")}))
        .await;
    assert!(
        busy.contains("in use") && busy.contains("browser.profile: fresh"),
        "{busy}"
    );
    first._server.close_browser().await;
    let again = second
        .ok_text("browser_navigate", json!({"url": site.url("/show")}))
        .await;
    assert!(again.contains("cookie session=alice"), "{again}");
    let kept = persistent(&project).browser.persistent_dir;
    assert!(kept.starts_with(&project.data) && kept.is_dir(), "{kept:?}");
    // A fresh profile starts without it.
    let fresh = session(settings(&project, &[site.port])).await;
    let clean = fresh
        .ok_text("browser_navigate", json!({"url": site.url("/show")}))
        .await;
    assert!(!clean.contains("session=alice"), "{clean}");
}
