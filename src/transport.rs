//! The line-delimited JSON-RPC transport between the host and switchboard.
//!
//! rmcp's own stdio transport silently drops lines that are not JSON and lets a notification sent
//! before `initialize` end the session. People pipe JSON-RPC into switchboard by hand, so this
//! transport answers every bad line as JSON-RPC 2.0 says: `-32700` for text that is not JSON,
//! `-32600` for JSON that is not a JSON-RPC message (a request with an id is always answered,
//! whatever else is wrong with it), for a frame over `limits.max_frame_bytes` (discarded as it
//! streams in, never buffered whole), for an id still in use, for a second `initialize` and for
//! requests sent before `initialize`; `-32602` for a known method with malformed params, and
//! "busy" beyond `limits.max_in_flight`. It also:
//! - answers `ping` itself, in any session and however busy (a host's liveness probe);
//! - keeps request ids byte-exact: an id rmcp would change (an integer beyond 64 bits, a number
//!   in float form, a string with escapes) travels inside as a private string and goes back
//!   out exactly as it came;
//! - accepts JSON-RPC batches in sessions whose revision has them (2025-03-26 and before) and
//!   answers a batch with one array;
//! - quotes at most a few hundred characters of the input back in any error message;
//! - caps every answer it writes at `limits.max_response_bytes`: a larger tool result becomes a
//!   tool failure that says how to narrow the call, any other larger answer an error saying the
//!   same, and a larger notification is dropped with a warning in the log;
//! - reports end of input through a token, so the server can exit promptly.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex as StdMutex};

use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequest, CallToolRequestMethod, CallToolRequestParams, ClientJsonRpcMessage,
    ClientNotification, ClientRequest, GetExtensions, JsonRpcMessage, JsonRpcRequest,
    JsonRpcVersion2_0, NumberOrString, RequestId, ServerResult,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
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
    "subscriptions/listen",
];

/// Methods that may arrive before `initialize` (the lifecycle allows ping; discovery is the
/// stateless protocol's opener).
const PRE_INIT_METHODS: &[&str] = &["initialize", "ping", "server/discover"];

/// The newest revision that has JSON-RPC batches (2025-06-18 removed them).
const LAST_BATCH_REVISION: &str = "2025-03-26";

/// How much of the input an error message may quote back.
const QUOTE: usize = 200;
/// The longest error message sent; a longer one (which would quote input) is cut.
const MAX_ERROR_MESSAGE: usize = 2000;

/// Prefix of the private string ids that stand for ids rmcp cannot keep exactly.
const PRIVATE_ID: &str = "\u{1}sb-id-";

/// The transport's limits (from `limits.*`).
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    /// The largest frame read (`limits.max_frame_bytes`).
    pub frame: usize,
    /// The largest frame written (`limits.max_response_bytes`).
    pub response: usize,
    /// Requests running at once (`limits.max_in_flight`).
    pub in_flight: usize,
}

pub struct LineTransport<R, W> {
    reader: BufReader<R>,
    line: Vec<u8>,
    /// Set while the rest of an oversized line is skipped. Kept on the struct because
    /// `receive` is polled inside a `select!` and may be dropped mid-line.
    discarding: bool,
    max_frame: usize,
    max_in_flight: usize,
    max_response: usize,
    writer: Arc<Mutex<W>>,
    /// What the reading and the writing side share. A std mutex: held for map operations only,
    /// never across an await.
    shared: Arc<StdMutex<Shared>>,
    /// Messages read but not yet handed to the service (the elements of a batch).
    pending: VecDeque<RxJsonRpcMessage<RoleServer>>,
    started: bool,
    initialized: bool,
    next_private: u64,
    next_batch: u64,
    eof: CancellationToken,
}

#[derive(Default)]
struct Shared {
    /// Requests handed to the service and not answered yet. A fast hash: the ids are the
    /// client's, but at most `limits.max_in_flight` of them are held at once.
    in_flight: rustc_hash::FxHashMap<RequestId, Origin>,
    /// Batches whose array is not complete yet.
    batches: HashMap<u64, Batch>,
    /// The protocol revision `initialize` agreed on.
    negotiated: Option<String>,
}

/// Where an answer goes back to.
#[derive(Clone, Default)]
struct Origin {
    /// The id as the client wrote it, when the service saw a private stand-in.
    raw: Option<Box<str>>,
    /// The batch the request came in.
    batch: Option<u64>,
}

