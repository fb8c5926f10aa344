//! The browser foundation with a real Chromium: found on the machine, started under the
//! supervisor, spoken to over the DevTools pipe, a loopback page (with JavaScript) read, and
//! no browser process left after a close or a drop.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use switchboard::browser::page::Page;
use switchboard::browser::{Browser, Launch};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::exec::procs_matching;
use crate::harness::bin;

/// The machine's Chromium; scripts/test.sh installs it, so there its absence fails the run.
fn chromium() -> Option<PathBuf> {
    let found = switchboard::browser::find(None, &std::env::var_os("PATH").unwrap_or_default());
    match found {
        Ok(p) => Some(p),
        Err(e) if std::env::var_os("SWITCHBOARD_TEST_STRICT").is_some() => {
            panic!("the full test run needs a browser (scripts/test.sh installs one): {e}")
        }
        Err(e) => {
            eprintln!("browser tests skipped: {e}");
            None
        }
    }
}

/// A loopback server: `/go` redirects to `redirect` (when given), anything else is `page`.
/// Returns the port and the count of connections it accepted.
async fn serve(
    page: String,
    redirect: Option<String>,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let (page, redirect) = (page.clone(), redirect.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let answer = match &redirect {
                    Some(to) if head.starts_with("GET /go ") => format!(
                        "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    ),
                    _ => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    ),
                };
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (port, hits)
}

/// A headless launch whose network rules allow only loopback `port`.
fn launch(exe: PathBuf, dir: &std::path::Path, port: u16) -> Launch {
    let rules = switchboard::policy::net::NetRules {
        allow: vec![
            switchboard::policy::net::AllowEntry::parse(&format!("127.0.0.1:{port}")).unwrap(),
        ],
        ..Default::default()
    };
    Launch {
        executable: exe,
        headless: true,
        user_data_dir: dir.to_path_buf(),
        start_timeout: Duration::from_secs(60),
        rules: std::sync::Arc::new(rules),
        files: std::sync::Arc::new(switchboard::browser::gate::NoFiles),
        max_download_bytes: 1024 * 1024,
    }
}

/// A headless browser on `profile` whose rules allow only loopback `port`.
async fn started(exe: PathBuf, profile: &std::path::Path, port: u16) -> Browser {
    Browser::start(&launch(exe, profile, port), std::path::Path::new(bin()))
        .await
        .unwrap()
}

/// A new tab of `browser` on the page the loopback server at `port` serves.
async fn tab_on(browser: &Browser, port: u16) -> Page {
    let page = Page::open(browser.cdp.clone(), Duration::from_secs(30))
        .await
        .unwrap();
    page.navigate(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    page
}

/// Every process of the browser that uses `dir` as its profile.
fn processes_of(dir: &std::path::Path) -> usize {
    procs_matching("")
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&dir.display().to_string()))
                .unwrap_or(false)
        })
        .count()
}

