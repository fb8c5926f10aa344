//! Browser tools: a real Chromium (`crate::browser`), started by the first of them and shared
//! by all of a session's calls. Each tool is a short adapter: it takes the session's browser
//! for the call (with the roots its pages may read set to the call's), acts on the current tab,
//! and answers with where the tab is and the page as text. This file is the registry and the
//! answer every acting tool shares.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Browser);
    browser_click => browser_click_router,
    browser_dialog => browser_dialog_router,
    browser_evaluate => browser_evaluate_router,
    browser_fill => browser_fill_router,
    browser_hover => browser_hover_router,
    browser_logs => browser_logs_router,
    browser_navigate => browser_navigate_router,
    browser_pdf => browser_pdf_router,
    browser_press => browser_press_router,
    browser_screenshot => browser_screenshot_router,
    browser_snapshot => browser_snapshot_router,
    browser_tabs => browser_tabs_router,
    browser_upload => browser_upload_router,
    browser_wait => browser_wait_router,
}

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{CallToolResult, ContentBlock as Content};
use rmcp::service::RequestContext;

use crate::browser::page::{Page, PageError};
use crate::browser::session::{Running, SessionError};
use crate::browser::{BrowserError, CdpError};
use crate::error::reason;
use crate::server::Switchboard;
use crate::tools::ToolError;

impl From<SessionError> for ToolError {
    fn from(e: SessionError) -> Self {
        let text = e.to_string();
        match e {
            SessionError::Browser(
                BrowserError::NotFound | BrowserError::NotExecutable(_) | BrowserError::Start(_),
            )
            | SessionError::ProfileInUse { .. } => {
                ToolError::refused(reason::BROWSER_UNAVAILABLE, text)
            }
            SessionError::Browser(BrowserError::Cdp(c)) | SessionError::Page(PageError::Cdp(c)) => {
                match c {
                    CdpError::Closed => ToolError::refused(
                        reason::BROWSER_UNAVAILABLE,
                        "the browser exited during this call; the next browser call starts a new one (the tabs are gone)",
                    ),
                    CdpError::Timeout { .. } => ToolError::refused(
                        reason::TIMEOUT,
                        format!(
                            "{c}; the page may be busy: wait, or reload it (browser.navigation_timeout_secs)"
                        ),
                    ),
                    other => ToolError::invalid(other.to_string()),
                }
            }
            SessionError::Page(PageError::LoadTimeout(_)) => ToolError::refused(
                reason::TIMEOUT,
                format!(
                    "{text} (browser.navigation_timeout_secs); it was stopped, and what loaded so far can be read with browser_snapshot"
                ),
            ),
            _ => ToolError::invalid(text),
        }
    }
}

impl From<PageError> for ToolError {
    fn from(e: PageError) -> Self {
        SessionError::Page(e).into()
    }
}

impl Switchboard {
    /// The session's browser for one call, started on first use, with the roots its pages
    /// may read files from set to this call's.
    pub(crate) async fn browser_for(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<tokio::sync::MappedMutexGuard<'_, Running>, ToolError> {
        let b = self.browser();
        b.roots.set_scope(self.file_scope(ctx).await);
        Ok(b.session.lock().await?)
    }

    /// How long a page may take to load, and any one browser call.
    pub(crate) fn browser_timeout(&self) -> Duration {
        self.settings.browser.navigation_timeout
    }
}

/// Waits (briefly) for what an act set off: a navigation, requests, rendering.
pub(crate) async fn settle(page: &Page, timeout: Duration) {
    let _ = page
        .wait_for_idle(
            Duration::from_millis(250),
            timeout.min(Duration::from_secs(5)),
        )
        .await;
}

/// What an acting tool answers: `done`, any tab the page opened, the tab's place and title,
/// a dialog waiting for an answer, what the network rules blocked, then the page as text
/// from line `offset` (none while a dialog blocks the page).
pub(crate) async fn report(
    sb: &Switchboard,
    running: &mut Running,
    done: &str,
    offset: usize,
) -> Result<CallToolResult, ToolError> {
    let settings = &sb.settings.browser;
    let timeout = settings.navigation_timeout;
    let mut out = String::new();
    if running.restarted {
        running.restarted = false;
        out.push_str("The browser had exited and was started again: earlier tabs are gone.\n");
    }
    if !done.is_empty() {
        out.push_str(done);
        out.push('\n');
    }
    let before = running.current();
    if running.adopt(settings.max_pages, timeout).await? > 0 && running.current() != before {
        out.push_str(&format!(
            "The page opened a new tab (tab {}), which is now current; browser_tabs switches back.\n",
            running.current()
        ));
    }
    let tabs = running.tabs().await;
    if let Some(t) = tabs.iter().find(|t| t.current) {
        out.push_str(&format!(
            "Tab {} of {}: {} — {}\n",
            t.index,
            tabs.len(),
            if t.title.is_empty() {
                "(no title)"
            } else {
                &t.title
            },
            t.url
        ));
    }
    running.page(timeout).await?;
    blocked(running, &mut out);
    save_downloads(sb, running, &mut out).await;
    let page = running.page(timeout).await?;
    if let Some(d) = page.dialog() {
        out.push_str(&format!(
            "A {} dialog is open: \"{}\". The page waits for its answer: call browser_dialog (accept or dismiss) before anything else.\n",
            d.kind, d.message
        ));
        return Ok(CallToolResult::success(vec![Content::text(out)]));
    }
    let snapshot = page.snapshot().await?;
    out.push_str(&page_of(
        &snapshot.lines,
        offset,
        settings.max_snapshot_chars,
    ));
    Ok(CallToolResult::success(vec![Content::text(out)]))
}

