//! `switchboard connect URL`: a stdio bridge to a shared `serve --http`, for hosts whose config
//! takes only a command (Claude Desktop). The host speaks to it exactly as to a stdio
//! switchboard (the same line transport: bounded frames, byte-exact ids, batches where the
//! revision has them, every answer capped at `limits.max_response_bytes`); each message goes on
//! unchanged over rmcp's streamable HTTP client, which speaks either generation the host chose
//! (a session after `initialize`, stateless 2026-07-28 requests otherwise) and opens a new
//! session when the server restarted. Tool names, prompts and resources arrive as the shared
//! server has them. The token comes from the environment (`SWITCHBOARD_TOKEN`, or the variable
//! `--token-env` names), never from the command line, which other users can read.
//!
//! Every request the host sends is answered: when the shared server cannot take it (stopped,
//! refusing the token, busy), a tool call gets a failed result the model can read
//! (`upstream_failed`) and any other request an error, both saying what happened.

use std::collections::HashMap;

use rmcp::model::{
    CallToolResult, ClientJsonRpcMessage, ClientNotification, ClientRequest, ErrorCode, ErrorData,
    JsonRpcError, JsonRpcMessage, JsonRpcResponse, JsonRpcVersion2_0, RequestId,
    ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::Transport;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError,
};
use rmcp::transport::{StreamableHttpClientTransport, io::stdio_pipes};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::transport::{Caps, LineTransport};

/// Room above `limits.max_response_bytes` for one streamed event's framing: the shared server
/// caps each answer at its own limit, so a larger event is not one of its answers.
const EVENT_FRAMING: usize = 64 * 1024;

/// How long after the host closed its input the answers still owed are waited for (someone
/// piping requests in by hand wants them; a host that quits does not wait this long anyway).
const EOF_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "`{0}` is not a URL to connect to: give the address `switchboard serve --http` printed, e.g. http://127.0.0.1:8848/mcp"
    )]
    Url(String),
}

/// What a forwarded request was, so a failure is answered in the form the host expects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    ToolCall,
    Other,
}

