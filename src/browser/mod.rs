//! A real Chromium for the agent (the `browser` tools). This module
//! owns finding the browser on the machine (switchboard never downloads one), starting it
//! under the same supervisor as every child process (so it dies with switchboard, even on
//! `kill -9`), and the DevTools connection to it ([`cdp`]) over a pipe rather than a port, so
//! nothing else on the machine can reach the browser's debugger.

pub mod cdp;
pub mod downloads;
pub mod gate;
pub mod page;
pub mod session;
pub mod snapshot;
pub mod socks;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::support::process::{self, ExitWaiter, Input, Parts, Spec};
pub use cdp::{Cdp, CdpError, Event};

/// Names a Chromium-family browser goes by on PATH, in the order they are tried.
pub const NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
];

/// The longest DevTools message read (a full-page screenshot of a long page is the largest).
const MAX_FRAME: usize = 64 * 1024 * 1024;
/// Events kept for a listener that reads slowly.
const BACKLOG: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "no Chromium or Chrome was found on PATH (tried {}); install one (Debian: `apt install chromium`) or name it in browser.executable",
        NAMES.join(", ")
    )]
    NotFound,
    #[error(
        "browser.executable names `{}`, which is not a program here; install Chromium (Debian: `apt install chromium`) or fix browser.executable",
        .0.display()
    )]
    NotExecutable(PathBuf),
    #[error("the browser could not start: {0}")]
    Start(String),
    #[error(transparent)]
    Cdp(#[from] CdpError),
}

/// The browser binary: `configured` when given, else the first of [`NAMES`] on `path`.
pub fn find(configured: Option<&Path>, path: &std::ffi::OsStr) -> Result<PathBuf, BrowserError> {
    if let Some(p) = configured {
        return if process::is_executable(p) {
            Ok(p.to_path_buf())
        } else {
            process::find_on_path(&p.to_string_lossy(), path)
                .ok_or_else(|| BrowserError::NotExecutable(p.to_path_buf()))
        };
    }
    NAMES
        .iter()
        .find_map(|n| process::find_on_path(n, path))
        .ok_or(BrowserError::NotFound)
}

/// How to start the browser.
#[derive(Debug, Clone)]
pub struct Launch {
    pub executable: PathBuf,
    pub headless: bool,
    /// The profile folder (fresh per session, or the switchboard profile's persistent one).
    pub user_data_dir: PathBuf,
    /// How long the browser may take to answer its first call.
    pub start_timeout: Duration,
    /// The network rules every connection of the browser meets (see [`socks`]).
    pub rules: Arc<crate::policy::net::NetRules>,
    /// Which local files its pages may load (see [`gate`]).
    pub files: Arc<dyn gate::FileGate>,
    /// The largest download kept (see [`downloads`]).
    pub max_download_bytes: u64,
}

/// A running browser: its DevTools connection and the supervised process. Dropping it closes
/// the supervisor's control socket, which kills the browser's whole process tree.
pub struct Browser {
    pub cdp: Arc<Cdp>,
    /// The proxy all of the browser's connections go through.
    pub socks: Arc<socks::Socks>,
    /// What its pages downloaded.
    pub downloads: downloads::Downloads,
    /// The browser's product and version, as it reports them.
    pub version: String,
    parts: Parts,
    exit: Option<ExitWaiter>,
    gate: tokio::task::JoinHandle<()>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.gate.abort();
    }
}

