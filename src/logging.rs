//! Logging: stderr (the host shows it in its MCP log) and a daily rolling file in the profile's
//! log folder. stdout is the protocol stream, so nothing here ever writes to it. rmcp logs whole
//! requests at debug, so its level stays at warn unless `RUST_LOG` says otherwise.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::Settings;

/// Installs the global subscriber. `rust_log` is the `RUST_LOG` value, when set; it wins over
/// the configured level. `level` replaces the configured level (a helper command whose output
/// is its own, like `doctor`, logs errors only unless asked). Keep the returned guard alive: it
/// flushes the file on drop.
pub fn init(
    settings: &Settings,
    rust_log: Option<String>,
    level: Option<&str>,
) -> Option<WorkerGuard> {
    let filter = match rust_log.filter(|s| !s.is_empty()) {
        Some(spec) => EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("warn")),
        None => EnvFilter::new(directives(level.unwrap_or(&settings.logging.level))),
    };
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true);
    let (file_layer, guard) = if settings.logging.file {
        match std::fs::create_dir_all(&settings.profile.log_dir) {
            Ok(()) => {
                let appender =
                    tracing_appender::rolling::daily(&settings.profile.log_dir, "switchboard.log");
                let (writer, guard) = tracing_appender::non_blocking(appender);
                (
                    Some(fmt::layer().with_writer(writer).with_ansi(false)),
                    Some(guard),
                )
            }
            Err(e) => {
                eprintln!(
                    "switchboard: cannot create the log folder {}: {e}; logging to stderr only",
                    settings.profile.log_dir.display()
                );
                (None, None)
            }
        }
    } else {
        (None, None)
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init();
    guard
}

/// The filter for `level`: rmcp at warn (it logs whole requests below that), or quieter when
/// the level is (`off`, `error`).
fn directives(level: &str) -> String {
    let rmcp = if matches!(level, "off" | "error") {
        level
    } else {
        "warn"
    };
    format!("{level},rmcp={rmcp}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quiet_level_quiets_rmcp_too() {
        assert_eq!(super::directives("off"), "off,rmcp=off");
        assert_eq!(super::directives("error"), "error,rmcp=error");
        assert_eq!(super::directives("debug"), "debug,rmcp=warn");
    }
}