/// Bridges the process's stdin/stdout to the shared server at `url` until the host closes
/// stdin, `shutdown` resolves, or the connection to the server ends for good.
pub async fn connect(
    settings: &Settings,
    url: &str,
    token: Option<String>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ConnectError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| ConnectError::Url(url.to_owned()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConnectError::Url(url.to_owned()));
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if token.is_some() && parsed.scheme() == "http" && !loopback {
        tracing::warn!(
            url,
            "the token travels unencrypted over plain http to a host that is not this machine; use https or a tunnel"
        );
    }
    let limits = &settings.limits;
    let (reader, writer) = stdio_pipes();
    let eof = CancellationToken::new();
    let mut host = LineTransport::new(
        reader,
        writer,
        Caps {
            frame: limits.max_frame_bytes,
            response: limits.max_response_bytes,
            in_flight: limits.max_in_flight,
        },
        eof.clone(),
    );
    let mut config = StreamableHttpClientTransportConfig::with_uri(url)
        .max_concurrent_requests(limits.max_in_flight)
        .max_sse_event_size(limits.max_response_bytes + EVENT_FRAMING)
        .reinit_on_expired_session(true);
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let mut remote = StreamableHttpClientTransport::from_config(config);
    tracing::info!(url, "bridging stdio to the shared switchboard");

    // Requests sent on and not answered yet: answered here if the server cannot answer them.
    let mut open: HashMap<RequestId, Kind> = HashMap::new();
    // The sends under way; each ends with the request it failed to deliver, if it did, and why.
    let mut sends: JoinSet<Option<(Option<RequestId>, Cause)>> = JoinSet::new();
    // The first real reason a send failed (once the client has stopped, later sends only
    // learn that it stopped).
    let mut reason: Option<Cause> = None;
    let mut shutdown = std::pin::pin!(shutdown);
    // Set once the client has sent its first request (`initialize` or `server/discover`).
    let mut opened = false;
    // Set when the host closed its input: the answers still owed are relayed, for a while.
    let mut draining: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        if draining.is_some() && open.is_empty() {
            break;
        }
        tokio::select! {
            from_host = host.receive(), if draining.is_none() => {
                let Some(message) = from_host else {
                    draining = Some(Box::pin(tokio::time::sleep(EOF_GRACE)));
                    continue;
                };
                let request = match &message {
                    JsonRpcMessage::Request(r) => Some((r.id.clone(), kind_of(&r.request))),
                    _ => None,
                };
                if !opened {
                    match opener(&message) {
                        Opener::Itself => opened = true,
                        Opener::Discover(discover) => {
                            // A 2026-07-28 host that starts with a request of another kind (a
                            // subscription, whose answer never ends): the client must open with
                            // a request answered at once, so the bridge asks `server/discover`
                            // in the host's name and keeps the answer to itself.
                            if let Err(e) = discover_first(&mut remote, &mut host, *discover).await {
                                let cause = Cause::down(e);
                                let why = unreachable_text(url, &cause);
                                reason.get_or_insert(cause);
                                if let Some((id, kind)) = request {
                                    tracing::warn!("{why}");
                                    if host.send(failure(id, kind, &why)).await.is_err() {
                                        break;
                                    }
                                }
                                continue;
                            }
                            opened = true;
                        }
                        Opener::NotYet => {
                            tracing::debug!("a message before the first request is dropped");
                            continue;
                        }
                    }
                }
                if let Some((id, kind)) = &request {
                    open.insert(id.clone(), *kind);
                }
                // A request the host cancelled may never be answered: nothing is owed for it.
                if let JsonRpcMessage::Notification(n) = &message
                    && let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    open.remove(id);
                }
                // Sent from a task of its own, so a slow POST never holds up the next message;
                // the tasks start in the order the messages came (the runtime runs them first
                // in, first out), and the client keeps that order on the wire.
                let sending = remote.send(message);
                sends.spawn(async move {
                    let e = sending.await.err()?;
                    Some((request.map(|(id, _)| id), Cause::of(&e)))
                });
            }
            Some(done) = sends.join_next(), if !sends.is_empty() => {
                if let Ok(Some((id, cause))) = done
                    && !answer_failure(&mut host, &mut open, url, id, &cause, &mut reason).await
                {
                    break;
                }
            }
            from_remote = remote.receive() => {
                let Some(message) = from_remote else {
                    // The client stopped for good: the sends still under way learn it at
                    // once, and the first of them to fail says why.
                    let settle = std::time::Duration::from_secs(2);
                    while let Ok(Some(done)) = tokio::time::timeout(settle, sends.join_next()).await {
                        if let Ok(Some((id, cause))) = done {
                            answer_failure(&mut host, &mut open, url, id, &cause, &mut reason).await;
                        }
                    }
                    let ended = Cause::down("the connection ended".to_owned());
                    let why = unreachable_text(url, reason.as_ref().unwrap_or(&ended));
                    tracing::error!("{why}");
                    let left: Vec<(RequestId, Kind)> = open.drain().collect();
                    for (id, kind) in left {
                        let _ = host.send(failure(id, kind, &why)).await;
                    }
                    break;
                };
                if let JsonRpcMessage::Response(JsonRpcResponse { id, .. }) = &message {
                    open.remove(id);
                }
                if let JsonRpcMessage::Error(JsonRpcError { id: Some(id), .. }) = &message {
                    open.remove(id);
                }
                if host.send(message).await.is_err() {
                    break; // The host closed its end.
                }
            }
            _ = async {
                match draining.as_mut() {
                    Some(grace) => grace.await,
                    None => std::future::pending().await,
                }
            }, if draining.is_some() => {
                tracing::warn!("input ended; answers still owed after {EOF_GRACE:?} are dropped");
                break;
            }
            _ = &mut shutdown => {
                tracing::info!("shutdown requested");
                break;
            }
        }
    }
    // Ends the session on the server (an HTTP DELETE) rather than leaving it to expire.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), remote.close()).await;
    let _ = host.close().await;
    Ok(())
}

/// Answers a request the client could not deliver (`cause` says why; a client that already
/// stopped says only that, so the first real cause seen is kept in `reason` and given instead).
/// False when the host's end is closed.
async fn answer_failure<T: Transport<rmcp::RoleServer>>(
    host: &mut T,
    open: &mut HashMap<RequestId, Kind>,
    url: &str,
    id: Option<RequestId>,
    cause: &Cause,
    reason: &mut Option<Cause>,
) -> bool {
    if cause.hint != Hint::Stopped && reason.is_none() {
        *reason = Some(cause.clone());
    }
    let cause = match (cause.hint, reason.as_ref()) {
        (Hint::Stopped, Some(first)) => first,
        _ => cause,
    };
    let why = unreachable_text(url, cause);
    tracing::warn!("{why}");
    let Some(id) = id else { return true };
    let kind = open.remove(&id);
    match kind {
        Some(kind) => host.send(failure(id, kind, &why)).await.is_ok(),
        None => true,
    }
}

/// Why the shared server could not take a request, and what to tell the user about it.
#[derive(Clone, Debug)]
struct Cause {
    text: String,
    hint: Hint,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hint {
    /// The token was refused (401, 403).
    Token,
    /// The token's limits were reached (429).
    Busy,
    /// The server could not be reached, or the connection failed.
    Down,
    /// The client had already stopped; an earlier failure said why.
    Stopped,
}

impl Cause {
    fn down(text: String) -> Self {
        Self {
            text,
            hint: Hint::Down,
        }
    }

