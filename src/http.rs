//! `switchboard serve --http ADDR`: the same server over MCP's streamable HTTP transport, so
//! several hosts share one switchboard and one set of child servers.
//!
//! rmcp's streamable HTTP service speaks the protocol (sessions for `initialize`-era clients,
//! stateless requests for 2026-07-28 ones, `Host` and `Origin` checks against DNS rebinding);
//! this module puts the tenancy and the limits in front of it:
//! - **Tenants.** Each bearer token of `http.tokens` opens one profile, with its own settings
//!   (the token may set roots, toolsets and read-only mode), its own memory, outbox, pins and
//!   data, and one [`Shared`] part that all its sessions use: one set of child servers per
//!   profile however many hosts connect. Tokens are compared in constant time. Without tokens
//!   the server is open, which only a loopback address allows.
//! - **Limits per token.** Requests in flight (`http.max_in_flight_per_token`, held until the
//!   answer's stream ends), sessions (`http.max_sessions_per_token`, checked when an
//!   `initialize` would open one), idle sessions closed after `http.session_idle_secs`; bodies
//!   over `limits.max_frame_bytes` are refused unread.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::{Overrides, Settings};
use crate::server::{Shared, Switchboard};

type HttpBody = BoxBody<Bytes, Infallible>;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error(
        "`{0}` is not an address to serve on: give PORT (on loopback) or HOST:PORT, e.g. 8848 or 127.0.0.1:8848"
    )]
    Address(String),
    #[error(
        "serving on {0}, which is not a loopback address, needs authentication: add bearer tokens to http.tokens in config.yaml"
    )]
    OpenToTheNetwork(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the settings of the token for profile `{profile}` are invalid: {source}")]
    Tenant {
        profile: String,
        source: crate::config::ConfigError,
    },
}

