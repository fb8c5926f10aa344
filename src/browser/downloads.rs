//! What the browser downloads: every download lands in the browser's own profile folder
//! (named by its id, so a page cannot choose where or what name), is cut off past a size cap,
//! and waits there for the caller, who decides whether and where it goes (switchboard saves
//! it inside the roots, through the path policy). A download is a request like any other, so
//! it has already met the network rules on its way.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use super::{Cdp, CdpError};

/// A download that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub url: String,
    /// The file name the page or the server suggested (a bare name, never a path).
    pub name: String,
    /// Where the browser saved it; `None` when it did not complete.
    pub file: Option<PathBuf>,
    pub bytes: u64,
    /// Why it did not complete.
    pub failed: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// Started, by guid: url and suggested name.
    started: std::collections::HashMap<String, (String, String)>,
    ended: Vec<Download>,
}

/// Downloads kept until taken; older ones past this are dropped.
const MAX_KEPT: usize = 100;

/// Watches the browser's downloads; dropping it stops watching.
pub struct Downloads {
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Downloads {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Downloads {
    /// Sends every download of the browser to `dir`, cancelling any past `max_bytes`.
    pub async fn start(
        cdp: Arc<Cdp>,
        dir: PathBuf,
        max_bytes: u64,
        timeout: Duration,
    ) -> Result<Self, CdpError> {
        std::fs::create_dir_all(&dir).map_err(|e| CdpError::Refused {
            method: "Browser.setDownloadBehavior".into(),
            message: format!("{}: {e}", dir.display()),
        })?;
        let mut events = cdp.events();
        cdp.call(
            "Browser.setDownloadBehavior",
            json!({"behavior": "allowAndName", "downloadPath": dir, "eventsEnabled": true}),
            None,
            timeout,
        )
        .await?;
        let state: Arc<Mutex<State>> = Arc::default();
        let kept = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let e = match events.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                let p = &e.params;
                let guid = p["guid"].as_str().unwrap_or_default().to_owned();
                match e.method.as_str() {
                    "Browser.downloadWillBegin" => {
                        let url = p["url"].as_str().unwrap_or_default().to_owned();
                        let name = bare_name(p["suggestedFilename"].as_str().unwrap_or_default());
                        crate::support::lock(&kept)
                            .started
                            .insert(guid, (url, name));
                    }
                    "Browser.downloadProgress" => {
                        let received = p["receivedBytes"].as_u64().unwrap_or(0);
                        let state_now = p["state"].as_str().unwrap_or_default();
                        if state_now == "inProgress" && received > max_bytes {
                            let _ = cdp
                                .call(
                                    "Browser.cancelDownload",
                                    json!({"guid": guid}),
                                    None,
                                    timeout,
                                )
                                .await;
                            let mut s = crate::support::lock(&kept);
                            if let Some((url, name)) = s.started.remove(&guid) {
                                let _ = std::fs::remove_file(dir.join(&guid));
                                push(
                                    &mut s,
                                    Download {
                                        url,
                                        name,
                                        file: None,
                                        bytes: received,
                                        failed: Some(format!(
                                            "it is larger than {max_bytes} bytes (web.max_download_bytes)"
                                        )),
                                    },
                                );
                            }
                            continue;
                        }
                        if state_now != "completed" && state_now != "canceled" {
                            continue;
                        }
                        let mut s = crate::support::lock(&kept);
                        let Some((url, name)) = s.started.remove(&guid) else {
                            continue;
                        };
                        let done = state_now == "completed";
                        push(
                            &mut s,
                            Download {
                                url,
                                name,
                                file: done.then(|| dir.join(&guid)),
                                bytes: received,
                                failed: (!done).then(|| "it was cancelled".to_owned()),
                            },
                        );
                    }
                    _ => {}
                }
            }
        });
        Ok(Self { state, task })
    }

    /// The downloads that ended since the last call.
    pub fn take(&self) -> Vec<Download> {
        std::mem::take(&mut crate::support::lock(&self.state).ended)
    }
}

fn push(s: &mut State, d: Download) {
    if s.ended.len() >= MAX_KEPT {
        let old = s.ended.remove(0);
        if let Some(f) = old.file {
            let _ = std::fs::remove_file(f);
        }
    }
    s.ended.push(d);
}

/// The last component of a suggested name, without anything that would make it a path or
/// hidden; `download` when nothing is left.
pub fn bare_name(suggested: &str) -> String {
    let last = suggested
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches('.');
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.is_empty() {
        "download".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::bare_name;

    #[test]
    fn a_suggested_name_is_only_ever_a_bare_name() {
        assert_eq!(bare_name("report.pdf"), "report.pdf");
        assert_eq!(bare_name("../../etc/passwd"), "passwd");
        assert_eq!(bare_name("..\\..\\x.bat"), "x.bat");
        assert_eq!(bare_name(".bashrc"), "bashrc");
        assert_eq!(bare_name(""), "download");
        assert_eq!(bare_name(".."), "download");
        assert_eq!(bare_name("a\nb.txt"), "ab.txt");
    }
}