    /// Read off the client's error by its kind, never its wording.
    fn of(e: &StreamableHttpError<reqwest::Error>) -> Self {
        let hint = match e {
            StreamableHttpError::AuthRequired(_) | StreamableHttpError::InsufficientScope(_) => {
                Hint::Token
            }
            StreamableHttpError::HttpStatus(s) if s.status == 429 => Hint::Busy,
            StreamableHttpError::Client(c)
                if c.status()
                    .is_some_and(|s| s.as_u16() == 401 || s.as_u16() == 403) =>
            {
                Hint::Token
            }
            StreamableHttpError::Client(c) if c.status().is_some_and(|s| s.as_u16() == 429) => {
                Hint::Busy
            }
            StreamableHttpError::TransportChannelClosed => Hint::Stopped,
            _ => Hint::Down,
        };
        let text = match e {
            // The client error's own causes (a refused connection) say the most.
            StreamableHttpError::Client(inner) => with_causes(inner),
            other => with_causes(other),
        };
        Self { text, hint }
    }
}

/// How the client's first request is made.
enum Opener {
    /// The message opens the connection itself (`initialize`, `server/discover`).
    Itself,
    /// Another request: a `server/discover` with its `_meta` goes first.
    Discover(Box<ClientJsonRpcMessage>),
    /// Not a request: nothing can be sent before the first one.
    NotYet,
}

/// The id of the `server/discover` the bridge sends in the host's name.
const DISCOVER_ID: &str = "switchboard-connect-discover";

fn opener(message: &ClientJsonRpcMessage) -> Opener {
    let JsonRpcMessage::Request(request) = message else {
        return Opener::NotYet;
    };
    if matches!(
        request.request,
        ClientRequest::InitializeRequest(_) | ClientRequest::DiscoverRequest(_)
    ) {
        return Opener::Itself;
    }
    // The host's protocol metadata (version, client info and capabilities), as it sent them.
    let meta: serde_json::Map<String, serde_json::Value> = serde_json::to_value(message)
        .ok()
        .and_then(|v| v.pointer("/params/_meta").cloned())
        .and_then(|m| m.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k.starts_with("io.modelcontextprotocol/"))
        .collect();
    let discover = serde_json::json!({
        "jsonrpc": "2.0",
        "id": DISCOVER_ID,
        "method": "server/discover",
        "params": {"_meta": meta},
    });
    match serde_json::from_value(discover) {
        Ok(m) => Opener::Discover(Box::new(m)),
        Err(_) => Opener::NotYet,
    }
}

/// Sends the opening `server/discover` and waits for its answer, which the host never sees
/// (anything else the server sends meanwhile goes on to the host). Err: why it failed.
async fn discover_first<H, R>(
    remote: &mut R,
    host: &mut H,
    discover: ClientJsonRpcMessage,
) -> Result<(), String>
where
    H: Transport<rmcp::RoleServer>,
    R: Transport<rmcp::RoleClient>,
{
    let wait = async {
        remote.send(discover).await.map_err(|e| with_causes(&e))?;
        let ours = RequestId::String(DISCOVER_ID.into());
        loop {
            match remote.receive().await {
                None => return Err("the connection ended".to_owned()),
                Some(JsonRpcMessage::Response(r)) if r.id == ours => return Ok(()),
                Some(JsonRpcMessage::Error(e)) if e.id.as_ref() == Some(&ours) => {
                    return Err(e.error.message.into_owned());
                }
                Some(other) => {
                    let _ = host.send(other).await;
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| Err("no answer to server/discover within 30 s".to_owned()))
}

fn kind_of(request: &ClientRequest) -> Kind {
    match request {
        ClientRequest::CallToolRequest(_) => Kind::ToolCall,
        _ => Kind::Other,
    }
}

/// An error with its causes (a connection refused is a cause of "error sending request").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// What the host is told when the shared server cannot answer.
fn unreachable_text(url: &str, cause: &Cause) -> String {
    let hint = match cause.hint {
        Hint::Token => {
            "the server refused the token: set SWITCHBOARD_TOKEN (or the variable --token-env names) in the host's entry for this server to a token of the shared server's http.tokens"
        }
        Hint::Busy => {
            "the token's limit on requests in flight or sessions is reached (http.max_in_flight_per_token, http.max_sessions_per_token): wait for running calls to end, then try again"
        }
        Hint::Down | Hint::Stopped => {
            "check that `switchboard serve --http` is running at that address, then try again"
        }
    };
    let error = crate::transport::cap_message(cause.text.clone());
    format!("the shared switchboard at {url} could not take the request ({error}); {hint}")
}

/// The answer to a request the server could not take: a failed tool result for a tool call
/// (the model reads it), an error for anything else.
fn failure(id: RequestId, kind: Kind, why: &str) -> ServerJsonRpcMessage {
    match kind {
        Kind::ToolCall => {
            let result: CallToolResult =
                crate::mcp::failure_result(crate::error::reason::UPSTREAM_FAILED, why);
            JsonRpcMessage::Response(JsonRpcResponse {
                jsonrpc: JsonRpcVersion2_0,
                id,
                result: ServerResult::CallToolResult(result),
            })
        }
        Kind::Other => JsonRpcMessage::Error(JsonRpcError {
            jsonrpc: JsonRpcVersion2_0,
            id: Some(id),
            error: ErrorData::new(ErrorCode::INTERNAL_ERROR, why.to_owned(), None),
        }),
    }
}