async fn gone(dir: &std::path::Path) -> bool {
    for _ in 0..100 {
        if processes_of(dir) == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_real_chromium_reads_a_page_and_leaves_nothing_behind() {
    let Some(exe) = chromium() else { return };
    let (port, _) = serve(
        "<html><head><title>Hello</title></head><body><script>document.body.dataset.x = 'js';</script></body></html>".into(),
        None,
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let sb = std::path::Path::new(bin());
    let browser = Browser::start(&launch(exe.clone(), profile.path(), port), sb)
        .await
        .unwrap();
    assert!(browser.version.contains("Chrome"), "{}", browser.version);
    assert!(processes_of(profile.path()) > 0);
    let page = tab_on(&browser, port).await;
    assert_eq!(
        page.evaluate("document.title + '|' + document.body.dataset.x")
            .await
            .unwrap(),
        "Hello|js"
    );
    // A form and a list JavaScript renders, read through the accessibility tree.
    let (form, _) = serve(
        r#"<html><head><title>Sign in</title></head><body><h1>Welcome back</h1>
<form><label>Email <input name="email" value="ann@example.com"></label>
<label><input type="checkbox" checked> Remember me</label>
<button type="submit">Sign in</button></form>
<ul id="list"></ul>
<script>for (const n of ["alpha", "beta", "gamma"]) { const li = document.createElement("li"); li.textContent = n; document.getElementById("list").append(li); }</script>
</body></html>"#
            .into(),
        None,
    )
    .await;
    let browser_form = Browser::start(
        &launch(chromium().unwrap(), &profile.path().join("form"), form),
        sb,
    )
    .await
    .unwrap();
    let form_page = tab_on(&browser_form, form).await;
    let snap = form_page.snapshot().await.unwrap();
    let text = snap.lines.join("\n");
    assert!(text.starts_with("- document \"Sign in\""), "{text}");
    assert!(
        text.contains("heading \"Welcome back\" [level=1]"),
        "{text}"
    );
    assert!(
        snap.lines.iter().any(|l| l.contains("textbox \"Email\" [ref=e")
            && l.ends_with(": \"ann@example.com\"")),
        "{text}"
    );
    assert!(
        text.contains("checkbox \"Remember me\" [checked=true] [ref=e"),
        "{text}"
    );
    assert!(text.contains("button \"Sign in\" [ref=e"), "{text}");
    for item in ["alpha", "beta", "gamma"] {
        assert!(text.contains(&format!("\"{item}\"")), "{text}");
    }
    browser_form.close().await;
    browser.close().await;
    assert!(gone(profile.path()).await, "the browser's processes ended");

    // Dropped without a close, the supervisor takes the whole tree down.
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(&launch(exe, profile.path(), port), sb)
        .await
        .unwrap();
    assert!(processes_of(profile.path()) > 0);
    drop(browser);
    assert!(
        gone(profile.path()).await,
        "a dropped browser's processes ended"
    );
}

/// A page on the allowed port reaches for a second loopback port and the metadata address
/// every way a page can: not one connection arrives, and the refusals say what was blocked.
#[tokio::test]
async fn a_page_reaches_nothing_the_network_rules_refuse() {
    use std::sync::atomic::Ordering;
    let Some(exe) = chromium() else { return };
    let (canary, canary_hits) = serve("canary".into(), None).await;
    let c = format!("http://127.0.0.1:{canary}");
    let page = format!(
        r#"<html><head><title>Reach</title></head><body>
<img src="{c}/img.png">
<iframe src="{c}/frame"></iframe>
<img src="http://169.254.169.254/latest/meta-data/">
<script>
window.tried = Promise.allSettled([
  fetch("{c}/fetch"),
  fetch("http://169.254.169.254/latest/meta-data/"),
  new Promise((ok, bad) => {{ const x = new XMLHttpRequest(); x.onload = ok; x.onerror = bad; x.open("GET", "{c}/xhr"); x.send(); }}),
  new Promise((ok, bad) => {{ const w = new WebSocket("ws://127.0.0.1:{canary}/ws"); w.onopen = ok; w.onerror = bad; }}),
  fetch("/go"),
]).then((r) => r.map((x) => x.status));
</script></body></html>"#
    );
    let redirect = format!("{c}/redirected");
    let (port, _) = serve(page, Some(redirect)).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = started(exe, profile.path(), port).await;
    let tab = tab_on(&browser, port).await;
    let settled = tab.evaluate("window.tried").await.unwrap();
    assert_eq!(
        settled,
        json!(["rejected", "rejected", "rejected", "rejected", "rejected"]),
        "every reach failed"
    );
    // A navigation to the canary is refused too.
    let _ = tab.navigate(&format!("{c}/top")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        canary_hits.load(Ordering::SeqCst),
        0,
        "the canary was reached"
    );
    let refused: Vec<String> = browser
        .socks
        .take_refusals()
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert!(
        refused.contains(&format!("127.0.0.1:{canary}")),
        "{refused:?}"
    );
    assert!(
        refused.contains(&"169.254.169.254:80".to_owned()),
        "{refused:?}"
    );
    browser.close().await;
}

/// A browser whose rules allow only the page's own server, and one tab on the page: the
/// profile folder (kept alive by the caller), the browser, the tab and the page's URL.
async fn opened(exe: PathBuf, page_html: &str) -> (tempfile::TempDir, Browser, Page, String) {
    let (port, _) = serve(page_html.to_owned(), None).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = started(exe, profile.path(), port).await;
    let page = switchboard::browser::page::Page::open(browser.cdp.clone(), Duration::from_secs(30))
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    page.navigate(&base).await.unwrap();
    (profile, browser, page, base)
}

/// The ref of the first snapshot line that contains `needle`.
fn ref_of(lines: &[String], needle: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no `{needle}` in:\n{}", lines.join("\n")));
    let at = line.find("[ref=").unwrap() + 5;
    line[at..].split(']').next().unwrap().to_owned()
}

/// Polls `expression` until it is `want` (a page that navigates or updates on its own).
async fn until(page: &Page, expression: &str, want: serde_json::Value) {
    for _ in 0..200 {
        if page.evaluate(expression).await.ok().as_ref() == Some(&want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("`{expression}` never became {want}");
}

#[tokio::test]
async fn forms_are_filled_clicked_and_submitted_and_screenshots_are_pngs() {
    let Some(exe) = chromium() else { return };
    let (port, _) = serve(
        r#"<html><head><title>Steps</title></head><body>
<form action="/done" method="get">
  <div id="one"><label>Email <input name="email"></label>
  <label>Password <input name="password" type="password"></label>
  <label>Plan <select name="plan"><option value="free">Free</option><option value="pro">Pro</option></select></label>
  <label><input type="checkbox" name="terms"> I agree</label>
  <button type="button" onclick="document.getElementById('two').hidden = false">Next</button></div>
  <div id="two" hidden><label>Company <input name="company"></label>
  <button type="submit">Create account</button></div>
</form></body></html>"#
            .into(),
        None,
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let browser = started(exe, profile.path(), port).await;
    let page = tab_on(&browser, port).await;
    let snap = page.snapshot().await.unwrap();
    page.fill(&ref_of(&snap.lines, "textbox \"Email\""), "ann@example.com")
        .await
        .unwrap();
    page.fill(&ref_of(&snap.lines, "textbox \"Password\""), "s3cret")
        .await
        .unwrap();
    let picked = page
        .select(&ref_of(&snap.lines, "combobox \"Plan\""), &["Pro".into()])
        .await
        .unwrap();
    assert_eq!(picked, ["pro"]);
    page.click(&ref_of(&snap.lines, "checkbox \"I agree\""))
        .await
        .unwrap();
    page.click(&ref_of(&snap.lines, "button \"Next\""))
        .await
        .unwrap();
    // Step two is shown now: a new snapshot names its field.
    let snap = page.snapshot().await.unwrap();
    let company = ref_of(&snap.lines, "textbox \"Company\"");
    page.fill(&company, "Acme").await.unwrap();
    let png = page.screenshot(false).await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 1000, "{} bytes", png.len());
    let full = page.screenshot(true).await.unwrap();
    assert_eq!(&full[..8], b"\x89PNG\r\n\x1a\n");
    page.click(&ref_of(&snap.lines, "button \"Create account\""))
        .await
        .unwrap();
    until(&page, "location.pathname", json!("/done")).await;
    let query = page.evaluate("location.search").await.unwrap();
    assert_eq!(
        query,
        "?email=ann%40example.com&password=s3cret&plan=pro&terms=on&company=Acme"
    );
    // A ref that is no ref, and a stale one, are told apart.
    assert!(
        page.click("42")
            .await
            .unwrap_err()
            .to_string()
            .contains("refs look like e42")
    );
    assert!(
        page.click(&company)
            .await
            .unwrap_err()
            .to_string()
            .contains("page changed")
    );
    // Step two is hidden again on the new page: the snapshot does not offer its field.
    let snap = page.snapshot().await.unwrap();
    assert!(
        !snap.lines.iter().any(|l| l.contains("\"Company\"")),
        "{snap:?}"
    );
    // Enter in a field submits its form.
    page.navigate(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    let snap = page.snapshot().await.unwrap();
    page.fill(&ref_of(&snap.lines, "textbox \"Email\""), "bob@example.com")
        .await
        .unwrap();
    page.press("Enter").await.unwrap();
    until(&page, "location.pathname", json!("/done")).await;
    page.close().await;
    browser.close().await;
}

#[tokio::test]
async fn dialogs_logs_pdfs_and_uploads() {
    let Some(exe) = chromium() else { return };
    let (canary, _) = serve("canary".into(), None).await;
    let page_html = format!(
        r#"<html><head><title>Tools</title></head><body>
<input type="file" id="f" onchange="document.title = 'got ' + this.files[0].name">
<button onclick="document.body.dataset.answer = String(confirm('Delete it?'))">Delete</button>
<script>console.log('ready', 42); fetch('http://127.0.0.1:{canary}/x').catch(() => console.warn('blocked'));</script>
</body></html>"#
    );
    let (port, _) = serve(page_html, None).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = started(exe, profile.path(), port).await;
    let page = tab_on(&browser, port).await;
    until(&page, "1", json!(1)).await;
    // Console messages and requests since the last look, the refused one marked failed.
    let mut log = page.take_log();
    let refused_seen = |log: &switchboard::browser::page::Log| {
        log.requests
            .iter()
            .any(|r| r.url.contains(&format!(":{canary}/x")) && r.failed.is_some())
    };
    for _ in 0..100 {
        if log.console.iter().any(|l| l == "[warning] blocked") && refused_seen(&log) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        let more = page.take_log();
        log.console.extend(more.console);
        log.requests.extend(more.requests);
    }
    assert!(
        log.console.contains(&"[log] ready 42".to_owned()),
        "{log:?}"
    );
    assert!(
        log.console.contains(&"[warning] blocked".to_owned()),
        "{log:?}"
    );
    let refused = log
        .requests
        .iter()
        .rev()
        .find(|r| r.url.contains(&format!(":{canary}/x")))
        .unwrap_or_else(|| panic!("{log:?}"));
    assert!(refused.failed.is_some(), "{refused:?}");
    assert!(
        log.requests
            .iter()
            .any(|r| r.url == format!("http://127.0.0.1:{port}/") && r.status == Some(200)),
        "{log:?}"
    );
    assert!(page.take_log().console.is_empty(), "taken once");
    // A confirm() blocks the page until it is answered.
    let snap = page.snapshot().await.unwrap();
    page.click(&ref_of(&snap.lines, "button \"Delete\""))
        .await
        .unwrap();
    for _ in 0..200 {
        if page.dialog().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dialog = page.dialog().expect("the dialog opened");
    assert_eq!(
        (dialog.kind.as_str(), dialog.message.as_str()),
        ("confirm", "Delete it?")
    );
    page.answer_dialog(true, None).await.unwrap();
    until(&page, "document.body.dataset.answer", json!("true")).await;
    assert!(
        page.answer_dialog(true, None).await.is_err(),
        "no dialog left"
    );
    // An upload from a file the caller chose, seen by the page.
    let file = profile.path().join("report.csv");
    std::fs::write(&file, "a,b\n").unwrap();
    page.upload(&ref_of(&snap.lines, "button \"Choose File\""), &[file])
        .await
        .unwrap();
    until(&page, "document.title", json!("got report.csv")).await;
    let pdf = page.pdf().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "{:?}", &pdf[..8.min(pdf.len())]);
    page.close().await;
    browser.close().await;
}

#[tokio::test]
async fn history_waits_and_downloads_land_only_in_the_profile() {
    let Some(exe) = chromium() else { return };
    let (profile, browser, page, base) = opened(
        exe,
        r#"<html><head><title>Wait</title></head><body>
<a href="/other" id="next">Other</a>
<a href="/file.bin" download="file.bin">Get it</a>
<script>setTimeout(() => { document.body.append('Loaded late'); }, 300);</script>
</body></html>"#,
    )
    .await;
    page.wait_for_text("Loaded late", false, Duration::from_secs(10))
        .await
        .unwrap();
    let e = page
        .wait_for_text("never there", false, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not show `never there`"), "{e}");
    page.wait_for_idle(Duration::from_millis(200), Duration::from_secs(10))
        .await
        .unwrap();
    page.navigate(&format!("{base}other")).await.unwrap();
    page.go(-1).await.unwrap();
    assert_eq!(page.evaluate("location.pathname").await.unwrap(), "/");
    page.go(1).await.unwrap();
    assert_eq!(page.evaluate("location.pathname").await.unwrap(), "/other");
    assert!(
        page.go(1)
            .await
            .unwrap_err()
            .to_string()
            .contains("forward")
    );
    page.reload().await.unwrap();
    // A download lands in the profile's downloads folder under its id, not its name, and is
    // reported with the name suggested.
    page.go(-1).await.unwrap();
    let snap = page.snapshot().await.unwrap();
    page.click(&ref_of(&snap.lines, "link \"Get it\""))
        .await
        .unwrap();
    let mut done = Vec::new();
    for _ in 0..200 {
        done = browser.downloads.take();
        if !done.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(done.len(), 1, "one download reported");
    assert_eq!(done[0].name, "file.bin");
    let file = done[0].file.clone().expect("completed");
    assert!(
        file.starts_with(profile.path().join("downloads")),
        "{file:?}"
    );
    assert!(file.is_file());
    let saved: Vec<_> = walkdir(profile.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("file.bin"))
        })
        .collect();
    assert!(saved.is_empty(), "{saved:?}");
    page.close().await;
    browser.close().await;
}

/// Every file below `dir`.
fn walkdir(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A web page cannot take its tab to a local file or to the browser's own pages, nor frame
/// them: the browser refuses, and the tab stays on the web page.
#[tokio::test]
async fn a_page_cannot_reach_files_or_the_browsers_own_pages() {
    let Some(exe) = chromium() else { return };
    let (_profile, browser, page, base) = opened(
        exe,
        r#"<html><head><title>Escape</title></head><body>
<iframe id="f" src="file:///etc/hostname"></iframe>
<iframe id="c" src="chrome://version"></iframe>
</body></html>"#,
    )
    .await;
    for target in [
        "file:///etc/hostname",
        "chrome://settings",
        "devtools://devtools/",
    ] {
        page.evaluate(&format!("location.href = {target:?}; 1"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            page.evaluate("location.href").await.unwrap(),
            base,
            "the tab left for {target}"
        );
    }
    // The frames stay empty: nothing of the file or the browser page is readable.
    let snap = page.snapshot().await.unwrap();
    let text = snap.lines.join("\n");
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    assert!(
        hostname.trim().is_empty() || !text.contains(hostname.trim()),
        "{text}"
    );
    assert!(!text.contains("Command Line"), "{text}");
    page.close().await;
    browser.close().await;
}