impl Browser {
    /// Starts the browser and waits for its first answer.
    pub async fn start(launch: &Launch, supervisor_exe: &Path) -> Result<Self, BrowserError> {
        std::fs::create_dir_all(&launch.user_data_dir)
            .map_err(|e| BrowserError::Start(format!("{}: {e}", launch.user_data_dir.display())))?;
        let socks = socks::Socks::start(launch.rules.clone())
            .await
            .map_err(|e| BrowserError::Start(format!("no proxy for the browser: {e}")))?;
        let spec = Spec {
            argv: argv(launch, socks.port),
            cwd: launch.user_data_dir.clone(),
            env: environment(&launch.user_data_dir),
            input: Input::Pipe,
            merge_output: false,
            limits: Default::default(),
            term_grace: Duration::from_secs(2),
            new_session: false,
        };
        let started = process::start(spec, supervisor_exe)
            .await
            .map_err(|e| BrowserError::Start(e.to_string()))?;
        let (mut parts, exit) = started.split();
        let stdin = parts
            .stdin
            .take()
            .ok_or_else(|| BrowserError::Start("no pipe to the browser".into()))?;
        // The pipe ends are swapped into the browser's own descriptors by `argv`'s wrapper;
        // the receiver is moved out, so the parts keep an empty one in its place.
        let stdout = std::mem::replace(&mut parts.stdout, empty_receiver()?);
        let cdp = Arc::new(Cdp::start(stdout, stdin, MAX_FRAME, BACKLOG));
        let version = cdp
            .call("Browser.getVersion", json!({}), None, launch.start_timeout)
            .await
            .map_err(|e| match e {
                CdpError::Closed => BrowserError::Start(
                    "it exited before answering; run it by hand with --headless to see why".into(),
                ),
                other => BrowserError::Cdp(other),
            })?;
        // Downloads land in the profile, named by their id, until the caller moves them.
        let downloads = downloads::Downloads::start(
            cdp.clone(),
            launch.user_data_dir.join("downloads"),
            launch.max_download_bytes,
            launch.start_timeout,
        )
        .await?;
        let socks = Arc::new(socks);
        let gate = gate::start(cdp.clone(), launch.files.clone(), socks.clone()).await?;
        Ok(Self {
            cdp,
            socks,
            gate,
            downloads,
            version: version["product"].as_str().unwrap_or("unknown").to_owned(),
            parts,
            exit: Some(exit),
        })
    }

    /// The browser process's pid (its supervisor's child).
    pub fn pid(&self) -> u32 {
        self.parts.pid
    }

    /// Whether the browser is gone (it exited, crashed or was killed).
    pub fn is_closed(&self) -> bool {
        self.cdp.is_closed()
    }

    /// Closes the browser and waits for its process tree to end.
    /// Closes the browser as its own menu would (so a persistent profile writes its cookies
    /// out), then ends whatever is left of its process tree.
    pub async fn close(mut self) {
        let _ = self
            .cdp
            .call("Browser.close", json!({}), None, Duration::from_secs(2))
            .await;
        if let Some(exit) = self.exit.take() {
            let mut exited = std::pin::pin!(exit.wait());
            if tokio::time::timeout(Duration::from_secs(5), &mut exited)
                .await
                .is_err()
            {
                self.parts.control.kill().await;
                let _ = tokio::time::timeout(Duration::from_secs(5), exited).await;
            }
        }
        self.parts.control.kill().await;
    }
}

/// A receiver for nothing: the read end of a pipe whose write end is closed at once.
fn empty_receiver() -> Result<tokio::net::unix::pipe::Receiver, BrowserError> {
    let (read, write) = std::io::pipe().map_err(|e| BrowserError::Start(e.to_string()))?;
    drop(write);
    tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(read))
        .map_err(|e| BrowserError::Start(e.to_string()))
}

/// The command line: a shell that moves the supervisor's pipes to descriptors 3 and 4 (where
/// Chromium speaks DevTools with `--remote-debugging-pipe`), then becomes the browser, whose
/// every connection goes through the proxy on `socks_port` (loopback included, QUIC and
/// WebRTC's own UDP off, so nothing leaves around it).
fn argv(launch: &Launch, socks_port: u16) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        "/bin/sh".into(),
        "-c".into(),
        "exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null".into(),
        launch.executable.clone().into(),
        "--remote-debugging-pipe".into(),
    ];
    let mut data_dir = OsString::from("--user-data-dir=");
    data_dir.push(&launch.user_data_dir);
    argv.push(data_dir);
    for flag in [
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-component-extensions-with-background-pages",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-breakpad",
        "--metrics-recording-only",
        "--disable-client-side-phishing-detection",
        "--disable-domain-reliability",
        "--no-pings",
        "--password-store=basic",
        "--use-mock-keychain",
        "--proxy-bypass-list=<-loopback>",
        "--disable-quic",
        "--dns-prefetch-disable",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        // A page restored from the back-forward cache fires no load event: going back and
        // forward then loads like any navigation, which the tools wait for.
        "--disable-features=BackForwardCache",
    ] {
        argv.push(flag.into());
    }
    argv.push(format!("--proxy-server=socks5://127.0.0.1:{socks_port}").into());
    argv.push("about:blank".into());
    if launch.headless {
        argv.insert(5, "--headless=new".into());
    }
    // Chromium's own sandbox needs user namespaces or a setuid helper, which a root process
    // in a container usually lacks; the supervisor still owns and limits the tree.
    if is_root() {
        argv.insert(5, "--no-sandbox".into());
    }
    argv
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The browser's environment: a home in its profile folder, and the display and locale of
/// switchboard's own (nothing else is inherited).
fn environment(home: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| {
            k.to_str().is_some_and(|k| {
                matches!(
                    k,
                    "PATH" | "LANG" | "TZ" | "DISPLAY" | "WAYLAND_DISPLAY" | "XDG_RUNTIME_DIR"
                ) || k.starts_with("LC_")
            })
        })
        .collect();
    env.push(("HOME".into(), home.into()));
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_the_browser_says_how_to_install_one() {
        let e = find(None, std::ffi::OsStr::new("/nonexistent")).unwrap_err();
        assert!(e.to_string().contains("apt install chromium"), "{e}");
        assert!(e.to_string().contains("browser.executable"), "{e}");
        let sh = find(Some(Path::new("/bin/sh")), std::ffi::OsStr::new("")).unwrap();
        assert_eq!(sh, Path::new("/bin/sh"));
    }
}

