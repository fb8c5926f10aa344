//! One tab, and what can be done in it: navigate (waiting for the load), read it as a
//! [`snapshot`](super::snapshot), act on the elements the snapshot names by ref (click, fill,
//! select, press a key), evaluate an expression, and take a screenshot. Each act is what a
//! person does (the element scrolled into view, a real mouse event at its centre, typed
//! text), so pages see ordinary input events.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::snapshot::{self, Snapshot};
use super::{Cdp, CdpError};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Cdp(#[from] CdpError),
    #[error(
        "`{0}` is not a ref from the last snapshot (refs look like e42); take a snapshot and use one of its refs"
    )]
    BadRef(String),
    #[error(
        "the element {0} is not on the page any more, or has no size (hidden); take a new snapshot"
    )]
    Gone(String),
    #[error(
        "the page changed since the snapshot that gave {0} (it navigated or reloaded); take a new snapshot and use its refs"
    )]
    Stale(String),
    #[error("the page did not finish loading within {} s", .0.as_secs())]
    LoadTimeout(Duration),
    #[error("{0}")]
    Script(String),
}

/// A tab attached over the browser's connection.
pub struct Page {
    cdp: Arc<Cdp>,
    pub target: String,
    pub session: String,
    /// How long one call, and one navigation, may take.
    pub timeout: Duration,
    /// The document the last snapshot read (its loader id): refs are good for it only.
    snapshot_of: std::sync::Mutex<Option<String>>,
    /// What the tab said and did since it was last asked (see [`Log`]).
    log: Arc<std::sync::Mutex<Log>>,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for Page {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Entries kept per kind; older ones are dropped and counted.
const MAX_LOG: usize = 500;

/// What a tab said and did: console messages and uncaught errors, its requests and how they
/// ended, and a dialog waiting for an answer.
#[derive(Debug, Default, Clone)]
pub struct Log {
    pub console: Vec<String>,
    pub requests: Vec<Request>,
    /// Entries dropped past [`MAX_LOG`].
    pub dropped: usize,
    /// A dialog (alert, confirm, prompt, beforeunload) the page is blocked on.
    pub dialog: Option<Dialog>,
    /// The requests still in flight (kept when the log is taken).
    pub in_flight: std::collections::HashSet<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub method: String,
    pub url: String,
    /// The HTTP status, once answered.
    pub status: Option<u64>,
    /// Why it failed (blocked by the network rules, aborted…).
    pub failed: Option<String>,
    /// Its body was received in full.
    pub finished: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub kind: String,
    pub message: String,
}

impl Log {
    fn push<T>(list: &mut Vec<T>, dropped: &mut usize, item: T) {
        if list.len() >= MAX_LOG {
            list.remove(0);
            *dropped += 1;
        }
        list.push(item);
    }

    fn take(&mut self, event: &super::Event) {
        let p = &event.params;
        let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        match event.method.as_str() {
            "Runtime.consoleAPICalled" => {
                let text: Vec<String> = p["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| match a.get("value") {
                        Some(Value::String(t)) => t.clone(),
                        Some(v) => v.to_string(),
                        None => s(&a["description"]),
                    })
                    .collect();
                let line = format!("[{}] {}", s(&p["type"]), text.join(" "));
                Self::push(&mut self.console, &mut self.dropped, line);
            }
            "Runtime.exceptionThrown" => {
                let d = &p["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| s(&d["text"]));
                Self::push(
                    &mut self.console,
                    &mut self.dropped,
                    format!("[uncaught] {text}"),
                );
            }
            "Network.requestWillBeSent" => {
                let r = Request {
                    id: s(&p["requestId"]),
                    method: s(&p["request"]["method"]),
                    url: s(&p["request"]["url"]),
                    status: None,
                    failed: None,
                    finished: false,
                };
                self.in_flight.insert(r.id.clone());
                Self::push(&mut self.requests, &mut self.dropped, r);
            }
            "Network.webSocketCreated" => {
                let r = Request {
                    id: s(&p["requestId"]),
                    method: "WebSocket".into(),
                    url: s(&p["url"]),
                    status: None,
                    failed: None,
                    finished: false,
                };
                Self::push(&mut self.requests, &mut self.dropped, r);
            }
            "Network.responseReceived" => {
                let id = s(&p["requestId"]);
                if let Some(r) = self.requests.iter_mut().rev().find(|r| r.id == id) {
                    r.status = p["response"]["status"].as_u64();
                }
            }
            "Network.loadingFinished" => {
                let id = s(&p["requestId"]);
                self.in_flight.remove(&id);
                if let Some(r) = self.requests.iter_mut().rev().find(|r| r.id == id) {
                    r.finished = true;
                }
            }
            "Network.loadingFailed" => {
                let id = s(&p["requestId"]);
                self.in_flight.remove(&id);
                if let Some(r) = self.requests.iter_mut().rev().find(|r| r.id == id) {
                    r.failed = Some(s(&p["errorText"]));
                }
            }
            "Page.javascriptDialogOpening" => {
                self.dialog = Some(Dialog {
                    kind: s(&p["type"]),
                    message: s(&p["message"]),
                });
            }
            "Page.javascriptDialogClosed" => self.dialog = None,
            _ => {}
        }
    }
}

impl Page {
    /// Opens a new blank tab and attaches to it.
    pub async fn open(cdp: Arc<Cdp>, timeout: Duration) -> Result<Self, PageError> {
        let target = cdp
            .call(
                "Target.createTarget",
                json!({"url": "about:blank"}),
                None,
                timeout,
            )
            .await?["targetId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Self::attach(cdp, target, timeout).await
    }

    /// Attaches to the tab `target` (one the page opened itself, a popup).
    pub async fn attach(
        cdp: Arc<Cdp>,
        target: String,
        timeout: Duration,
    ) -> Result<Self, PageError> {
        let session = cdp
            .call(
                "Target.attachToTarget",
                json!({"targetId": target, "flatten": true}),
                None,
                timeout,
            )
            .await?["sessionId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let log: Arc<std::sync::Mutex<Log>> = Arc::default();
        let listener = {
            let (mut events, log, me) = (cdp.events(), log.clone(), session.clone());
            tokio::spawn(async move {
                while let Some(e) = next_event(&mut events, &me, None).await {
                    crate::support::lock(&log).take(&e);
                }
            })
        };
        let page = Self {
            cdp,
            target,
            session,
            timeout,
            snapshot_of: std::sync::Mutex::new(None),
            log,
            listener,
        };
        for domain in ["Page.enable", "Runtime.enable", "Network.enable"] {
            page.call(domain, json!({})).await?;
        }
        Ok(page)
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value, CdpError> {
        self.cdp
            .call(method, params, Some(&self.session), self.timeout)
            .await
    }

    /// A call that acts on the page as input does: if it makes the page open a dialog, the
    /// page blocks (and the browser holds the answer) until the dialog is answered, so the
    /// act is done as soon as the dialog opens; [`Page::dialog`] then shows it.
    async fn act(&self, method: &str, params: Value) -> Result<(), CdpError> {
        let mut events = self.cdp.events();
        let opened = async {
            let dialog = Some("Page.javascriptDialogOpening");
            if next_event(&mut events, &self.session, dialog)
                .await
                .is_none()
            {
                // The connection closed: the call itself says so.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = self.call(method, params) => r.map(drop),
            () = opened => {
                // The listener records the dialog from the same event; wait until it has.
                for _ in 0..100 {
                    if self.dialog().is_some() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Ok(())
            }
        }
    }

    /// Navigates to `url` and waits for its load event (or the timeout).
    pub async fn navigate(&self, url: &str) -> Result<(), PageError> {
        let mut events = self.cdp.events();
        let answer = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(e) = answer.get("errorText").and_then(Value::as_str) {
            return Err(PageError::Script(format!(
                "`{url}` could not be opened: {e}"
            )));
        }
        self.wait_load(&mut events).await
    }

    /// Goes back (`-1`) or forward (`1`) in the tab's history and waits for the load.
    pub async fn go(&self, delta: i64) -> Result<(), PageError> {
        let history = self.call("Page.getNavigationHistory", json!({})).await?;
        let at = history["currentIndex"].as_i64().unwrap_or(0) + delta;
        let entries = history["entries"].as_array().cloned().unwrap_or_default();
        let Some(entry) = usize::try_from(at).ok().and_then(|i| entries.get(i)) else {
            return Err(PageError::Script(format!(
                "there is no page to go {} to in this tab's history",
                if delta < 0 { "back" } else { "forward" }
            )));
        };
        let mut events = self.cdp.events();
        self.call(
            "Page.navigateToHistoryEntry",
            json!({"entryId": entry["id"]}),
        )
        .await?;
        self.wait_load(&mut events).await
    }

    /// Reloads the page and waits for the load.
    pub async fn reload(&self) -> Result<(), PageError> {
        let mut events = self.cdp.events();
        self.call("Page.reload", json!({})).await?;
        self.wait_load(&mut events).await
    }

    /// Waits until the page's text contains `text` (or, with `gone`, no longer does), up to
    /// `within`.
    pub async fn wait_for_text(
        &self,
        text: &str,
        gone: bool,
        within: Duration,
    ) -> Result<(), PageError> {
        let probe = format!(
            "(document.body ? document.body.innerText : '').includes({})",
            serde_json::to_string(text).unwrap_or_default()
        );
        let shows = if gone { "still shows" } else { "does not show" };
        self.poll(&probe, !gone, within, &format!("the page {shows} `{text}`"))
            .await
    }

    /// Waits until an element matches the CSS `selector` (or, with `gone`, none does), up to
    /// `within`.
    pub async fn wait_for_selector(
        &self,
        selector: &str,
        gone: bool,
        within: Duration,
    ) -> Result<(), PageError> {
        let quoted = serde_json::to_string(selector).unwrap_or_default();
        let valid = format!(
            "(() => {{ try {{ document.querySelector({quoted}); return true; }} catch (e) {{ return false; }} }})()"
        );
        if self.evaluate(&valid).await? != Value::Bool(true) {
            return Err(PageError::Script(format!(
                "`{selector}` is not a CSS selector (e.g. `#results li`, `button.primary`)"
            )));
        }
        let probe = format!("document.querySelector({quoted}) !== null");
        let has = if gone { "still has" } else { "has no" };
        self.poll(
            &probe,
            !gone,
            within,
            &format!("the page {has} element matching `{selector}`"),
        )
        .await
    }

    /// Evaluates `probe` every 100 ms until it is `want`, up to `within`; else fails with
    /// `failing` and the time waited.
    async fn poll(
        &self,
        probe: &str,
        want: bool,
        within: Duration,
        failing: &str,
    ) -> Result<(), PageError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.evaluate(probe).await? == Value::Bool(want) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(PageError::Script(format!(
                    "{failing} after {} s",
                    within.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no request of the tab has been in flight for `quiet`, up to `within`.
    pub async fn wait_for_idle(&self, quiet: Duration, within: Duration) -> Result<(), PageError> {
        let deadline = tokio::time::Instant::now() + within;
        let mut since = tokio::time::Instant::now();
        loop {
            let busy = !crate::support::lock(&self.log).in_flight.is_empty();
            let now = tokio::time::Instant::now();
            if busy {
                since = now;
            } else if now - since >= quiet {
                return Ok(());
            }
            if now >= deadline {
                return Err(PageError::Script(format!(
                    "the page kept loading for {} s",
                    within.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for this tab's next load event. A page that does not load in time is stopped,
    /// so it stops using the network and the tab can be used again.
    async fn wait_load(
        &self,
        events: &mut tokio::sync::broadcast::Receiver<super::Event>,
    ) -> Result<(), PageError> {
        let waited = tokio::time::timeout(self.timeout, async {
            match next_event(events, &self.session, Some("Page.loadEventFired")).await {
                Some(_) => Ok(()),
                None => Err(PageError::Cdp(CdpError::Closed)),
            }
        })
        .await;
        if waited.is_err() {
            let _ = self.call("Page.stopLoading", json!({})).await;
        }
        waited.unwrap_or(Err(PageError::LoadTimeout(self.timeout)))
    }

    /// The tab's URL and title.
    pub async fn info(&self) -> Result<(String, String), PageError> {
        let info = self
            .cdp
            .call(
                "Target.getTargetInfo",
                json!({"targetId": self.target}),
                None,
                self.timeout,
            )
            .await?;
        let field = |k: &str| {
            info["targetInfo"][k]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        Ok((field("url"), field("title")))
    }

    /// Makes this the tab shown (it matters with a window: a hidden tab is throttled).
    pub async fn bring_to_front(&self) -> Result<(), PageError> {
        self.call("Page.bringToFront", json!({})).await?;
        Ok(())
    }

    /// The loader id of the document now in the tab's main frame.
    async fn document(&self) -> Result<String, PageError> {
        let tree = self.call("Page.getFrameTree", json!({})).await?;
        Ok(tree["frameTree"]["frame"]["loaderId"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The backend node id `r` names, if the page still shows the document the last snapshot
    /// read (a ref of another document could name a different element).
    async fn resolve_ref(&self, r: &str) -> Result<u64, PageError> {
        let id = snapshot::parse_ref(r).ok_or_else(|| PageError::BadRef(r.to_owned()))?;
        let now = self.document().await?;
        let read = crate::support::lock(&self.snapshot_of).clone();
        if read.as_deref() != Some(now.as_str()) {
            return Err(PageError::Stale(r.to_owned()));
        }
        Ok(id)
    }

    /// The page as text.
    pub async fn snapshot(&self) -> Result<Snapshot, PageError> {
        let document = self.document().await?;
        let tree = self.call("Accessibility.getFullAXTree", json!({})).await?;
        *crate::support::lock(&self.snapshot_of) = Some(document);
        let nodes = tree["nodes"].as_array().cloned().unwrap_or_default();
        Ok(snapshot::render(&nodes))
    }

    /// The value of a JavaScript expression (promises awaited), as JSON.
    pub async fn evaluate(&self, expression: &str) -> Result<Value, PageError> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(e) = r.get("exceptionDetails") {
            let text = e["exception"]["description"]
                .as_str()
                .or_else(|| e["text"].as_str())
                .unwrap_or("the expression threw");
            return Err(PageError::Script(text.to_owned()));
        }
        Ok(r["result"]["value"].clone())
    }

    /// The element a ref names, scrolled into view: its backend id and its centre.
    async fn locate(&self, r: &str) -> Result<(u64, f64, f64), PageError> {
        let id = self.resolve_ref(r).await?;
        let gone = || PageError::Gone(r.to_owned());
        self.call("DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": id}))
            .await
            .map_err(|_| gone())?;
        let quads = self
            .call("DOM.getContentQuads", json!({"backendNodeId": id}))
            .await
            .map_err(|_| gone())?;
        let q: Vec<f64> = quads["quads"][0]
            .as_array()
            .ok_or_else(gone)?
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        if q.len() != 8 {
            return Err(gone());
        }
        let x = (q[0] + q[2] + q[4] + q[6]) / 4.0;
        let y = (q[1] + q[3] + q[5] + q[7]) / 4.0;
        Ok((id, x, y))
    }

    /// Clicks the element `r` at its centre, as a mouse would.
    pub async fn click(&self, r: &str) -> Result<(), PageError> {
        let (_, x, y) = self.locate(r).await?;
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            self.act(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
            )
            .await?;
            if self.dialog().is_some() {
                break;
            }
        }
        Ok(())
    }

    /// Moves the mouse over the element `r`.
    pub async fn hover(&self, r: &str) -> Result<(), PageError> {
        let (_, x, y) = self.locate(r).await?;
        self.call(
            "Input.dispatchMouseEvent",
            json!({"type": "mouseMoved", "x": x, "y": y}),
        )
        .await?;
        Ok(())
    }

    /// Gives the element `r` the keyboard focus.
    pub async fn focus(&self, r: &str) -> Result<(), PageError> {
        self.on_element(r, "function() { this.focus(); }", Value::Null)
            .await
            .map(drop)
    }

    /// Runs `function` (JavaScript source, `this` is the element) on the element `r`.
    async fn on_element(&self, r: &str, function: &str, args: Value) -> Result<Value, PageError> {
        let id = self.resolve_ref(r).await?;
        let object = self
            .call("DOM.resolveNode", json!({"backendNodeId": id}))
            .await
            .map_err(|_| PageError::Gone(r.to_owned()))?;
        let object_id = object["object"]["objectId"].clone();
        let out = self
            .call(
                "Runtime.callFunctionOn",
                json!({"objectId": object_id, "functionDeclaration": function, "arguments": [{"value": args}], "returnByValue": true}),
            )
            .await?;
        if let Some(e) = out.get("exceptionDetails") {
            return Err(PageError::Script(
                e["exception"]["description"]
                    .as_str()
                    .unwrap_or("the element refused")
                    .to_owned(),
            ));
        }
        Ok(out["result"]["value"].clone())
    }

    /// Gives the form field `r` the value `value`, as its kind takes one: a `<select>` picks
    /// the option with that value or label, a checkbox or radio button is clicked when its
    /// state differs from `value` (`true`/`false`, `checked`/`unchecked`, `on`/`off`), and
    /// any other field has its text replaced by typing `value`. Returns what was done.
    pub async fn set_field(&self, r: &str, value: &str) -> Result<String, PageError> {
        let kind = self
            .on_element(
                r,
                "function() { const t = (this.type || '').toLowerCase(); if (this.tagName === 'SELECT') return 'select'; if (t === 'checkbox' || t === 'radio' || ['checkbox', 'radio', 'switch'].includes(this.getAttribute('role'))) return 'check:' + (this.checked === true || this.getAttribute('aria-checked') === 'true'); if (t === 'file') return 'file'; return 'text'; }",
                Value::Null,
            )
            .await?;
        match kind.as_str().unwrap_or("text") {
            "select" => {
                let chosen = self.select(r, &[value.to_owned()]).await?;
                Ok(format!("{r}: selected {}", chosen.join(", ")))
            }
            "file" => Err(PageError::Script(format!(
                "{r} is a file input: use browser_upload with files from the roots"
            ))),
            check if check.starts_with("check:") => {
                let want = match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "checked" | "on" | "yes" | "1" => true,
                    "false" | "unchecked" | "off" | "no" | "0" => false,
                    other => {
                        return Err(PageError::Script(format!(
                            "{r} is a checkbox or radio button: give true or false, not `{other}`"
                        )));
                    }
                };
                if check == format!("check:{want}") {
                    return Ok(format!(
                        "{r}: already {}",
                        if want { "checked" } else { "unchecked" }
                    ));
                }
                self.click(r).await?;
                Ok(format!(
                    "{r}: {}",
                    if want { "checked" } else { "unchecked" }
                ))
            }
            _ => {
                self.fill(r, value).await?;
                Ok(format!("{r}: typed {} characters", value.chars().count()))
            }
        }
    }

    /// Replaces the text of the field `r` with `text`, typed as a person would (the page sees
    /// its input events).
    pub async fn fill(&self, r: &str, text: &str) -> Result<(), PageError> {
        self.on_element(
            r,
            "function() { this.focus(); if ('value' in this) { this.value = ''; } else { this.textContent = ''; } this.dispatchEvent(new Event('input', {bubbles: true})); }",
            Value::Null,
        )
        .await?;
        self.act("Input.insertText", json!({"text": text})).await?;
        self.on_element(
            r,
            "function() { this.dispatchEvent(new Event('change', {bubbles: true})); }",
            Value::Null,
        )
        .await?;
        Ok(())
    }

    /// Selects the options of the `<select>` `r` whose value or label is in `values`; returns
    /// the values selected.
    pub async fn select(&self, r: &str, values: &[String]) -> Result<Vec<String>, PageError> {
        let chosen = self
            .on_element(
                r,
                "function(wanted) { if (this.tagName !== 'SELECT') throw new Error('not a <select>: use click for other elements'); const options = Array.from(this.options); const match = (o) => wanted.includes(o.value) || wanted.includes(o.label); if (!options.some(match)) throw new Error('no option has one of these values or labels: ' + wanted.join(', ')); if (this.multiple) { for (const o of options) o.selected = match(o); } else { this.selectedIndex = options.findIndex(match); } this.dispatchEvent(new Event('input', {bubbles: true})); this.dispatchEvent(new Event('change', {bubbles: true})); return Array.from(this.selectedOptions).map((o) => o.value); }",
                json!(values),
            )
            .await?;
        Ok(chosen
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }

    /// Presses `key` (a name such as `Enter`, `Tab`, `Escape`, `ArrowDown`, or one character)
    /// in whatever has the focus.
    pub async fn press(&self, key: &str) -> Result<(), PageError> {
        let (code, text) = match key {
            "Enter" => (13, "\r"),
            "Tab" => (9, ""),
            "Escape" => (27, ""),
            "Backspace" => (8, ""),
            "ArrowDown" => (40, ""),
            "ArrowUp" => (38, ""),
            "ArrowLeft" => (37, ""),
            "ArrowRight" => (39, ""),
            k if k.chars().count() == 1 => (0, k),
            other => {
                return Err(PageError::Script(format!(
                    "`{other}` is not a key name this knows: Enter, Tab, Escape, Backspace, ArrowDown/Up/Left/Right, or one character"
                )));
            }
        };
        let down = if text.is_empty() {
            "rawKeyDown"
        } else {
            "keyDown"
        };
        let mut params = json!({"type": down, "key": key, "windowsVirtualKeyCode": code});
        if !text.is_empty() {
            params["text"] = Value::String(text.to_owned());
        }
        self.act("Input.dispatchKeyEvent", params).await?;
        if self.dialog().is_none() {
            self.act(
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": key, "windowsVirtualKeyCode": code}),
            )
            .await?;
        }
        Ok(())
    }

    /// A PNG of the viewport, or of the whole page.
    pub async fn screenshot(&self, full_page: bool) -> Result<Vec<u8>, PageError> {
        self.capture(&Shot {
            full_page,
            ..Shot::default()
        })
        .await
    }

    /// A picture of the page as `shot` says (viewport, whole page or one element; PNG or JPEG).
    pub async fn capture(&self, shot: &Shot) -> Result<Vec<u8>, PageError> {
        let mut params = match shot.quality {
            Some(q) => json!({"format": "jpeg", "quality": q}),
            None => json!({"format": "png"}),
        };
        if let Some(r) = &shot.element {
            let id = self.resolve_ref(r).await?;
            self.call("DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": id}))
                .await
                .map_err(|_| PageError::Gone(r.clone()))?;
            let model = self
                .call("DOM.getBoxModel", json!({"backendNodeId": id}))
                .await
                .map_err(|_| PageError::Gone(r.clone()))?;
            let q: Vec<f64> = model["model"]["border"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_f64)
                .collect();
            if q.len() != 8 {
                return Err(PageError::Gone(r.clone()));
            }
            let xs = [q[0], q[2], q[4], q[6]];
            let ys = [q[1], q[3], q[5], q[7]];
            let (x0, x1) = (
                xs.iter().copied().fold(f64::MAX, f64::min),
                xs.iter().copied().fold(f64::MIN, f64::max),
            );
            let (y0, y1) = (
                ys.iter().copied().fold(f64::MAX, f64::min),
                ys.iter().copied().fold(f64::MIN, f64::max),
            );
            if x1 - x0 < 1.0 || y1 - y0 < 1.0 {
                return Err(PageError::Gone(r.clone()));
            }
            // The box is in viewport coordinates; the clip is in the page's.
            let metrics = self.call("Page.getLayoutMetrics", json!({})).await?;
            let (sx, sy) = (
                metrics["cssVisualViewport"]["pageX"]
                    .as_f64()
                    .unwrap_or(0.0),
                metrics["cssVisualViewport"]["pageY"]
                    .as_f64()
                    .unwrap_or(0.0),
            );
            params["clip"] = json!({"x": x0 + sx, "y": y0 + sy, "width": x1 - x0, "height": y1 - y0, "scale": 1});
            params["captureBeyondViewport"] = Value::Bool(true);
        } else if shot.full_page {
            params["captureBeyondViewport"] = Value::Bool(true);
            let metrics = self.call("Page.getLayoutMetrics", json!({})).await?;
            let size = &metrics["cssContentSize"];
            params["clip"] = json!({"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1});
        }
        let shot = self.call("Page.captureScreenshot", params).await?;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| PageError::Script(format!("the screenshot did not decode: {e}")))
    }

    /// What the tab logged since the last call (console, requests); a waiting dialog stays
    /// until it is answered, and a request still in flight stays too, so the next call shows
    /// how it ended.
    pub fn take_log(&self) -> Log {
        let mut log = crate::support::lock(&self.log);
        let requests = std::mem::take(&mut log.requests);
        let in_flight = log.in_flight.clone();
        log.requests = requests
            .iter()
            .filter(|r| in_flight.contains(&r.id))
            .cloned()
            .collect();
        Log {
            console: std::mem::take(&mut log.console),
            requests,
            dropped: std::mem::take(&mut log.dropped),
            dialog: log.dialog.clone(),
            in_flight: log.in_flight.clone(),
        }
    }

    /// The `host:port` of every request the tab made since its log was last taken (to tell
    /// its refused connections from the browser's own).
    pub fn request_hosts(&self) -> std::collections::HashSet<String> {
        crate::support::lock(&self.log)
            .requests
            .iter()
            .filter_map(|r| {
                let u = url::Url::parse(&r.url).ok()?;
                Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?))
            })
            .collect()
    }

    /// The dialog the page waits on, if any.
    pub fn dialog(&self) -> Option<Dialog> {
        crate::support::lock(&self.log).dialog.clone()
    }

    /// Answers the waiting dialog: accept (with `text` for a prompt) or dismiss.
    pub async fn answer_dialog(&self, accept: bool, text: Option<&str>) -> Result<(), PageError> {
        if self.dialog().is_none() {
            return Err(PageError::Script("no dialog is open on this page".into()));
        }
        let mut params = json!({"accept": accept});
        if let Some(t) = text {
            params["promptText"] = Value::String(t.to_owned());
        }
        self.call("Page.handleJavaScriptDialog", params).await?;
        crate::support::lock(&self.log).dialog = None;
        Ok(())
    }

    /// The page as a PDF (headless browsers only).
    pub async fn pdf(&self) -> Result<Vec<u8>, PageError> {
        let out = self
            .call("Page.printToPDF", json!({"printBackground": true}))
            .await?;
        base64::engine::general_purpose::STANDARD
            .decode(out["data"].as_str().unwrap_or_default())
            .map_err(|e| PageError::Script(format!("the PDF did not decode: {e}")))
    }

    /// Sets the files of the file input `r` (paths the caller has checked).
    pub async fn upload(&self, r: &str, files: &[std::path::PathBuf]) -> Result<(), PageError> {
        let id = self.resolve_ref(r).await?;
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        self.call(
            "DOM.setFileInputFiles",
            json!({"files": files, "backendNodeId": id}),
        )
        .await
        .map_err(|e| match e {
            CdpError::Refused { message, .. } => {
                PageError::Script(format!("{r} does not take files: {message}"))
            }
            other => PageError::Cdp(other),
        })?;
        Ok(())
    }

    /// Closes the tab.
    pub async fn close(self) {
        let _ = self
            .cdp
            .call(
                "Target.closeTarget",
                json!({"targetId": self.target}),
                None,
                self.timeout,
            )
            .await;
    }
}

/// What a screenshot shows and how it is encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shot {
    /// The whole page, not only the viewport.
    pub full_page: bool,
    /// Only this element (a snapshot ref).
    pub element: Option<String>,
    /// JPEG at this quality (1–100) instead of PNG.
    pub quality: Option<u8>,
}

/// The next event of the tab `session` (with `method`, when given); `None` once the
/// connection is closed. Events a slow reader missed are skipped.
async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<super::Event>,
    session: &str,
    method: Option<&str>,
) -> Option<super::Event> {
    loop {
        match events.recv().await {
            Ok(e)
                if e.session.as_deref() == Some(session)
                    && method.is_none_or(|m| e.method == m) =>
            {
                return Some(e);
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => return None,
        }
    }
}