#[derive(Default)]
struct Batch {
    /// Requests of the batch still running in the service.
    waiting: usize,
    /// Every element has been read.
    closed: bool,
    replies: Vec<Vec<u8>>,
}

enum Frame {
    Line,
    /// A frame over the cap; the request's id, when its start shows one whole.
    Oversized(Option<String>),
    Eof,
}

/// The members of a message that decide how it is handled, read without copying.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<&'a RawValue>,
    #[serde(default)]
    result: Option<IgnoredAny>,
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    jsonrpc: Option<IgnoredAny>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

/// What a transport-made reply carries.
enum Body {
    Error(i64, String),
    Empty,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    pub fn new(reader: R, writer: W, caps: Caps, eof: CancellationToken) -> Self {
        Self {
            reader: BufReader::with_capacity(64 * 1024, reader),
            line: Vec::new(),
            discarding: false,
            max_frame: caps.frame,
            max_in_flight: caps.in_flight,
            max_response: caps.response,
            writer: Arc::new(Mutex::new(writer)),
            shared: Arc::default(),
            pending: VecDeque::new(),
            started: false,
            initialized: false,
            next_private: 0,
            next_batch: 0,
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
                    (take, false, None)
                } else if self.line.len() + take > self.max_frame + 1 {
                    // What the frame's start shows of its id, so the client is answered on it
                    // (the rest is skipped unread).
                    let room = (self.max_frame + 1).saturating_sub(self.line.len());
                    self.line.extend_from_slice(&buf[..take.min(room)]);
                    let id = whole_id(&self.line).map(str::to_owned);
                    self.line.clear();
                    self.discarding = newline.is_none();
                    (take, false, Some(id))
                } else {
                    self.line.extend_from_slice(&buf[..take]);
                    (take, newline.is_some(), None)
                }
            };
            self.reader.consume(used);
            if let Some(id) = oversized {
                return Ok(Frame::Oversized(id));
            }
            if done {
                return Ok(Frame::Line);
            }
        }
    }

    /// Answers a message here, without the service: an error, or the empty result of `ping`.
    /// Written from a task of its own, so `receive` never awaits a write (it is polled inside
    /// a `select!` and must stay cancellation-safe). In a batch, the answer joins its array.
    fn reply(&self, id: &str, body: Body, batch: Option<u64>) {
        let body = match body {
            Body::Error(code, message) => {
                json!({"error": {"code": code, "message": cap_message(message)}})
            }
            Body::Empty => json!({"result": {}}),
        };
        let mut bytes = frame_with_id(id, body);
        match batch {
            Some(b) => {
                let mut shared = lock(&self.shared);
                if let Some(batch) = shared.batches.get_mut(&b) {
                    batch.replies.push(bytes);
                }
            }
            None => {
                bytes.push(b'\n');
                write_soon(self.writer.clone(), bytes);
            }
        }
    }

    fn reply_error(&self, id: &str, code: i64, message: String, batch: Option<u64>) {
        self.reply(id, Body::Error(code, message), batch);
    }

    /// Handles one complete line: a message, or a batch of them.
    fn handle_line(&mut self, line: &[u8]) {
        let mut bytes: &[u8] = line;
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        match first {
            None => {}
            Some(b'[') => self.handle_batch(bytes),
            Some(_) if self.fast(bytes) => {}
            Some(_) => self.handle_one(bytes, None),
        }
    }

    /// The common case once the session has started, parsed exactly once: a request whose id
    /// rmcp keeps exactly, a notification or a response. Anything unusual is left to
    /// [`Self::handle_one`] (false).
    fn fast(&mut self, bytes: &[u8]) -> bool {
        if !self.started {
            return false;
        }
        let parsed = match parse_call(bytes) {
            Some(call) => Ok(call),
            None => serde_json::from_slice::<ClientJsonRpcMessage>(bytes),
        };
        let Ok(message) = parsed else {
            return false;
        };
        let req = match &message {
            JsonRpcMessage::Request(req) => req,
            JsonRpcMessage::Notification(_) => {
                self.notification_parsed(message);
                return true;
            }
            _ => {
                self.pending.push_back(message);
                return true;
            }
        };
        let Some(raw) = top_level_id(bytes) else {
            return false;
        };
        if exact_id(raw).as_ref() != Some(&req.id) {
            return false;
        }
        match &req.request {
            ClientRequest::PingRequest(_) => {
                self.reply(raw, Body::Empty, None);
                return true;
            }
            ClientRequest::InitializeRequest(_) => return false,
            ClientRequest::CustomRequest(c) if KNOWN_METHODS.contains(&c.method.as_str()) => {
                return false;
            }
            _ => {}
        }
        {
            let mut shared = lock(&self.shared);
            if shared.in_flight.len() >= self.max_in_flight {
                return false;
            }
            match shared.in_flight.entry(req.id.clone()) {
                std::collections::hash_map::Entry::Occupied(_) => return false,
                std::collections::hash_map::Entry::Vacant(v) => v.insert(Origin::default()),
            };
        }
        self.pending.push_back(message);
        true
    }

    fn handle_batch(&mut self, bytes: &[u8]) {
        let elements: Vec<&RawValue> = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => return self.not_json(bytes, e),
        };
        let allowed = lock(&self.shared)
            .negotiated
            .as_deref()
            .is_some_and(|v| v <= LAST_BATCH_REVISION);
        if !allowed {
            let msg = format!(
                "Invalid Request: JSON-RPC batches are not part of this session's protocol revision (revisions after {LAST_BATCH_REVISION} removed them); send one message per line."
            );
            return self.reply_error("null", -32600, msg, None);
        }
        if elements.is_empty() {
            let msg = "Invalid Request: an empty batch".to_owned();
            return self.reply_error("null", -32600, msg, None);
        }
        let id = self.next_batch;
        self.next_batch += 1;
        lock(&self.shared).batches.insert(id, Batch::default());
        for e in elements {
            self.handle_one(e.get().as_bytes(), Some(id));
        }
        let done = {
            let mut shared = lock(&self.shared);
            let b = shared.batches.get_mut(&id);
            match b {
                Some(b) => {
                    b.closed = true;
                    (b.waiting == 0)
                        .then(|| shared.batches.remove(&id))
                        .flatten()
                }
                None => None,
            }
        };
        if let Some(b) = done {
            write_soon(self.writer.clone(), batch_bytes(b.replies));
        }
    }

    fn not_json(&self, bytes: &[u8], e: serde_json::Error) {
        if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() {
            let msg = "Invalid Request: a JSON-RPC message must be a JSON object.".to_owned();
            self.reply_error("null", -32600, msg, None);
        } else {
            let msg = format!(
                "Parse error: the line is not valid JSON ({e}). Send one JSON-RPC message per line."
            );
            self.reply_error("null", -32700, msg, None);
        }
    }

    /// Decides what to do with one message: answered here, dropped, or queued for the service.
    fn handle_one(&mut self, bytes: &[u8], batch: Option<u64>) {
        let env: Envelope = match serde_json::from_slice(bytes) {
            Ok(e) => e,
            Err(e) => {
                // Not an object at all, or not JSON; inside a batch the element was JSON.
                if batch.is_some() {
                    let msg = "Invalid Request: a JSON-RPC message must be a JSON object.";
                    return self.reply_error("null", -32600, msg.to_owned(), batch);
                }
                return self.not_json(bytes, e);
            }
        };
        let is_response = env.method.is_none() && (env.result.is_some() || env.error.is_some());
        if is_response {
            // An answer to one of switchboard's requests (roots, elicitation).
            match serde_json::from_slice::<ClientJsonRpcMessage>(bytes) {
                Ok(m) => self.pending.push_back(m),
                Err(e) => tracing::debug!(error = %e, "dropping a malformed response"),
            }
            return;
        }
        let id = env.id.map(RawValue::get);
        let reply_id = id.filter(|i| valid_id(i)).unwrap_or("null");
        let method: Option<String> = match env.method {
            Some(m) => match serde_json::from_str::<String>(m.get()) {
                Ok(s) => Some(s),
                Err(_) => {
                    let msg = "Invalid Request: `method` must be a string.".to_owned();
                    return self.reply_error(reply_id, -32600, msg, batch);
                }
            },
            None => None,
        };
        let Some(method) = method else {
            // `{}`, or an object that is neither a request, a notification nor a response.
            let msg = "Invalid Request: a request needs `jsonrpc`, `method` and `id`; a notification needs `jsonrpc` and `method`.".to_owned();
            return self.reply_error(reply_id, -32600, msg, batch);
        };
        let Some(id) = id else {
            return self.notification(bytes, &method);
        };
        if !valid_id(id) {
            let msg = "Invalid Request: `id` must be a string or an integer.".to_owned();
            return self.reply_error("null", -32600, msg, batch);
        }
        if env.jsonrpc.is_none() {
            let msg = "Invalid Request: the message has no `\"jsonrpc\": \"2.0\"`.".to_owned();
            return self.reply_error(id, -32600, msg, batch);
        }
        // Liveness first: never refused as busy or early, in either protocol generation.
        if method == "ping" {
            return self.reply(id, Body::Empty, batch);
        }
        let quoted = crate::support::text::quote(&method, QUOTE);
        if !self.started {
            let stateless = env
                .params
                .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                .and_then(|p| {
                    p.get("_meta")?
                        .get("io.modelcontextprotocol/protocolVersion")
                        .cloned()
                })
                .is_some();
            if !PRE_INIT_METHODS.contains(&method.as_str()) && !stateless {
                let msg = format!(
                    "Server not initialized: send an `initialize` request before `{quoted}`."
                );
                return self.reply_error(id, -32600, msg, batch);
            }
        }
        if method == "initialize" && self.initialized {
            let msg = "Invalid Request: the session is already initialized; its protocol version was agreed by the first `initialize`. Start a new session to negotiate again.".to_owned();
            return self.reply_error(id, -32600, msg, batch);
        }
        let exact = exact_id(id);
        {
            let shared = lock(&self.shared);
            let taken = match &exact {
                Some(rid) => shared.in_flight.contains_key(rid),
                None => shared
                    .in_flight
                    .values()
                    .any(|o| o.raw.as_deref() == Some(id)),
            };
            if taken {
                drop(shared);
                let msg = format!(
                    "Invalid Request: id {} is already used by a request that is still running; give every request its own id.",
                    crate::support::text::quote(id, QUOTE)
                );
                return self.reply_error(id, -32600, msg, batch);
            }
            if shared.in_flight.len() >= self.max_in_flight {
                drop(shared);
                let msg = format!(
                    "switchboard is busy: {} requests are already running (limits.max_in_flight). Wait for some to finish, then retry.",
                    self.max_in_flight
                );
                return self.reply_error(id, -32000, msg, batch);
            }
        }
        let parsed = match &exact {
            Some(_) => serde_json::from_slice::<ClientJsonRpcMessage>(bytes),
            None => {
                // The service sees a private string id; the answer gets the client's back.
                let private = format!("{PRIVATE_ID}{}", self.next_private);
                self.next_private += 1;
                serde_json::from_slice::<Value>(bytes).and_then(|mut v| {
                    v["id"] = Value::String(private);
                    serde_json::from_value(v)
                })
            }
        };
        let message = match parsed {
            Ok(m) => m,
            Err(e) => {
                let (code, msg) = if KNOWN_METHODS.contains(&method.as_str()) {
                    (-32602, format!("Invalid params for `{quoted}`: {e}"))
                } else {
                    (-32600, format!("Invalid Request: {e}"))
                };
                return self.reply_error(id, code, msg, batch);
            }
        };
        let JsonRpcMessage::Request(req) = &message else {
            let msg = "Invalid Request: not a request".to_owned();
            return self.reply_error(id, -32600, msg, batch);
        };
        if let ClientRequest::CustomRequest(custom) = &req.request
            && KNOWN_METHODS.contains(&custom.method.as_str())
        {
            let msg =
                format!("Invalid params for `{quoted}`: they do not match the method's schema");
            return self.reply_error(id, -32602, msg, batch);
        }
        {
            let mut shared = lock(&self.shared);
            let origin = Origin {
                raw: exact.is_none().then(|| id.into()),
                batch,
            };
            shared.in_flight.insert(req.id.clone(), origin);
            if let Some(b) = batch.and_then(|b| shared.batches.get_mut(&b)) {
                b.waiting += 1;
            }
        }
        if method == "initialize" {
            self.initialized = true;
        }
        self.started = true;
        self.pending.push_back(message);
    }

    fn notification(&mut self, bytes: &[u8], method: &str) {
        if !self.started {
            tracing::debug!(method, "dropping a notification sent before initialize");
            return;
        }
        match serde_json::from_slice::<ClientJsonRpcMessage>(bytes) {
            Ok(m) => self.notification_parsed(m),
            Err(e) => tracing::debug!(error = %e, "dropping a malformed notification"),
        }
    }

    fn notification_parsed(&mut self, message: ClientJsonRpcMessage) {
        if let JsonRpcMessage::Notification(n) = &message
            && let ClientNotification::CancelledNotification(c) = &n.notification
            && let Some(rid) = &c.params.request_id
        {
            // A cancelled request is never answered, so it stops counting now.
            let gone = lock(&self.shared).in_flight.remove(rid);
            if let Some(batch) = gone.and_then(|o| o.batch) {
                self.batch_member_done(batch);
            }
        }
        self.pending.push_back(message);
    }

    fn batch_member_done(&self, batch: u64) {
        let done = {
            let mut shared = lock(&self.shared);
            finish_member(&mut shared, batch, None)
        };
        if let Some(bytes) = done {
            write_soon(self.writer.clone(), bytes);
        }
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
        let shared = self.shared.clone();
        let cap = self.max_response;
        async move {
            let mut item = item;
            let answered = match &mut item {
                JsonRpcMessage::Response(r) => {
                    if let ServerResult::InitializeResult(init) = &r.result {
                        lock(&shared).negotiated = Some(init.protocol_version.to_string());
                    }
                    Some(r.id.clone())
                }
                JsonRpcMessage::Error(e) => {
                    let message = std::mem::take(&mut e.error.message);
                    e.error.message = cap_message(message.into_owned()).into();
                    e.id.clone()
                }
                _ => None,
            };
            let origin = answered
                .and_then(|id| lock(&shared).in_flight.remove(&id))
                .unwrap_or_default();
            let mut bytes = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            if bytes.len() > cap {
                match oversized(&item, bytes.len(), cap) {
                    Some(smaller) => {
                        bytes = serde_json::to_vec(&smaller).map_err(std::io::Error::other)?;
                    }
                    None => {
                        tracing::warn!(
                            bytes = bytes.len(),
                            limit = cap,
                            "dropped a notification over limits.max_response_bytes"
                        );
                        return Ok(());
                    }
                }
            }
            if let Some(raw) = &origin.raw {
                bytes = with_raw_id(bytes, raw)?;
            }
            let bytes = match origin.batch {
                Some(b) => match finish_member(&mut lock(&shared), b, Some(bytes)) {
                    Some(array) => array,
                    None => return Ok(()),
                },
                None => {
                    bytes.push(b'\n');
                    bytes
                }
            };
            let mut w = writer.lock().await;
            w.write_all(&bytes).await?;
            w.flush().await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            if let Some(m) = self.pending.pop_front() {
                return Some(m);
            }
            match self.read_frame().await {
                Ok(Frame::Line) => {
                    let line = std::mem::take(&mut self.line);
                    self.handle_line(&line);
                    self.line = line;
                    self.line.clear();
                }
                Ok(Frame::Oversized(id)) => {
                    tracing::warn!(limit = self.max_frame, "refused an oversized frame");
                    let msg = format!(
                        "Invalid Request: message larger than {} bytes refused (limits.max_frame_bytes). Send smaller arguments, e.g. write large files in parts with write_file mode=append.",
                        self.max_frame
                    );
                    self.reply_error(id.as_deref().unwrap_or("null"), -32600, msg, None);
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

/// What goes out instead of a message of `size` bytes, over `cap`: a tool result becomes a tool
/// failure the model reads, any other answer an error; both say how to narrow the call. A
/// notification has no replacement (`None`: it is dropped). A request to the client passes:
/// switchboard's own are small, and a child's were bounded when they were read.
/// The tool failure that replaces a tool result over `limits.max_response_bytes`.
pub(crate) fn too_large_result(size: &str, cap: &str) -> rmcp::model::CallToolResult {
    crate::mcp::failure_result(
        crate::error::reason::RESPONSE_TOO_LARGE,
        format!(
            "the result of this call was {size}, over the {cap} one answer may carry (limits.max_response_bytes), so none of it was sent. Narrow the call: read a part at a time (offset and limit), ask for fewer results or a narrower pattern, or write the output to a file inside the roots and page through it with read_file."
        ),
    )
}

/// The error message that replaces any other answer over `limits.max_response_bytes`.
pub(crate) fn too_large_answer(size: &str, cap: &str) -> String {
    format!(
        "the answer was {size}, over the {cap} one answer may carry (limits.max_response_bytes); ask for less (a narrower request, or page through it)"
    )
}

fn oversized(
    item: &TxJsonRpcMessage<RoleServer>,
    size: usize,
    cap: usize,
) -> Option<TxJsonRpcMessage<RoleServer>> {
    use rmcp::model::{ErrorCode, JsonRpcError, JsonRpcResponse};
    let size = crate::support::text::human_bytes(size as u64);
    let cap_text = crate::support::text::human_bytes(cap as u64);
    match item {
        JsonRpcMessage::Response(r) => Some(match &r.result {
            ServerResult::CallToolResult(original) => {
                let mut failure = too_large_result(&size, &cap_text);
                failure.result_type = original.result_type.clone();
                JsonRpcMessage::Response(JsonRpcResponse {
                    jsonrpc: r.jsonrpc,
                    id: r.id.clone(),
                    result: ServerResult::CallToolResult(failure),
                })
            }
            _ => JsonRpcMessage::Error(JsonRpcError {
                jsonrpc: r.jsonrpc,
                id: Some(r.id.clone()),
                error: rmcp::ErrorData::new(
                    ErrorCode(-32000),
                    too_large_answer(&size, &cap_text),
                    None,
                ),
            }),
        }),
        JsonRpcMessage::Error(e) => {
            let mut e = e.clone();
            e.error.data = None;
            e.error.message = cap_message(e.error.message.into_owned()).into();
            Some(JsonRpcMessage::Error(e))
        }
        JsonRpcMessage::Notification(_) => None,
        JsonRpcMessage::Request(_) => Some(item.clone()),
    }
}

fn lock(m: &StdMutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records one answered member of a batch (`bytes`: its answer); when it was the last, the
/// whole array to write.
fn finish_member(shared: &mut Shared, batch: u64, bytes: Option<Vec<u8>>) -> Option<Vec<u8>> {
    let b = shared.batches.get_mut(&batch)?;
    b.waiting = b.waiting.saturating_sub(1);
    if let Some(bytes) = bytes {
        b.replies.push(bytes);
    }
    if b.waiting > 0 || !b.closed {
        return None;
    }
    let b = shared.batches.remove(&batch)?;
    Some(batch_bytes(b.replies))
}

/// The answer to a batch: an array of its answers (nothing when it held only notifications).
fn batch_bytes(replies: Vec<Vec<u8>>) -> Vec<u8> {
    if replies.is_empty() {
        return Vec::new();
    }
    let mut out = vec![b'['];
    for (i, r) in replies.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(r);
    }
    out.extend_from_slice(b"]\n");
    out
}

fn write_soon<W: AsyncWrite + Send + Unpin + 'static>(writer: Arc<Mutex<W>>, bytes: Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut w = writer.lock().await;
        if let Err(e) = async {
            w.write_all(&bytes).await?;
            w.flush().await
        }
        .await
        {
            tracing::warn!(error = %e, "could not write a reply");
        }
    });
}

/// The raw text of the top-level `id` member of a JSON object, found by a scan that stops
/// there (the id usually comes first, so this reads a few dozen bytes). `None` when there is
/// none or the text is not a well-formed object up to it.
/// A `tools/call` line parsed straight into its request kind. rmcp's generic parse tries the
/// request kinds in turn and `tools/call` comes late: a dozen failed attempts, each formatting an
/// error, cost a third of a cheap call. The result is the generic parse's: `params._meta` goes to
/// the request's extensions and the typed `meta` stays empty. A line with any other member, or
/// anything the typed parse refuses, is `None` and takes the generic parse.
fn parse_call(bytes: &[u8]) -> Option<ClientJsonRpcMessage> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line<'a> {
        jsonrpc: JsonRpcVersion2_0,
        id: RequestId,
        #[serde(rename = "method")]
        _method: CallToolRequestMethod,
        #[serde(borrow)]
        params: &'a RawValue,
    }
    memchr::memmem::find(bytes, b"\"tools/call\"")?;
    let line: Line<'_> = serde_json::from_slice(bytes).ok()?;
    let mut params: CallToolRequestParams = serde_json::from_str(line.params.get()).ok()?;
    let meta = params.meta.take();
    let mut request = CallToolRequest::new(params);
    if let Some(meta) = meta {
        request.extensions_mut().insert(meta);
    }
    Some(JsonRpcMessage::Request(JsonRpcRequest {
        jsonrpc: line.jsonrpc,
        id: line.id,
        request: ClientRequest::CallToolRequest(request),
    }))
}

