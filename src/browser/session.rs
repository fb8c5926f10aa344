//! One session's browser: started on the first browser tool call (never before), its tabs and
//! which one is current, started again if it crashed or was killed, and closed with the
//! session. The tools lock it for the length of one call, so the browser is driven by one
//! call at a time, as a person drives one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::gate::FileGate;
use super::page::{Page, PageError};
use super::{Browser, BrowserError, CdpError, Launch};
use crate::policy::net::NetRules;

/// How the session's browser is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// `browser.executable`, else found on `path`.
    pub executable: Option<PathBuf>,
    pub path: OsString,
    pub headless: bool,
    /// The persistent profile folder; `None` for a fresh profile per session.
    pub persistent: Option<PathBuf>,
    /// How long a page may take to load, and any one call.
    pub timeout: Duration,
    /// Tabs open at once.
    pub max_pages: usize,
    pub rules: Arc<NetRules>,
    pub files: Arc<dyn FileGate>,
    /// The largest download kept.
    pub max_download_bytes: u64,
    /// The binary the supervisor runs from (switchboard itself).
    pub supervisor: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Browser(#[from] BrowserError),
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(
        "{0} tabs are open, the most allowed (browser.max_pages); close one with browser_tabs first"
    )]
    TooManyTabs(usize),
    #[error("there is no tab {index}; the tabs are 0 to {last} (browser_tabs lists them)")]
    NoTab { index: usize, last: usize },
    #[error(
        "the page shows a {kind} dialog (\"{message}\") and waits for its answer: answer it with browser_dialog first"
    )]
    DialogOpen { kind: String, message: String },
    #[error(
        "the persistent browser profile {} is in use by another browser (pid {pid}); close that switchboard session, or set browser.profile: fresh",
        .dir.display()
    )]
    ProfileInUse { dir: PathBuf, pid: u32 },
}

/// A tab as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    pub index: usize,
    pub url: String,
    pub title: String,
    pub current: bool,
}

/// The session's browser, started on first use.
pub struct BrowserSession {
    options: Options,
    state: tokio::sync::Mutex<Option<Running>>,
}

/// A started browser and its tabs.
pub struct Running {
    pub browser: Browser,
    /// The browser's profile folder (uploads are staged in it).
    pub dir: PathBuf,
    tabs: Vec<Page>,
    current: usize,
    /// Set when this browser replaced one that had exited; the next answer says so once.
    pub restarted: bool,
    /// Tabs closed by a tool.
    closed: std::collections::HashSet<String>,
    /// The fresh profile, deleted when the browser is dropped.
    _fresh: Option<tempfile::TempDir>,
}

/// The prefix of fresh profile folders in the temporary folder, followed by the owner's pid.
const FRESH_PREFIX: &str = "switchboard-browser-";

impl BrowserSession {
    pub fn new(options: Options) -> Self {
        Self {
            options,
            state: tokio::sync::Mutex::new(None),
        }
    }

    /// The running browser, held for one tool call; started first if there is none (or the
    /// last one exited).
    pub async fn lock(&self) -> Result<tokio::sync::MappedMutexGuard<'_, Running>, SessionError> {
        let mut state = self.state.lock().await;
        let mut restarted = false;
        if state.as_ref().is_some_and(|r| r.browser.is_closed()) {
            tracing::warn!("browser: it exited; starting a new one");
            *state = None;
            restarted = true;
        }
        if state.is_none() {
            let mut running = self.start().await?;
            running.restarted = restarted;
            *state = Some(running);
        }
        Ok(tokio::sync::MutexGuard::map(state, |s| {
            s.as_mut().expect("started above")
        }))
    }

    /// Closes the browser, if one runs, and waits for its processes to end.
    pub async fn close(&self) {
        if let Some(running) = self.state.lock().await.take() {
            running.browser.close().await;
        }
    }

    async fn start(&self) -> Result<Running, SessionError> {
        let o = &self.options;
        let executable = super::find(o.executable.as_deref(), &o.path)?;
        let (fresh, dir) = match &o.persistent {
            Some(dir) => {
                if let Some(pid) = profile_owner(dir) {
                    return Err(SessionError::ProfileInUse {
                        dir: dir.clone(),
                        pid,
                    });
                }
                (None, dir.clone())
            }
            None => {
                let made = tokio::task::spawn_blocking(fresh_profile)
                    .await
                    .map_err(|e| BrowserError::Start(e.to_string()))?
                    .map_err(|e| BrowserError::Start(format!("no profile folder: {e}")))?;
                let dir = made.path().to_path_buf();
                (Some(made), dir)
            }
        };
        let launch = Launch {
            executable,
            headless: o.headless,
            user_data_dir: dir.clone(),
            start_timeout: o.timeout.max(Duration::from_secs(30)),
            rules: o.rules.clone(),
            files: o.files.clone(),
            max_download_bytes: o.max_download_bytes,
        };
        let started = std::time::Instant::now();
        let browser = Browser::start(&launch, &o.supervisor).await?;
        tracing::info!(
            version = browser.version,
            pid = browser.pid(),
            ms = started.elapsed().as_millis() as u64,
            "browser started"
        );
        let mut running = Running {
            browser,
            dir,
            tabs: Vec::new(),
            current: 0,
            restarted: false,
            closed: Default::default(),
            _fresh: fresh,
        };
        running.adopt(o.max_pages, o.timeout).await?;
        Ok(running)
    }
}