/// Where a navigation the model asks for may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An http or https URL: the proxy applies the network rules to every connection.
    Web(url::Url),
    /// A local file: only inside the roots (the caller checks the path with the path policy).
    File(PathBuf),
    /// `about:blank`.
    Blank,
}

/// Why a navigation is refused before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NavigationRefused {
    #[error("`{0}` is not a URL: give an absolute http or https URL (or file:// inside the roots)")]
    NotAUrl(String),
    #[error(
        "`{scheme}:` pages are the browser's own (settings, debugger, extensions) and are never opened; give an http or https URL"
    )]
    BrowserScheme { scheme: String },
    #[error(
        "`{scheme}:` URLs are not opened; give an http or https URL (or file:// inside the roots)"
    )]
    Scheme { scheme: String },
}

/// Classifies a URL the model asks to open. The browser's own schemes are refused outright;
/// `javascript:` and `data:` too (a script runs only through the evaluate tool, when the
/// configuration allows it).
pub fn destination(url: &str) -> Result<Destination, NavigationRefused> {
    let trimmed = url.trim();
    if trimmed == "about:blank" {
        return Ok(Destination::Blank);
    }
    let parsed =
        url::Url::parse(trimmed).map_err(|_| NavigationRefused::NotAUrl(trimmed.to_owned()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(Destination::Web(parsed)),
        "file" => parsed
            .to_file_path()
            .map(Destination::File)
            .map_err(|()| NavigationRefused::NotAUrl(trimmed.to_owned())),
        s @ ("chrome" | "chrome-untrusted" | "devtools" | "chrome-extension" | "edge" | "brave"
        | "view-source" | "chrome-search" | "chrome-devtools") => {
            Err(NavigationRefused::BrowserScheme {
                scheme: s.to_owned(),
            })
        }
        s => Err(NavigationRefused::Scheme {
            scheme: s.to_owned(),
        }),
    }
}

#[cfg(test)]
mod destination_tests {
    use super::*;

    #[test]
    fn only_web_pages_files_and_blank_are_opened() {
        assert!(matches!(
            destination("https://example.com/a?b"),
            Ok(Destination::Web(u)) if u.host_str() == Some("example.com")
        ));
        assert_eq!(
            destination("file:///home/me/page.html"),
            Ok(Destination::File(PathBuf::from("/home/me/page.html")))
        );
        assert_eq!(destination(" about:blank "), Ok(Destination::Blank));
        for url in [
            "chrome://settings",
            "devtools://devtools/bundled/inspector.html",
            "chrome-extension://abc/page.html",
            "view-source:https://example.com",
        ] {
            let e = destination(url).unwrap_err();
            assert!(
                matches!(e, NavigationRefused::BrowserScheme { .. }),
                "{url}: {e}"
            );
        }
        for url in ["javascript:alert(1)", "data:text/html,hi", "ftp://x/y"] {
            assert!(
                matches!(destination(url), Err(NavigationRefused::Scheme { .. })),
                "{url}"
            );
        }
        assert!(matches!(
            destination("example.com"),
            Err(NavigationRefused::NotAUrl(_))
        ));
    }
}