fn top_level_id(bytes: &[u8]) -> Option<&str> {
    // The openers the SDKs and hand-written lines use, where the id follows at once.
    const OPENERS: [&[u8]; 3] = [
        br#"{"jsonrpc":"2.0","id":"#,
        br#"{"jsonrpc": "2.0", "id":"#,
        br#"{"id":"#,
    ];
    if let Some(o) = OPENERS.iter().find(|o| bytes.starts_with(o)) {
        return id_value(bytes, o.len());
    }
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i = string_end(bytes, i);
                if i >= bytes.len() {
                    return None;
                }
                if depth == 1 && expect_key {
                    expect_key = false;
                    if &bytes[start..=i] == b"\"id\"" {
                        return id_value(bytes, i + 1);
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    None
}

/// The top-level id of a frame cut short, when the part read holds it whole: a value
/// followed by more of the frame (a number at the cut could be missing digits) and of a kind
/// JSON-RPC allows.
fn whole_id(bytes: &[u8]) -> Option<&str> {
    let id = top_level_id(bytes)?;
    let end = id.as_ptr() as usize - bytes.as_ptr() as usize + id.len();
    (end < bytes.len() && valid_id(id)).then_some(id)
}

/// The index of the quote that closes the JSON string opening at `open` (`bytes.len()` or past
/// it when it is not closed).
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

/// The raw text of the value that starts at `from` (after a key, whitespace and `:` allowed).
fn id_value(bytes: &[u8], from: usize) -> Option<&str> {
    let mut j = from;
    while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b':') {
        j += 1;
    }
    let start = j;
    if bytes.get(j) == Some(&b'"') {
        j = string_end(bytes, j) + 1;
    } else {
        while j < bytes.len()
            && !matches!(bytes[j], b',' | b'}' | b']')
            && !bytes[j].is_ascii_whitespace()
        {
            j += 1;
        }
    }
    std::str::from_utf8(bytes.get(start..j)?).ok()
}

/// Whether `id` (raw JSON) is an id JSON-RPC allows: a string or a number.
fn valid_id(id: &str) -> bool {
    matches!(id.as_bytes().first(), Some(b'"' | b'-' | b'0'..=b'9'))
}

/// The id rmcp will keep exactly, when it will: a string without escapes, or an integer that
/// fits 64 bits written plainly. Anything else travels as a private id.
fn exact_id(raw: &str) -> Option<RequestId> {
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        return (!inner.contains('\\') && !inner.starts_with(PRIVATE_ID))
            .then(|| NumberOrString::String(inner.into()));
    }
    // A plain integer: an optional minus, then digits without a leading zero (and not -0).
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && raw != "-0";
    if !plain {
        return None;
    }
    raw.parse::<i64>().ok().map(NumberOrString::Number)
}