/// Adds what the network rules and the roots refused the current tab since the last answer
/// (the browser's own background connections, refused too, are not the page's doing).
pub(crate) fn blocked(running: &Running, out: &mut String) {
    let hosts = running
        .current_page()
        .map(Page::request_hosts)
        .unwrap_or_default();
    let refused: Vec<_> = running
        .browser
        .socks
        .take_refusals()
        .into_iter()
        .filter(|r| r.target.starts_with("file:") || hosts.contains(&r.target))
        .collect();
    if refused.is_empty() {
        return;
    }
    out.push_str(&format!(
        "Blocked {} request(s) the rules do not allow (web.allow, web.deny, private addresses; files outside the roots):\n",
        refused.len()
    ));
    for r in refused.iter().take(10) {
        out.push_str(&format!("  - {}: {}\n", r.target, r.why));
    }
    if refused.len() > 10 {
        out.push_str(&format!("  - and {} more\n", refused.len() - 10));
    }
}

/// Saves what the page downloaded into `browser.download_dir` inside the roots (the path
/// policy decides; an existing file is never replaced: a free name is found beside it), and
/// says where each went.
pub(crate) async fn save_downloads(sb: &Switchboard, running: &Running, out: &mut String) {
    let done = running.browser.downloads.take();
    if done.is_empty() {
        return;
    }
    let dir = sb.settings.browser.download_dir.clone();
    let scope = sb.browser().roots.scope();
    for d in done {
        let saved = match (&d.file, &d.failed, &scope) {
            (_, Some(why), _) => Err(why.clone()),
            (Some(file), None, Some(scope)) => {
                let (scope, file, dir, name) =
                    (scope.clone(), file.clone(), dir.clone(), d.name.clone());
                crate::tools::blocking(move || save_one(&scope, &file, &dir, &name))
                    .await
                    .map_err(|e| e.to_string())
            }
            _ => Err("no roots are known to save it in".to_owned()),
        };
        if let Some(f) = &d.file {
            let _ = std::fs::remove_file(f);
        }
        match saved {
            Ok(path) => out.push_str(&format!(
                "The page downloaded {} ({} bytes): saved as {path}.\n",
                d.name, d.bytes
            )),
            Err(why) => out.push_str(&format!(
                "The page downloaded {} from {}, but it was not saved: {why}.\n",
                d.name, d.url
            )),
        }
    }
}

/// Copies the downloaded `file` to `dir/name` inside the roots, or `dir/name (2)`… when that
/// exists; returns where.
fn save_one(
    scope: &crate::policy::FileScope,
    file: &std::path::Path,
    dir: &str,
    name: &str,
) -> Result<String, ToolError> {
    use crate::tools::files::common::{display, put_in_place, staged_file};
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    for n in 1..=50 {
        let candidate = if n == 1 {
            format!("{dir}/{name}")
        } else {
            format!("{dir}/{stem} ({n}){ext}")
        };
        if scope.for_write(&candidate)?.existing.is_some() {
            continue;
        }
        // Never over a file: one that appears meanwhile makes the rename fail, not replace it.
        let (target, tmp) = staged_file(scope, &candidate, false, true, ".download")?;
        let mut from = std::fs::File::open(file).map_err(|e| ToolError::io(&candidate, e))?;
        let mut to = tmp.file();
        std::io::copy(&mut from, &mut to).map_err(|e| ToolError::io(&candidate, e))?;
        put_in_place(tmp, &target, false, &candidate)?;
        return Ok(display(&target.path));
    }
    Err(ToolError::invalid(format!(
        "{dir} already holds 50 files named like {name}"
    )))
}

/// Lines of a snapshot from `offset`, as many as fit in `max_chars`, with how to read on.
pub(crate) fn page_of(lines: &[String], offset: usize, max_chars: usize) -> String {
    if offset >= lines.len() && offset > 0 {
        return format!(
            "The snapshot has {} lines; offset {offset} is past its end.\n",
            lines.len()
        );
    }
    let mut out = String::new();
    let mut end = offset;
    for line in &lines[offset..] {
        let room = max_chars.saturating_sub(out.len());
        if line.len() + 1 > room {
            if end == offset {
                // One line longer than the cap: cut it, so every page moves on.
                let cut = crate::support::text::floor_char_boundary(line, room.saturating_sub(2));
                out.push_str(&line[..cut]);
                out.push_str("…\n");
                end += 1;
            }
            break;
        }
        out.push_str(line);
        out.push('\n');
        end += 1;
    }
    if out.is_empty() {
        out.push_str("(the page has no content to show)\n");
    }
    if end < lines.len() {
        out.push_str(&format!(
            "[snapshot lines {}–{} of {}; browser.max_snapshot_chars is {max_chars}: call browser_snapshot with offset {end} to read on]\n",
            offset + 1,
            end,
            lines.len()
        ));
    } else if offset > 0 {
        out.push_str(&format!(
            "[snapshot lines {}–{} of {}, the end]\n",
            offset + 1,
            end,
            lines.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn a_snapshot_is_paged_by_lines_within_the_cap() {
        let lines: Vec<String> = (0..10).map(|i| format!("- item {i}")).collect();
        let first = page_of(&lines, 0, 30);
        assert!(
            first.starts_with("- item 0\n- item 1\n- item 2\n"),
            "{first}"
        );
        assert!(first.contains("offset 3 to read on"), "{first}");
        let last = page_of(&lines, 9, 30);
        assert!(
            last.contains("- item 9") && last.contains("the end"),
            "{last}"
        );
        assert!(page_of(&lines, 10, 30).contains("past its end"));
        let long = vec!["x".repeat(100), "y".into()];
        let cut = page_of(&long, 0, 20);
        assert!(cut.contains('…') && cut.contains("offset 1"), "{cut}");
        assert!(page_of(&lines, 0, 10_000).ends_with("- item 9\n"));
    }
}
