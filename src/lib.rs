//! switchboard: one MCP server over stdio that gives an agent a safe tool catalogue, prompts and
//! resources behind one policy.
//!
//! Map of the crate:
//! - [`config`]: finds and validates `config.yaml` into [`config::Settings`], once.
//! - [`policy`]: roots, path resolution, protected paths: every file operation asks it.
//! - [`server`]: the one MCP `ServerHandler`, holding the tool router built once.
//! - [`tools`]: one folder per category, one file per tool; logic in plain functions.
//! - [`folders`]: the `tools/`, `prompts/` and `resources/` folders, reloaded while running;
//!   [`declared`] (tools from YAML), [`prompts`] and [`resources`] define what is in them.
//! - [`discovery`]: tool search (the index `search_tools` ranks with: keywords, synonyms,
//!   child servers by name, typos in tool names).
//! - [`proxy`]: child MCP servers from `servers_config.json`, multiplexed and forwarded.
//! - [`mcp`]: progress for one call, the change bus, log level order (shared by server and proxy).
//! - [`transport`]: line-delimited JSON-RPC with bounded frames and answers for bad input.
//! - [`http`]: `serve --http`, the same server over streamable HTTP, with tenants per token.
//! - [`logging`]: tracing to stderr and a daily log file; never to stdout.
//! - [`cli`]: the subcommands besides `serve`.
//! - [`support`]: small helpers with no MCP types.

pub mod ai;
pub mod browser;
pub mod cli;
pub mod comms;
pub mod config;
pub mod connect;
pub mod db;
pub mod declared;
pub mod discovery;
pub mod documents;
pub mod error;
pub mod exec;
pub mod folders;
pub mod http;
pub mod logging;
pub mod mcp;
pub mod memory;
pub mod policy;
pub mod prompts;
pub mod proxy;
pub mod resources;
pub mod server;
pub mod support;
pub mod system;
pub mod tools;
pub mod transport;
pub mod web;
pub mod workflow;

use std::time::Duration;

use rmcp::service::{ServerInitializeError, serve_server_with_ct};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

pub use server::{Caller, Switchboard};

/// When child servers start if no `notifications/initialized` came first.
const PROXY_START_FALLBACK: Duration = Duration::from_millis(200);
/// How long in-flight answers may still be written after the input closed.
const EOF_GRACE: Duration = Duration::from_millis(120);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the MCP session could not start: {0}")]
    Init(#[from] ServerInitializeError),
}

/// Serves one MCP session over `reader`/`writer` until the input ends, `shutdown` resolves or
/// the peer goes away. Returns promptly in every case: after end of input, answers still in
/// flight get a short grace period, then everything is cancelled.
pub async fn run<R, W>(
    server: Switchboard,
    reader: R,
    writer: W,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let limits = &server.settings.limits;
    let eof = CancellationToken::new();
    let transport = transport::LineTransport::new(
        reader,
        writer,
        transport::Caps {
            frame: limits.max_frame_bytes,
            response: limits.max_response_bytes,
            in_flight: limits.max_in_flight,
        },
        eof.clone(),
    );
    // Child servers start once `initialize` is answered (see `on_initialized`), so spawning
    // them never delays that answer; this timer covers clients that skip `initialize`.
    {
        let server = server.clone();
        tokio::spawn(async move {
            tokio::time::sleep(PROXY_START_FALLBACK).await;
            server.start_proxy();
        });
    }
    let ct = CancellationToken::new();
    let session = server.clone();
    // The session is the whole process here: when it ends, so does the profile's background.
    let _stop_background = server.background.clone().drop_guard();
    let mut shutdown = std::pin::pin!(shutdown);

    let running = tokio::select! {
        started = serve_server_with_ct(server, transport, ct.clone()) => match started {
            Ok(running) => running,
            Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        },
        _ = &mut shutdown => {
            ct.cancel();
            return Ok(());
        }
    };
    // Watchers, hot reload and change delivery start with the session, whichever protocol
    // generation opened it (a 2026-07-28 client never sends `notifications/initialized`).
    session.start_session(running.peer().clone());
    let mut waiting = std::pin::pin!(running.waiting());
    tokio::select! {
        _ = &mut waiting => {}
        _ = &mut shutdown => {
            tracing::info!("shutdown requested");
            ct.cancel();
            let _ = tokio::time::timeout(Duration::from_millis(30), &mut waiting).await;
        }
        _ = eof.cancelled() => {
            tracing::info!("input closed");
            if tokio::time::timeout(EOF_GRACE, &mut waiting).await.is_err() {
                ct.cancel();
                let _ = tokio::time::timeout(Duration::from_millis(30), &mut waiting).await;
            }
        }
    }
    // The browser is closed here rather than left to its supervisor, so its fresh profile
    // is removed too.
    session.close_browser().await;
    Ok(())
}