/// A transport-made frame: `{"jsonrpc":"2.0","id":ID,...body}` with the id as raw JSON.
fn frame_with_id(id: &str, body: Value) -> Vec<u8> {
    let rest = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(rest.len() + id.len() + 24);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    out.extend_from_slice(id.as_bytes());
    if rest.len() > 2 {
        out.push(b',');
        out.extend_from_slice(&rest[1..]);
    } else {
        out.push(b'}');
    }
    out
}

/// `bytes` (a serialised answer) with its id replaced by the client's raw id.
fn with_raw_id(bytes: Vec<u8>, raw: &str) -> std::io::Result<Vec<u8>> {
    let mut v: serde_json::Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(std::io::Error::other)?;
    v.remove("id");
    v.remove("jsonrpc");
    Ok(frame_with_id(raw, Value::Object(v)))
}

/// An error message, cut to a length that cannot carry a huge piece of input back.
pub(crate) fn cap_message(message: String) -> String {
    if message.len() <= MAX_ERROR_MESSAGE {
        return message;
    }
    crate::support::text::quote(&message, MAX_ERROR_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_parsed_directly_is_the_generic_parse() {
        let lines = [
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_roots","arguments":{}}}"#,
            r#"{"id":"a","jsonrpc":"2.0","params":{"_meta":{"progressToken":"p1"},"name":"x","arguments":{"n":[1,{"k":"\u00e9"}]}},"method":"tools/call"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"send","inputResponses":{},"requestState":"s"}}"#,
        ];
        for line in lines {
            let direct = parse_call(line.as_bytes()).expect(line);
            let generic: ClientJsonRpcMessage = serde_json::from_str(line).unwrap();
            assert_eq!(
                serde_json::to_value(&direct).unwrap(),
                serde_json::to_value(&generic).unwrap(),
                "{line}"
            );
            let meta = |m: &ClientJsonRpcMessage| match m {
                JsonRpcMessage::Request(r) => match &r.request {
                    ClientRequest::CallToolRequest(c) => (
                        c.params.meta.is_some(),
                        c.extensions()
                            .get::<rmcp::model::RequestMetaObject>()
                            .cloned(),
                    ),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            };
            assert_eq!(meta(&direct), meta(&generic), "{line}");
        }
        // Anything else takes the generic parse, which refuses or routes it as before.
        for other in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"tools/call"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"x"}}"#,
            r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"x"}}"#,
        ] {
            assert!(parse_call(other.as_bytes()).is_none(), "{other}");
        }
    }

    #[test]
    fn ids_rmcp_cannot_keep_travel_privately() {
        assert!(exact_id("5").is_some());
        assert!(exact_id("-7").is_some());
        assert!(exact_id("\"abc\"").is_some());
        assert!(exact_id("9223372036854775807").is_some());
        for odd in [
            "9223372036854775808",
            "18446744073709551616",
            "1.0",
            "1e2",
            "-0",
            "\"a\\u0041\"",
        ] {
            assert!(exact_id(odd).is_none(), "{odd}");
        }
    }

    #[test]
    fn the_top_level_id_is_found_wherever_it_is() {
        let id = |s: &str| top_level_id(s.as_bytes()).map(str::to_owned);
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","id":5,"method":"x"}"#).as_deref(),
            Some("5")
        );
        assert_eq!(
            id(r#"{"params":{"id":1},"id" : 1.0}"#).as_deref(),
            Some("1.0")
        );
        assert_eq!(
            id(r#"{"method":"a\"id\"","id":"x\"y"}"#).as_deref(),
            Some(r#""x\"y""#)
        );
        assert_eq!(
            id(r#"{"params":["id",{"id":2}],"id":18446744073709551616}"#).as_deref(),
            Some("18446744073709551616")
        );
        assert_eq!(id(r#"{"method":"x"}"#), None);
        // The usual openers take the short way; the answers are the same.
        assert_eq!(
            id(r#"{"jsonrpc": "2.0", "id": 7, "method": "x"}"#).as_deref(),
            Some("7")
        );
        assert_eq!(
            id(r#"{"id":"a\"b","method":"x"}"#).as_deref(),
            Some(r#""a\"b""#)
        );
        assert_eq!(id(r#"{"id":1e3}"#).as_deref(), Some("1e3"));
        assert_eq!(id(r#"{"id":"unterminated"#), None);
    }

    #[test]
    fn frames_carry_the_raw_id() {
        let f = frame_with_id("18446744073709551616", json!({"result": {}}));
        assert_eq!(
            String::from_utf8(f).unwrap(),
            r#"{"jsonrpc":"2.0","id":18446744073709551616,"result":{}}"#
        );
        let back = with_raw_id(
            br#"{"jsonrpc":"2.0","id":"\u0001sb-id-0","result":{"x":1}}"#.to_vec(),
            "1.0",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(back).unwrap(),
            r#"{"jsonrpc":"2.0","id":1.0,"result":{"x":1}}"#
        );
    }

    #[test]
    fn batches_answer_with_one_array() {
        assert_eq!(batch_bytes(vec![]), b"");
        assert_eq!(
            batch_bytes(vec![b"{}".to_vec(), b"{}".to_vec()]),
            b"[{},{}]\n"
        );
    }
}
