//! A DevTools protocol client over a byte stream: each message is one JSON object ended by a
//! NUL byte, which is how Chromium speaks on `--remote-debugging-pipe`. Calls are matched to
//! their answers by id; everything else is an event, broadcast to whoever listens. Frames are
//! bounded, so a page cannot make switchboard buffer without limit, and a closed pipe fails
//! every call still waiting.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, oneshot};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CdpError {
    #[error("the browser closed its connection")]
    Closed,
    #[error("the browser refused {method}: {message}")]
    Refused { method: String, message: String },
    #[error("the browser did not answer {method} within {} s", .secs)]
    Timeout { method: String, secs: u64 },
    #[error("the browser sent a message of more than {0} bytes; the connection was closed")]
    TooLarge(usize),
}

/// One event: its method, its parameters, and the target session it belongs to.
#[derive(Debug, Clone)]
pub struct Event {
    pub method: String,
    pub params: Value,
    pub session: Option<String>,
}

/// The calls awaiting an answer, by id, with their method; `None` once the connection closed.
type Waiting =
    Arc<std::sync::Mutex<Option<HashMap<u64, (String, oneshot::Sender<Result<Value, CdpError>>)>>>>;

/// The client. Cheap to share behind an `Arc`; dropping it stops reading.
pub struct Cdp {
    writer: tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>,
    waiting: Waiting,
    next: AtomicU64,
    events: broadcast::Sender<Event>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Cdp {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Cdp {
    /// Starts reading `reader` (messages of at most `max_frame` bytes) and writes calls to
    /// `writer`. Events beyond `backlog` unread by a slow listener are dropped for it.
    pub fn start(
        reader: impl AsyncRead + Send + Unpin + 'static,
        writer: impl AsyncWrite + Send + Unpin + 'static,
        max_frame: usize,
        backlog: usize,
    ) -> Self {
        let waiting: Waiting = Arc::new(std::sync::Mutex::new(Some(HashMap::new())));
        let (events, _) = broadcast::channel(backlog.max(1));
        let reader = tokio::spawn(read_loop(
            BufReader::new(reader),
            max_frame,
            waiting.clone(),
            events.clone(),
        ));
        Self {
            writer: tokio::sync::Mutex::new(Box::new(writer)),
            waiting,
            next: AtomicU64::new(1),
            events,
            reader,
        }
    }

    /// Whether the connection has closed (the browser exited or crashed).
    pub fn is_closed(&self) -> bool {
        crate::support::lock(&self.waiting).is_none()
    }

    /// Events from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Calls `method` (in the target `session`, or on the browser) and waits at most `timeout`
    /// for its answer.
    pub async fn call(
        &self,
        method: &str,
        params: Value,
        session: Option<&str>,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        match crate::support::lock(&self.waiting).as_mut() {
            Some(w) => w.insert(id, (method.to_owned(), tx)),
            None => return Err(CdpError::Closed),
        };
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = Value::String(s.to_owned());
        }
        let mut bytes = serde_json::to_vec(&message).unwrap_or_default();
        bytes.push(0);
        let written = {
            let mut w = self.writer.lock().await;
            match w.write_all(&bytes).await {
                Ok(()) => w.flush().await,
                Err(e) => Err(e),
            }
        };
        if written.is_err() {
            self.forget(id);
            return Err(CdpError::Closed);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                self.forget(id);
                Err(CdpError::Timeout {
                    method: method.to_owned(),
                    secs: timeout.as_secs(),
                })
            }
        }
    }

    fn forget(&self, id: u64) {
        if let Some(w) = crate::support::lock(&self.waiting).as_mut() {
            w.remove(&id);
        }
    }
}