/// Loopback origins a local host's web view may have, always allowed.
const LOOPBACK_ORIGINS: &[&str] = &["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];
const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// One tenant: a profile's service and its limits.
struct Tenant {
    /// The token (none: the open loopback server).
    secret: Option<Vec<u8>>,
    profile: String,
    service: StreamableHttpService<Switchboard, LocalSessionManager>,
    sessions: Arc<LocalSessionManager>,
    in_flight: Arc<Semaphore>,
    shared: Arc<Shared>,
}

struct Router {
    tenants: Vec<Tenant>,
    max_in_flight: usize,
    max_sessions: usize,
    max_body: usize,
    max_response: usize,
    running: Running,
}

/// Serves until `shutdown` resolves; then every session and child server ends.
pub async fn serve(
    base: Arc<Settings>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    addr: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<(), HttpError> {
    // A port alone means loopback.
    let host_port = match addr.parse::<u16>() {
        Ok(port) => format!("127.0.0.1:{port}"),
        Err(_) => addr.to_owned(),
    };
    let addr: SocketAddr = tokio::net::lookup_host(&host_port)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| HttpError::Address(addr.to_owned()))?;
    let http = &base.http;
    if !addr.ip().is_loopback() && http.tokens.is_empty() {
        return Err(HttpError::OpenToTheNetwork(addr));
    }
    let stop = CancellationToken::new();
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    hosts.extend(http.allowed_hosts.iter().cloned());
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        hosts.push(addr.ip().to_string());
    }
    let mut origins: Vec<String> = LOOPBACK_ORIGINS.iter().map(|o| (*o).to_owned()).collect();
    origins.extend(http.allowed_origins.iter().cloned());
    let rmcp_config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_max_request_body_bytes(base.limits.max_frame_bytes)
        .with_cancellation_token(stop.child_token());

    let mut tenants = Vec::new();
    if http.tokens.is_empty() {
        tenants.push(tenant(base.clone(), None, &rmcp_config, http.session_idle));
    } else {
        for t in &http.tokens {
            let mut o = overrides.clone();
            o.profile = Some(t.profile.clone());
            o.read_only |= t.read_only;
            if let Some(roots) = &t.roots {
                o.roots = roots.clone();
            }
            if let Some(sets) = &t.toolsets {
                o.toolsets = Some(sets.clone());
            }
            let mut settings =
                crate::config::load(&o, env).map_err(|source| HttpError::Tenant {
                    profile: t.profile.clone(),
                    source,
                })?;
            if t.roots.is_some() {
                // The token's roots replace the file's.
                settings
                    .files
                    .roots
                    .retain(|r| r.source == crate::config::RootSource::CommandLine);
            }
            tenants.push(tenant(
                Arc::new(settings),
                Some(t.secret.as_bytes().to_vec()),
                &rmcp_config,
                http.session_idle,
            ));
        }
    }
    let router = Arc::new(Router {
        tenants,
        max_in_flight: http.max_in_flight_per_token,
        max_sessions: http.max_sessions_per_token,
        max_body: base.limits.max_frame_bytes,
        max_response: base.limits.max_response_bytes,
        running: Running::default(),
    });
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(%bound, tenants = router.tenants.len(), "serving MCP over HTTP");
    // The address goes to stderr for whoever started it (port 0 picks a free one).
    eprintln!("switchboard: serving MCP at http://{bound}/mcp");
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Answers go out as soon as they are written: without this, Nagle's algorithm holds a
        // small last segment until the client's delayed ACK, 40 ms a call (measured).
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let router = router.clone();
                async move { Ok::<_, Infallible>(router.handle(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = &mut conn => if let Err(e) = r {
                    tracing::debug!(error = %e, "an HTTP connection ended with an error");
                },
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
    tracing::info!("shutdown requested");
    stop.cancel();
    for t in &router.tenants {
        t.shared.background.cancel();
    }
    Ok(())
}

fn tenant(
    settings: Arc<Settings>,
    secret: Option<Vec<u8>>,
    config: &StreamableHttpServerConfig,
    idle: std::time::Duration,
) -> Tenant {
    let first = Switchboard::new(settings.clone());
    // Child servers start now, once for the profile, and serve every session of it; so does
    // the folder watch (hot reload for every session, stateless 2026-07-28 requests included).
    first.start_proxy();
    first.watch_profile_folders(None);
    let shared = first.shared();
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = Some(idle);
    let sessions = Arc::new(manager);
    let for_factory = shared.clone();
    let service = StreamableHttpService::new(
        move || Ok(Switchboard::session(for_factory.clone())),
        sessions.clone(),
        config.clone(),
    );
    Tenant {
        secret,
        profile: settings.profile.name.clone(),
        service,
        sessions,
        in_flight: Arc::new(Semaphore::new(settings.http.max_in_flight_per_token)),
        shared,
    }
}

/// Equal bytes, in time that depends only on the lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, message: &str) -> Response<HttpBody> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{message}\n"))).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
    }
    r
}

impl Router {
    fn busy(&self) -> Response<HttpBody> {
        refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "this token has {} requests in flight, the most allowed (http.max_in_flight_per_token); wait for answers before sending more",
                self.max_in_flight
            ),
        )
    }

    fn tenant_for(&self, req: &Request<hyper::body::Incoming>) -> Option<&Tenant> {
        if self.tenants.len() == 1 && self.tenants[0].secret.is_none() {
            return self.tenants.first();
        }
        let given = req
            .headers()
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?
            .trim()
            .as_bytes();
        // Every token is compared, so the time taken says nothing about which one matched.
        let mut found = None;
        for t in &self.tenants {
            if t.secret.as_deref().is_some_and(|s| same_secret(s, given)) {
                found = Some(t);
            }
        }
        found
    }

    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<HttpBody> {
        let Some(tenant) = self.tenant_for(&req) else {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required: send `Authorization: Bearer TOKEN` with a token from http.tokens",
            );
        };
        // Requests count while they run; a GET (the standing stream a session keeps open for
        // the server's own messages) does not.
        let permit = if req.method() == http::Method::GET {
            None
        } else {
            match tenant.in_flight.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => return self.busy(),
            }
        };
        let (parts, body) = req.into_parts();
        let bytes = match Limited::new(body, self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!(
                        "the request body is over {} bytes (limits.max_frame_bytes); send less in one message",
                        self.max_body
                    ),
                );
            }
        };
        if parts.method == http::Method::POST
            && !parts.headers.contains_key("mcp-session-id")
            && opens_session(&bytes)
        {
            let open = tenant.sessions.sessions.read().await.len();
            if open >= self.max_sessions {
                return refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!(
                        "profile `{}` already has {open} sessions open, the most one token may hold (http.max_sessions_per_token); close one (DELETE with its Mcp-Session-Id) or wait until idle ones expire (http.session_idle_secs)",
                        tenant.profile
                    ),
                );
            }
        }
        // A request id still running in the same session is answered at once (rmcp would
        // leave the second one waiting for ever).
        let mut running = None;
        if let (
            Some(session),
            Head {
                method: Some(_),
                id: Some(id),
            },
        ) = (
            parts
                .headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok()),
            head(&bytes),
        ) {
            let key = (session.to_owned(), id.get().to_owned());
            if !crate::support::lock(&self.running).insert(key.clone()) {
                return id_in_use(id.get());
            }
            running = Some(RunningId {
                set: self.running.clone(),
                key,
            });
        }
        let req = Request::from_parts(parts, Full::new(bytes));
        let response = tenant.service.handle(req).await;
        let (parts, body) = response.into_parts();
        Response::from_parts(
            parts,
            Held {
                inner: body,
                _permit: permit,
                _running: running,
                cap: self.max_response,
            }
            .boxed(),
        )
    }
}

