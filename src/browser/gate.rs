//! The browser's local files: a page loads a `file://` URL (the document itself, a frame, an
//! image, a popup) only through this gate. Every page target is attached the moment it is
//! created, held before it runs, and given request interception for `file://`; each such
//! request is answered with the bytes the [`FileGate`] reads (the path policy's check on the
//! opened descriptor, in switchboard) or refused. Web requests never come here: they go
//! through the proxy ([`super::socks`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use super::socks::{Refusal, Socks};
use super::{Cdp, CdpError, Event};

/// Decides which local files a page may load.
pub trait FileGate: Send + Sync + std::fmt::Debug {
    /// The bytes of `path` and their MIME type, or why the file is refused (worded for the
    /// model).
    fn read(&self, path: &Path) -> Result<(Vec<u8>, String), String>;
}

/// A gate that opens no file.
#[derive(Debug)]
pub struct NoFiles;

impl FileGate for NoFiles {
    fn read(&self, _: &Path) -> Result<(Vec<u8>, String), String> {
        Err("local files are not opened by this browser".into())
    }
}

/// How long one DevTools call of the gate may take.
const CALL: Duration = Duration::from_secs(10);

/// Attaches to every page target from now on (and to the ones already open), holding each new
/// one until its interception is on, then answers its `file://` requests. Runs until the
/// connection closes; the caller aborts it when the browser is dropped.
pub async fn start(
    cdp: Arc<Cdp>,
    files: Arc<dyn FileGate>,
    socks: Arc<Socks>,
) -> Result<tokio::task::JoinHandle<()>, CdpError> {
    let mut events = cdp.events();
    cdp.call(
        "Target.setAutoAttach",
        json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        None,
        CALL,
    )
    .await?;
    // The tab the browser opened with existed before: attach to it the same way.
    let targets = cdp.call("Target.getTargets", json!({}), None, CALL).await?;
    for t in targets["targetInfos"].as_array().into_iter().flatten() {
        if t["type"] == "page" && t["attached"] != true {
            let session = cdp
                .call(
                    "Target.attachToTarget",
                    json!({"targetId": t["targetId"], "flatten": true}),
                    None,
                    CALL,
                )
                .await?;
            if let Some(s) = session["sessionId"].as_str() {
                intercept(&cdp, s).await?;
            }
        }
    }
    Ok(tokio::spawn(async move {
        loop {
            let e = match events.recv().await {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "browser: the file gate missed events");
                    continue;
                }
                Err(_) => return,
            };
            let (cdp, files, socks) = (cdp.clone(), files.clone(), socks.clone());
            match e.method.as_str() {
                "Target.attachedToTarget" => {
                    tokio::spawn(async move { attached(&cdp, &e).await });
                }
                "Fetch.requestPaused" => {
                    tokio::spawn(async move { paused(&cdp, files, &socks, e).await });
                }
                _ => {}
            }
        }
    }))
}

/// Turns on `file://` interception in `session`.
async fn intercept(cdp: &Cdp, session: &str) -> Result<(), CdpError> {
    cdp.call(
        "Fetch.enable",
        json!({"patterns": [{"urlPattern": "file://*", "requestStage": "Request"}]}),
        Some(session),
        CALL,
    )
    .await
    .map(drop)
}

/// A new target: pages (and their popups) get interception before they run; every target
/// held for the debugger is then let go.
async fn attached(cdp: &Cdp, e: &Event) {
    let Some(session) = e.params["sessionId"].as_str() else {
        return;
    };
    let kind = e.params["targetInfo"]["type"].as_str().unwrap_or_default();
    if matches!(kind, "page" | "iframe")
        && let Err(err) = intercept(cdp, session).await
    {
        // Without interception the target must not run: close it.
        tracing::warn!(error = %err, "browser: a new tab could not be guarded; closing it");
        let _ = cdp
            .call(
                "Target.closeTarget",
                json!({"targetId": e.params["targetInfo"]["targetId"]}),
                None,
                CALL,
            )
            .await;
        return;
    }
    if e.params["waitingForDebugger"] == true {
        let _ = cdp
            .call(
                "Runtime.runIfWaitingForDebugger",
                json!({}),
                Some(session),
                CALL,
            )
            .await;
    }
}

/// One intercepted `file://` request: answered with the file the gate reads, or refused.
async fn paused(cdp: &Cdp, files: Arc<dyn FileGate>, socks: &Socks, e: Event) {
    let id = e.params["requestId"].clone();
    let url = e.params["request"]["url"].as_str().unwrap_or_default();
    let read = match url::Url::parse(url)
        .ok()
        .and_then(|u| u.to_file_path().ok())
    {
        Some(path) => tokio::task::spawn_blocking(move || files.read(&path))
            .await
            .unwrap_or_else(|_| Err("the file could not be read".to_owned())),
        None => Err("not a local file path".to_owned()),
    };
    let session = e.session.as_deref();
    let answer = match read {
        Ok((bytes, mime)) => {
            cdp.call(
                "Fetch.fulfillRequest",
                json!({
                    "requestId": id,
                    "responseCode": 200,
                    "responseHeaders": [{"name": "Content-Type", "value": mime}],
                    "body": base64::engine::general_purpose::STANDARD.encode(bytes),
                }),
                session,
                CALL,
            )
            .await
        }
        Err(why) => {
            socks.record(Refusal {
                target: url.to_owned(),
                why,
            });
            cdp.call(
                "Fetch.failRequest",
                json!({"requestId": id, "errorReason": "AccessDenied"}),
                session,
                CALL,
            )
            .await
        }
    };
    if let Err(err) = answer {
        tracing::debug!(error = %err, url, "browser: a local file request was not answered");
    }
}

/// The gate switchboard uses: a file loads when the path policy lets the current roots read
/// it (checked on the opened descriptor), up to a size cap.
#[derive(Debug)]
pub struct RootsGate {
    scope: std::sync::RwLock<Option<crate::policy::FileScope>>,
    max_bytes: u64,
}

impl RootsGate {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            scope: std::sync::RwLock::new(None),
            max_bytes,
        }
    }

    /// The roots in force (as last set).
    pub fn scope(&self) -> Option<crate::policy::FileScope> {
        self.scope.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The roots in force from now on (set by each browser call, as the roots can change).
    pub fn set_scope(&self, scope: crate::policy::FileScope) {
        *self.scope.write().unwrap_or_else(|e| e.into_inner()) = Some(scope);
    }
}

impl FileGate for RootsGate {
    fn read(&self, path: &Path) -> Result<(Vec<u8>, String), String> {
        use std::io::Read;
        let scope = self
            .scope
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| "no roots are known yet".to_owned())?;
        let input = path.display().to_string();
        let resolved = scope.existing(&input).map_err(|e| e.to_string())?;
        let file = scope
            .open_read(&resolved.path, &input)
            .map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        file.take(self.max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{input}: {e}"))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(format!(
                "{input} is larger than {} bytes (files.max_media_bytes)",
                self.max_bytes
            ));
        }
        let head = &bytes[..bytes.len().min(512)];
        let mime = crate::support::mime::detect(path, head, std::str::from_utf8(head).is_ok());
        Ok((bytes, mime))
    }
}