async fn read_loop(
    mut reader: BufReader<impl AsyncRead + Unpin>,
    max_frame: usize,
    waiting: Waiting,
    events: broadcast::Sender<Event>,
) {
    let mut buf = Vec::new();
    let why = loop {
        buf.clear();
        match read_frame(&mut reader, &mut buf, max_frame).await {
            Ok(true) => {}
            Ok(false) => break CdpError::Closed,
            Err(e) => break e,
        }
        let Ok(message) = serde_json::from_slice::<Value>(&buf) else {
            tracing::debug!("browser: a message that is not JSON was ignored");
            continue;
        };
        match message.get("id").and_then(Value::as_u64) {
            Some(id) => {
                let tx = crate::support::lock(&waiting)
                    .as_mut()
                    .and_then(|w| w.remove(&id));
                if let Some((method, tx)) = tx {
                    let answer = match message.get("error") {
                        Some(e) => Err(CdpError::Refused {
                            method,
                            message: e
                                .get("message")
                                .and_then(Value::as_str)
                                .unwrap_or("an error")
                                .to_owned(),
                        }),
                        None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                    };
                    let _ = tx.send(answer);
                }
            }
            None => {
                let Some(method) = message.get("method").and_then(Value::as_str) else {
                    continue;
                };
                let _ = events.send(Event {
                    method: method.to_owned(),
                    params: message.get("params").cloned().unwrap_or(Value::Null),
                    session: message
                        .get("sessionId")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
        }
    };
    // Every call still waiting learns the connection is gone; later calls fail at once.
    if let Some(waiting) = crate::support::lock(&waiting).take() {
        for (_, (_, tx)) in waiting {
            let _ = tx.send(Err(why.clone()));
        }
    }
}

/// Reads one NUL-ended frame into `buf`; false at the end of the stream.
async fn read_frame(
    reader: &mut BufReader<impl AsyncRead + Unpin>,
    buf: &mut Vec<u8>,
    max_frame: usize,
) -> Result<bool, CdpError> {
    loop {
        let available = reader.fill_buf().await.map_err(|_| CdpError::Closed)?;
        if available.is_empty() {
            return Ok(false);
        }
        let (take, done) = match available.iter().position(|&b| b == 0) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        let body = if done { take - 1 } else { take };
        if buf.len() + body > max_frame {
            return Err(CdpError::TooLarge(max_frame));
        }
        buf.extend_from_slice(&available[..body]);
        reader.consume(take);
        if done {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake browser on the other end of a duplex pipe: answers `Echo` with its params, fails
    /// `Fail`, sends an event first for `Notify`, and never answers `Hang`.
    async fn browser() -> Cdp {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (r, w) = tokio::io::split(ours);
        let (mut tr, mut tw) = tokio::io::split(theirs);
        tokio::spawn(async move {
            let mut reader = BufReader::new(&mut tr);
            let mut buf = Vec::new();
            while let Ok(true) = read_frame(&mut reader, &mut buf, 1 << 20).await {
                let m: Value = serde_json::from_slice(&buf).unwrap();
                buf.clear();
                let id = m["id"].clone();
                let out = match m["method"].as_str().unwrap() {
                    "Echo" => vec![json!({"id": id, "result": m["params"]})],
                    "Fail" => vec![json!({"id": id, "error": {"code": -32000, "message": "no"}})],
                    "Notify" => vec![
                        json!({"method": "Page.loaded", "params": {"n": 1}, "sessionId": "S"}),
                        json!({"id": id, "result": {}}),
                    ],
                    "Huge" => vec![json!({"id": id, "result": {"x": "y".repeat(2000)}})],
                    _ => vec![],
                };
                for o in out {
                    let mut b = serde_json::to_vec(&o).unwrap();
                    b.push(0);
                    tw.write_all(&b).await.unwrap();
                }
            }
        });
        Cdp::start(r, w, 1000, 16)
    }

    #[tokio::test]
    async fn calls_meet_their_answers_and_events_are_broadcast() {
        let cdp = browser().await;
        let t = Duration::from_secs(5);
        let a = cdp.call("Echo", json!({"a": 1}), None, t);
        let b = cdp.call("Echo", json!({"b": 2}), Some("S"), t);
        let (a, b) = tokio::join!(a, b);
        assert_eq!(a.unwrap(), json!({"a": 1}));
        assert_eq!(b.unwrap(), json!({"b": 2}));
        assert!(matches!(
            cdp.call("Fail", json!({}), None, t).await,
            Err(CdpError::Refused { message, .. }) if message == "no"
        ));
        let mut events = cdp.events();
        cdp.call("Notify", json!({}), None, t).await.unwrap();
        let e = events.recv().await.unwrap();
        assert_eq!(
            (e.method.as_str(), e.session.as_deref()),
            ("Page.loaded", Some("S"))
        );
        assert!(matches!(
            cdp.call("Hang", json!({}), None, Duration::from_millis(50))
                .await,
            Err(CdpError::Timeout { .. })
        ));
        // A frame over the limit closes the connection; every later call fails at once.
        assert!(cdp.call("Huge", json!({}), None, t).await.is_err());
        assert_eq!(
            cdp.call("Echo", json!({}), None, t).await,
            Err(CdpError::Closed)
        );
    }
}
