//! The binary: parse the command line, load the config, start logging, then serve MCP over
//! stdio (or run one of the helper commands). All logic lives in the library.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use switchboard::cli::{Cli, Command, commands};
use switchboard::{config, logging};

fn main() -> ExitCode {
    // A re-execution of this binary that supervises one command's process tree.
    if let Some(code) = switchboard::support::process::supervisor::main_if_requested() {
        return ExitCode::from(code as u8);
    }
    // A re-execution that reads one document, under limits (see documents::isolate).
    if let Some(code) = switchboard::documents::isolate::main_if_requested() {
        return ExitCode::from(code as u8);
    }
    let cli = Cli::parse();
    let server_args = cli.server_args();
    if !matches!(
        cli.command,
        None | Some(Command::Serve { .. } | Command::Connect { .. })
    ) {
        // The helper commands print to stdout like any Unix tool: when the reader goes away
        // (`switchboard tools | head`), stop quietly instead of panicking on EPIPE. `serve`
        // keeps SIGPIPE ignored: its transport handles a closed stdout as the end of a session.
        #[cfg(unix)]
        // SAFETY: signal() only sets this process's disposition for SIGPIPE; it touches no
        // memory Rust manages and is safe to call at any time.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let overrides = cli.overrides();
    let settings = match config::load(&overrides, &|k| std::env::var(k).ok()) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::from(2);
        }
    };
    // A helper command's output is its own: its log lines on stderr would only mix with it,
    // so it logs errors unless a level is asked for. The server logs at the configured level.
    let serving = matches!(
        cli.command,
        None | Some(Command::Serve { .. } | Command::Connect { .. })
    );
    let level = (!serving && cli.log_level.is_none()).then_some("error");
    let _log_guard = logging::init(&settings, std::env::var("RUST_LOG").ok(), level);

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(settings.limits.blocking_threads)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        let result = match cli.command.unwrap_or(Command::Serve { http: None }) {
            Command::Serve { http: None } => commands::serve(settings).await,
            Command::Serve { http: Some(addr) } => {
                commands::serve_http(settings, &overrides, &addr).await
            }
            Command::Connect { url, token_env } => {
                commands::connect(settings, &url, std::env::var(&token_env).ok()).await
            }
            Command::Tools {
                json,
                markdown,
                tokens,
            } => commands::tools(settings, json, markdown, tokens),
            Command::Call {
                tool,
                arguments,
                json,
            } => commands::call(settings, &tool, arguments.as_deref(), json).await,
            Command::Config { action } => commands::config(settings, action),
            Command::Doctor => commands::doctor(settings).await,
            Command::Proxy {
                action: switchboard::cli::ProxyAction::Approve { target, all },
            } => commands::proxy_approve(settings, target.as_deref(), all),
            Command::Memory { action } => commands::memory(settings, action),
            Command::InstallSnippet { host } => commands::install_snippet(host, server_args),
        };
        match result {
            Ok(code) => code,
            Err(e) => {
                eprintln!("switchboard: {e:#}");
                1
            }
        }
    });
    // Blocking file work still running must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(50));
    ExitCode::from(code)
}