impl Running {
    /// Takes in the tabs the browser has that are not listed yet (the one it starts with,
    /// popups a page opened); beyond `max` they are closed. Returns how many were added.
    pub async fn adopt(&mut self, max: usize, timeout: Duration) -> Result<usize, SessionError> {
        let targets = self
            .browser
            .cdp
            .call("Target.getTargets", json!({}), None, timeout)
            .await
            .map_err(PageError::from)?;
        let mut added = 0;
        for t in targets["targetInfos"].as_array().into_iter().flatten() {
            let id = t["targetId"].as_str().unwrap_or_default();
            if t["type"] != "page"
                || self.tabs.iter().any(|p| p.target == id)
                || self.closed.contains(id)
            {
                continue;
            }
            if self.tabs.len() >= max {
                let _ = self
                    .browser
                    .cdp
                    .call("Target.closeTarget", json!({"targetId": id}), None, timeout)
                    .await;
                continue;
            }
            match Page::attach(self.browser.cdp.clone(), id.to_owned(), timeout).await {
                Ok(page) => {
                    self.tabs.push(page);
                    added += 1;
                }
                // It closed between the listing and the attach.
                Err(PageError::Cdp(CdpError::Refused { .. })) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // A page the model did not open itself (a popup) becomes the current one, as it does
        // for a person.
        if added > 0 && self.tabs.len() > 1 {
            self.current = self.tabs.len() - 1;
        }
        Ok(added)
    }

    /// The current tab, whatever it shows (a new blank one when none is open).
    pub async fn page(&mut self, timeout: Duration) -> Result<&Page, SessionError> {
        if self.tabs.is_empty() {
            let page = Page::open(self.browser.cdp.clone(), timeout).await?;
            self.tabs.push(page);
            self.current = 0;
        }
        self.current = self.current.min(self.tabs.len() - 1);
        Ok(&self.tabs[self.current])
    }

    /// The current tab, when it can take input: not while it waits on a dialog.
    pub async fn ready(&mut self, timeout: Duration) -> Result<&Page, SessionError> {
        let page = self.page(timeout).await?;
        if let Some(d) = page.dialog() {
            return Err(SessionError::DialogOpen {
                kind: d.kind,
                message: d.message,
            });
        }
        Ok(page)
    }

    /// Every tab, in order.
    pub async fn tabs(&self) -> Vec<Tab> {
        let mut out = Vec::with_capacity(self.tabs.len());
        for (index, page) in self.tabs.iter().enumerate() {
            let (url, title) = page.info().await.unwrap_or_default();
            out.push(Tab {
                index,
                url,
                title,
                current: index == self.current,
            });
        }
        out
    }

    /// Opens a new tab and makes it current.
    pub async fn open(&mut self, max: usize, timeout: Duration) -> Result<&Page, SessionError> {
        if self.tabs.len() >= max {
            return Err(SessionError::TooManyTabs(self.tabs.len()));
        }
        let page = Page::open(self.browser.cdp.clone(), timeout).await?;
        self.tabs.push(page);
        self.current = self.tabs.len() - 1;
        Ok(&self.tabs[self.current])
    }

    fn check(&self, index: usize) -> Result<(), SessionError> {
        if index < self.tabs.len() {
            Ok(())
        } else {
            Err(SessionError::NoTab {
                index,
                last: self.tabs.len().saturating_sub(1),
            })
        }
    }

    /// Makes tab `index` current.
    pub async fn select(&mut self, index: usize) -> Result<&Page, SessionError> {
        self.check(index)?;
        self.current = index;
        let page = &self.tabs[index];
        page.bring_to_front().await?;
        Ok(page)
    }

    /// Closes tab `index`; the one before it becomes current when it was.
    pub async fn close(&mut self, index: usize) -> Result<(), SessionError> {
        self.check(index)?;
        let page = self.tabs.remove(index);
        // The browser may list it for a moment after: it is not a new tab to take in.
        self.closed.insert(page.target.clone());
        page.close().await;
        if self.current >= index && self.current > 0 {
            self.current -= 1;
        }
        Ok(())
    }

    /// The current tab, if one is open.
    pub fn current_page(&self) -> Option<&Page> {
        self.tabs.get(self.current)
    }

    /// The index of the current tab.
    pub fn current(&self) -> usize {
        self.current
    }
}

/// A new fresh profile folder, after removing those whose session's process is gone (a
/// switchboard killed with `kill -9` cannot remove its own).
fn fresh_profile() -> std::io::Result<tempfile::TempDir> {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(FRESH_PREFIX)) else {
                continue;
            };
            let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{FRESH_PREFIX}{}-", std::process::id()))
        .tempdir_in(tmp)
}

/// The live process holding Chromium's lock on the profile `dir`, if any (the lock is a
/// symlink to `host-pid`).
fn profile_owner(dir: &Path) -> Option<u32> {
    let target = std::fs::read_link(dir.join("SingletonLock")).ok()?;
    let pid: u32 = target.to_str()?.rsplit('-').next()?.parse().ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_profile_lock_is_not_an_owner() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(profile_owner(dir.path()), None);
        std::os::unix::fs::symlink("host-4194304999", dir.path().join("SingletonLock")).unwrap();
        assert_eq!(profile_owner(dir.path()), None);
        std::fs::remove_file(dir.path().join("SingletonLock")).unwrap();
        let me = std::process::id();
        std::os::unix::fs::symlink(format!("host-{me}"), dir.path().join("SingletonLock")).unwrap();
        assert_eq!(profile_owner(dir.path()), Some(me));
    }

    #[test]
    fn fresh_profiles_of_dead_sessions_are_removed() {
        let stale = std::env::temp_dir().join(format!("{FRESH_PREFIX}4194304999-x"));
        std::fs::create_dir_all(&stale).unwrap();
        let made = fresh_profile().unwrap();
        assert!(!stale.exists());
        assert!(made.path().is_dir());
    }
}
