//! The command line: `serve` (the default, what hosts run) and the helper commands people use by
//! hand. This is the binary's edge, kept in the library so tests can drive it; it is the only
//! module besides `main.rs` that prints to stdout.

pub mod commands;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "One MCP server over stdio: files and documents, git, code execution, web, a real browser, system, databases, memory, local AI, communication and workflows behind one policy, plus prompts, resources and the tools of the child MCP servers it starts."
)]
pub struct Cli {
    /// Config file (default: $SWITCHBOARD_CONFIG, then config.yaml in the user config dir)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Allow file tools inside DIR (repeatable); adds to files.roots
    #[arg(long = "root", global = true, value_name = "DIR")]
    pub roots: Vec<PathBuf>,
    /// Profile: separate data, logs and state (default: $SWITCHBOARD_PROFILE, then `default`)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Log level for stderr and the log file: error, warn, info, debug, trace, off
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Register only tools that never change anything (readOnlyHint = true)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Child MCP servers file in Claude Desktop's format or VS Code's (default:
    /// proxy.servers_config, then servers_config.json in the user config dir)
    #[arg(long, global = true, value_name = "PATH")]
    pub servers: Option<PathBuf>,
    /// Offer only these toolsets (comma-separated): files, exec, web, system, database, memory,
    /// ai, comms, browser, declarative, proxy. Replaces tools.enabled
    #[arg(long, global = true, value_name = "LIST", value_delimiter = ',')]
    pub toolsets: Option<Vec<String>>,
    /// How tools/list shows the tools: full, compact (search_tools and call_tool) or auto.
    /// Replaces tools.exposure
    #[arg(long, global = true, value_name = "MODE")]
    pub exposure: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (the default when no command is given), or over streamable HTTP
    Serve {
        /// Serve over HTTP at [HOST:]PORT (path /mcp) instead of stdio, for several hosts at
        /// once; a port alone means loopback, another address needs http.tokens (port 0 picks
        /// a free port)
        #[arg(long, value_name = "[HOST:]PORT")]
        http: Option<String>,
    },
    /// Bridge stdio to a shared `switchboard serve --http` at URL (for hosts whose config takes
    /// only a command); the token is read from the environment
    Connect {
        /// The shared server's address, as `serve --http` printed it (e.g. http://127.0.0.1:8848/mcp)
        url: String,
        /// The environment variable holding the bearer token (unset: no token is sent)
        #[arg(long, value_name = "VAR", default_value = "SWITCHBOARD_TOKEN")]
        token_env: String,
    },
    /// List the tool catalogue
    Tools {
        /// Full tool definitions as JSON
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// A Markdown table of every tool, whatever this configuration registers (the README's tool list)
        #[arg(long, conflicts_with = "tokens")]
        markdown: bool,
        /// What each offered tool costs a model's context in tokens, and the total per exposure mode
        #[arg(long, conflicts_with = "json")]
        tokens: bool,
    },
    /// Run one tool in-process and print its result; exit code 1 when the tool reports an error
    Call {
        /// Tool name, e.g. read_file
        tool: String,
        /// Arguments as a JSON object, e.g. '{"path": "README.md"}'
        arguments: Option<String>,
        /// Print the structured result as JSON
        #[arg(long)]
        json: bool,
    },
    /// Inspect the configuration
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Check config, roots, data folders, prompts and resources; one line per check
    Doctor,
    /// Child MCP servers (servers_config.json)
    Proxy {
        #[command(subcommand)]
        action: ProxyAction,
    },
    /// The profile's memory: import or export the knowledge graph
    Memory {
        #[command(subcommand)]
        action: MemoryAction,
    },
    /// Print the MCP host config entry for this binary, with the global options given here
    /// (--config, --root, --profile, --servers, --toolsets, --exposure, --read-only, --log-level)
    InstallSnippet {
        #[arg(value_enum, default_value_t = Host::Claude)]
        host: Host,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the config file, prompts and resources
    Check,
    /// Print the effective configuration, secrets redacted
    Show,
    /// Print where each file and folder was found
    Path,
}

#[derive(Debug, Subcommand)]
pub enum ProxyAction {
    /// Approve child servers and tools held back: a servers-file entry that is new or runs
    /// something else, or a tool whose definition changed
    Approve {
        /// SERVER (its entry and all its held-back tools) or SERVER:TOOL
        #[arg(required_unless_present = "all")]
        target: Option<String>,
        /// Every entry of the servers file as it stands, and every held-back tool
        #[arg(long, conflicts_with = "target")]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemoryAction {
    /// Merge a knowledge graph in the official memory server's JSONL format into this profile's
    Import {
        /// The JSONL file (its MEMORY_FILE_PATH)
        file: PathBuf,
    },
    /// Write this profile's knowledge graph as the official memory server's JSONL
    Export {
        /// Where to write it (default: stdout)
        file: Option<PathBuf>,
    },
    /// Copy this profile's SQLite memory (notes, graph, vectors) into a PostgreSQL database,
    /// into the profile's own schema there, and report the counts
    Migrate {
        /// postgres://USER@HOST:PORT/DATABASE, or env:VAR naming a variable that holds it
        /// (the only way to give a password)
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Host {
    Claude,
    Vscode,
    Cursor,
    Zed,
}

impl Cli {
    /// The global options given on this command line, as a host entry's `args` would repeat
    /// them (paths made absolute, since a host starts the server from anywhere); `--root` is
    /// the current folder when none is given.
    pub fn server_args(&self) -> Vec<String> {
        let absolute = |p: &PathBuf| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string()
        };
        let mut args = Vec::new();
        if let Some(c) = &self.config {
            args.extend(["--config".to_owned(), absolute(c)]);
        }
        let roots: Vec<String> = if self.roots.is_empty() {
            std::env::current_dir()
                .map(|d| vec![d.display().to_string()])
                .unwrap_or_default()
        } else {
            self.roots.iter().map(absolute).collect()
        };
        for r in roots {
            args.extend(["--root".to_owned(), r]);
        }
        if let Some(p) = &self.profile {
            args.extend(["--profile".to_owned(), p.clone()]);
        }
        if let Some(s) = &self.servers {
            args.extend(["--servers".to_owned(), absolute(s)]);
        }
        if let Some(t) = &self.toolsets {
            args.extend(["--toolsets".to_owned(), t.join(",")]);
        }
        if let Some(e) = &self.exposure {
            args.extend(["--exposure".to_owned(), e.clone()]);
        }
        if let Some(l) = &self.log_level {
            args.extend(["--log-level".to_owned(), l.clone()]);
        }
        if self.read_only {
            args.push("--read-only".to_owned());
        }
        args
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            config: self.config.clone(),
            roots: self.roots.clone(),
            profile: self.profile.clone(),
            log_level: self.log_level.clone(),
            read_only: self.read_only,
            servers: self.servers.clone(),
            toolsets: self.toolsets.clone(),
            exposure: self.exposure.clone(),
        }
    }
}