/// What the HTTP layer reads of a message: its method and its id, as written.
#[derive(serde::Deserialize, Default)]
struct Head<'a> {
    #[serde(borrow)]
    method: Option<&'a str>,
    #[serde(borrow)]
    id: Option<&'a serde_json::value::RawValue>,
}

fn head(body: &[u8]) -> Head<'_> {
    serde_json::from_slice(body).unwrap_or_default()
}

/// Whether a request body is an `initialize` (which opens an `initialize`-era session).
fn opens_session(body: &[u8]) -> bool {
    head(body).method == Some("initialize")
}

/// The answer to a request whose id is still in use in its session, as the stdio transport
/// gives it (without it the second request would never be answered).
fn id_in_use(id: &str) -> Response<HttpBody> {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32600,"message":"request id {} is still in use by a request that has not been answered; use a new id for each request"}}}}"#,
        crate::transport::cap_message(id.replace('"', "'"))
    );
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

/// The ids of requests running in each session (session id, request id as written).
type Running = Arc<std::sync::Mutex<std::collections::HashSet<(String, String)>>>;

/// A response body that holds its request's in-flight permit until it ends, and caps each
/// event it carries at `limits.max_response_bytes` as the stdio transport caps each line.
struct Held {
    inner: HttpBody,
    _permit: Option<OwnedSemaphorePermit>,
    _running: Option<RunningId>,
    cap: usize,
}

/// A request id marked running in its session until its answer has been sent.
struct RunningId {
    set: Running,
    key: (String, String),
}

impl Drop for RunningId {
    fn drop(&mut self) {
        crate::support::lock(&self.set).remove(&self.key);
    }
}

/// One server-sent event whose message is over `cap`, replaced as the stdio transport replaces
/// a line: a tool result by a tool failure saying how to narrow the call, another answer by an
/// error saying the same, an error by its capped message; a notification is dropped (an empty
/// frame). Each event is one frame with its message on one `data:` line.
fn cap_event(event: Bytes, cap: usize) -> Bytes {
    let Ok(text) = std::str::from_utf8(&event) else {
        return event;
    };
    let mut out = String::with_capacity(1024);
    for line in text.split_inclusive('\n') {
        let Some(data) = line.strip_prefix("data:") else {
            out.push_str(line);
            continue;
        };
        let Ok(mut message) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
            out.push_str(line);
            continue;
        };
        let size = crate::support::text::human_bytes(data.len() as u64);
        let limit = crate::support::text::human_bytes(cap as u64);
        let Some(obj) = message.as_object_mut() else {
            return event;
        };
        if !obj.contains_key("id") {
            tracing::warn!(
                bytes = data.len(),
                "dropped a notification over limits.max_response_bytes"
            );
            return Bytes::new();
        }
        if obj.contains_key("method") {
            // A request to the client: never large in practice, and not the server's answer.
            out.push_str(line);
            continue;
        }
        let replacement = match obj.remove("result") {
            Some(r) if r.get("content").is_some_and(serde_json::Value::is_array) => {
                let mut failure = crate::transport::too_large_result(&size, &limit);
                failure.result_type = r
                    .get("resultType")
                    .and_then(|t| serde_json::from_value(t.clone()).ok());
                ("result", serde_json::to_value(failure).unwrap_or_default())
            }
            Some(_) => (
                "error",
                serde_json::json!({"code": -32000, "message": crate::transport::too_large_answer(&size, &limit)}),
            ),
            None => {
                let message = obj
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let code = obj.get("error").and_then(|e| e.get("code")).cloned();
                (
                    "error",
                    serde_json::json!({"code": code, "message": crate::transport::cap_message(message)}),
                )
            }
        };
        obj.insert(replacement.0.to_owned(), replacement.1);
        out.push_str("data: ");
        out.push_str(&message.to_string());
        out.push('\n');
    }
    Bytes::from(out)
}

impl Body for Held {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let cap = self.cap;
        Pin::new(&mut self.inner).poll_frame(cx).map(|frame| {
            frame.map(|f| {
                f.map(|f| match f.into_data() {
                    Ok(data) if data.len() > cap => Frame::data(cap_event(data, cap)),
                    Ok(data) => Frame::data(data),
                    Err(other) => other,
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole_and_initialize_is_recognised() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(opens_session(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(!opens_session(
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
        ));
        assert!(!opens_session(b"not json"));
    }
}
