//! The line-delimited JSON-RPC transport between the host and switchboard.
//!
//! rmcp's own stdio transport silently drops lines that are not JSON and lets a notification sent
//! before `initialize` end the session. People pipe JSON-RPC into switchboard by hand, so this
//! transport answers every bad line instead: `-32700` for text that is not JSON, `-32600` for JSON
//! that is not a JSON-RPC message or for a frame over `limits.max_frame_bytes` (discarded as it
//! streams in, never buffered whole), `-32602` for a known method with malformed params, and a
//! clear error for requests sent before `initialize` or beyond `limits.max_in_flight`. It also
//! reports end of input through a token, so the server can exit promptly.

use std::collections::HashSet;
use std::sync::{Arc, Mutex as StdMutex};

use rmcp::RoleServer;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, JsonRpcMessage, RequestId,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// Requests the MCP schema defines; a parse failure on one of these is an params problem.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
    "server/discover",
];

/// Methods that may arrive before `initialize` (the lifecycle allows ping; discovery is the
/// stateless protocol's opener).
const PRE_INIT_METHODS: &[&str] = &["initialize", "ping", "server/discover"];

pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    line: Vec<u8>,
    /// Set while the rest of an oversized line is skipped. Kept on the struct because
    /// `receive` is polled inside a `select!` and may be dropped mid-line.
    discarding: bool,
    max_frame: usize,
    max_in_flight: usize,
    writer: Arc<Mutex<W>>,
    /// Ids of client requests that have not been answered yet. A std mutex: it is held for a
    /// set operation only, never across an await.
    in_flight: Arc<StdMutex<HashSet<RequestId>>>,
    started: bool,
    eof: CancellationToken,
}

enum Frame {
    Line,
    Oversized,
    Eof,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    pub fn new(
        reader: R,
        writer: W,
        max_frame: usize,
        max_in_flight: usize,
        eof: CancellationToken,
    ) -> Self {
        Self {
            reader: BufReader::with_capacity(64 * 1024, reader),
            line: Vec::new(),
            discarding: false,
            max_frame,
            max_in_flight,
            writer: Arc::new(Mutex::new(writer)),
            in_flight: Arc::default(),
            started: false,
            eof,
        }
    }

    /// Reads one newline-terminated frame into `self.line`, never holding more than
    /// `max_frame` bytes of it. Cancellation-safe: bytes are moved out of the reader's buffer
    /// only together with their copy into `self.line`.
    async fn read_frame(&mut self) -> std::io::Result<Frame> {
        loop {
            let (used, done, oversized) = {
                let buf = self.reader.fill_buf().await?;
                if buf.is_empty() {
                    return Ok(Frame::Eof);
                }
                let newline = buf.iter().position(|b| *b == b'\n');
                let take = newline.map_or(buf.len(), |i| i + 1);
                if self.discarding {
                    if newline.is_some() {
                        self.discarding = false;
                    }
                    (take, false, false)
                } else if self.line.len() + take > self.max_frame + 1 {
                    self.line.clear();
                    self.discarding = newline.is_none();
                    (take, false, true)
                } else {
                    self.line.extend_from_slice(&buf[..take]);
                    (take, newline.is_some(), false)
                }
            };
            self.reader.consume(used);
            if oversized {
                return Ok(Frame::Oversized);
            }
            if done {
                return Ok(Frame::Line);
            }
        }
    }

    /// Writes one protocol error to the output from a task of its own, so `receive` never
    /// awaits a write: it is polled inside a `select!` and must stay cancellation-safe.
    fn reply_error(&self, id: Value, code: i64, message: String) {
        let frame =
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
        let mut bytes = serde_json::to_vec(&frame).unwrap_or_default();
        bytes.push(b'\n');
        let writer = self.writer.clone();
        tokio::spawn(async move {
            let mut w = writer.lock().await;
            if let Err(e) = async {
                w.write_all(&bytes).await?;
                w.flush().await
            }
            .await
            {
                tracing::warn!(error = %e, "could not write an error reply");
            }
        });
    }

    /// Decides what to do with one complete line. `None` means it was answered or dropped here.
    fn handle_line(&mut self, line: &[u8]) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut bytes: &[u8] = line;
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        // Fast path: once the session has started, a well-formed message is parsed exactly
        // once. Anything unusual falls through to the careful path below.
        if self.started
            && let Ok(message) = serde_json::from_slice::<ClientJsonRpcMessage>(bytes)
        {
            return self.admit(message, None);
        }
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                let msg = format!(
                    "Parse error: the line is not valid JSON ({e}). Send one JSON-RPC message per line."
                );
                self.reply_error(Value::Null, -32700, msg);
                return None;
            }
        };
        let Value::Object(obj) = &value else {
            let msg = if value.is_array() {
                "Invalid Request: JSON-RPC batches are not supported (removed in MCP 2025-06-18); send one message per line."
            } else {
                "Invalid Request: a JSON-RPC message must be a JSON object."
            };
            self.reply_error(Value::Null, -32600, msg.to_owned());
            return None;
        };
        let method = obj.get("method").and_then(Value::as_str).map(str::to_owned);
        let id = obj
            .get("id")
            .filter(|v| v.is_string() || v.is_number())
            .cloned();
        let is_request = method.is_some() && obj.contains_key("id");

        let mut starts = false;
        if !self.started {
            let stateless = obj
                .get("params")
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
                .is_some();
            match (&method, is_request) {
                (Some(m), true) if PRE_INIT_METHODS.contains(&m.as_str()) || stateless => {
                    starts = m == "initialize" || (stateless && m != "server/discover");
                }
                (Some(m), true) => {
                    let msg = format!(
                        "Server not initialized: send an `initialize` request before `{m}`."
                    );
                    self.reply_error(id.unwrap_or(Value::Null), -32600, msg);
                    return None;
                }
                _ => {
                    tracing::debug!(
                        ?method,
                        "dropping a notification or response sent before initialize"
                    );
                    return None;
                }
            }
        }

        let jsonrpc_2 = obj.get("jsonrpc") == Some(&json!("2.0"));
        let message: ClientJsonRpcMessage = match serde_json::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                if is_request {
                    let method = method.unwrap_or_default();
                    let (code, msg) = if KNOWN_METHODS.contains(&method.as_str()) && jsonrpc_2 {
                        (-32602, format!("Invalid params for `{method}`: {e}"))
                    } else {
                        (-32600, format!("Invalid Request: {e}"))
                    };
                    self.reply_error(id.unwrap_or(Value::Null), code, msg);
                } else if method.is_some() {
                    tracing::debug!(error = %e, "dropping a malformed notification");
                } else {
                    tracing::debug!(error = %e, "dropping a malformed response");
                }
                return None;
            }
        };
        if starts {
            self.started = true;
        }
        self.admit(message, id)
    }

    /// Last checks on a parsed message: a known method whose params did not fit (rmcp reads it
    /// as a custom request), the in-flight bound, and cancellations that end a request.
    fn admit(
        &mut self,
        message: ClientJsonRpcMessage,
        id: Option<Value>,
    ) -> Option<RxJsonRpcMessage<RoleServer>> {
        match &message {
            JsonRpcMessage::Request(req) => {
                let reply_id = || {
                    id.clone()
                        .unwrap_or_else(|| serde_json::to_value(&req.id).unwrap_or(Value::Null))
                };
                if let ClientRequest::CustomRequest(custom) = &req.request
                    && KNOWN_METHODS.contains(&custom.method.as_str())
                {
                    let msg = format!(
                        "Invalid params for `{}`: they do not match the method's schema",
                        custom.method
                    );
                    self.reply_error(reply_id(), -32602, msg);
                    return None;
                }
                let over = {
                    let mut set = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                    if set.len() >= self.max_in_flight {
                        true
                    } else {
                        set.insert(req.id.clone());
                        false
                    }
                };
                if over {
                    let msg = format!(
                        "switchboard is busy: {} requests are already running (limits.max_in_flight). Wait for some to finish, then retry.",
                        self.max_in_flight
                    );
                    self.reply_error(reply_id(), -32000, msg);
                    return None;
                }
            }
            JsonRpcMessage::Notification(n) => {
                // A cancelled request is never answered, so it stops counting now.
                if let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(rid) = &c.params.request_id
                {
                    self.in_flight
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(rid);
                }
            }
            _ => {}
        }
        Some(message)
    }
}

impl<R, W> rmcp::transport::Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = self.writer.clone();
        let in_flight = self.in_flight.clone();
        async move {
            let answered = match &item {
                JsonRpcMessage::Response(r) => Some(&r.id),
                JsonRpcMessage::Error(e) => e.id.as_ref(),
                _ => None,
            };
            if let Some(id) = answered {
                in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
            }
            let mut bytes = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            bytes.push(b'\n');
            let mut w = writer.lock().await;
            w.write_all(&bytes).await?;
            w.flush().await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.read_frame().await {
                Ok(Frame::Line) => {
                    let line = std::mem::take(&mut self.line);
                    let message = self.handle_line(&line);
                    self.line = line;
                    self.line.clear();
                    if let Some(m) = message {
                        return Some(m);
                    }
                }
                Ok(Frame::Oversized) => {
                    tracing::warn!(limit = self.max_frame, "refused an oversized frame");
                    let msg = format!(
                        "Invalid Request: message larger than {} bytes refused (limits.max_frame_bytes). Send smaller arguments, e.g. write large files in parts with write_file mode=append.",
                        self.max_frame
                    );
                    self.reply_error(Value::Null, -32600, msg);
                }
                Ok(Frame::Eof) => {
                    self.eof.cancel();
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "input stream failed");
                    self.eof.cancel();
                    return None;
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        let mut w = self.writer.lock().await;
        w.flush().await
    }
}
