//! What each subcommand does. Each returns the process exit code.

use std::sync::Arc;

use anyhow::{Context, bail};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ContentBlock, Tool};
use serde_json::{Value, json};

use super::{ConfigAction, Host};
use crate::config::Settings;
use crate::policy::tools::is_read_only;
use crate::server::Switchboard;
use crate::support::text::human_bytes;

/// Serves MCP over this process's stdin and stdout until end of input, SIGINT or SIGTERM.
/// `switchboard serve --http ADDR`: the server over streamable HTTP until a signal.
pub async fn serve_http(
    settings: Arc<Settings>,
    overrides: &crate::config::Overrides,
    addr: &str,
) -> anyhow::Result<u8> {
    crate::http::serve(
        settings,
        overrides,
        &|k| std::env::var(k).ok(),
        addr,
        shutdown_signal(),
    )
    .await?;
    Ok(0)
}

pub async fn connect(
    settings: Arc<Settings>,
    url: &str,
    token: Option<String>,
) -> anyhow::Result<u8> {
    let token = token.filter(|t| !t.is_empty());
    crate::connect::connect(&settings, url, token, shutdown_signal()).await?;
    Ok(0)
}

pub async fn serve(settings: Arc<Settings>) -> anyhow::Result<u8> {
    let server = Switchboard::new(settings);
    let (reader, writer) = rmcp::transport::io::stdio_pipes();
    // The folders load on the server's helper thread while the session starts, so `initialize`
    // never waits for them. A name defined in two files stops the server as soon as they are
    // read, with both files named (`switchboard config check` lists every problem at once).
    let conflicts = {
        let server = server.clone();
        async move {
            server.folders_read().await;
            if server.folders().conflicts().is_empty() {
                std::future::pending::<()>().await;
            }
        }
    };
    let stop = async move {
        tokio::select! {
            _ = shutdown_signal() => {}
            _ = conflicts => {}
        }
    };
    crate::run(server.clone(), reader, writer, stop).await?;
    let found = server.folders().conflicts();
    if found.is_empty() {
        return Ok(0);
    }
    for c in &found {
        eprintln!("switchboard: {c}");
    }
    eprintln!(
        "switchboard: stopped; fix the files above (`switchboard config check` lists every problem)"
    );
    Ok(2)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The catalogue: one line per tool, a Markdown table, full JSON definitions, or what each
/// costs in tokens.
pub fn tools(
    settings: Arc<Settings>,
    json: bool,
    markdown: bool,
    tokens: bool,
) -> anyhow::Result<u8> {
    let server = Switchboard::new(settings.clone());
    let tools = server.all_tools();
    if tokens {
        print!("{}", token_report(&server, &settings, &tools));
    } else if json {
        println!("{}", serde_json::to_string_pretty(&tools)?);
    } else if markdown {
        // The README documents every tool, including those only some configurations register
        // (the proxy tools need a servers file, the sending tools something to send to).
        // The declarative tools shipped enabled are listed too.
        let mut every = crate::tools::router(
            crate::tools::Shape::everything(),
            &crate::policy::tools::Toolsets::everything(),
        )
        .list_all();
        every.extend(
            crate::declared::BUILT_IN
                .iter()
                .filter_map(|(file, text)| crate::declared::parse(text, file).ok())
                .filter(|t| t.enabled)
                .map(|t| t.tool),
        );
        every.sort_by(|a, b| a.name.cmp(&b.name));
        print!("{}", markdown_table(&every));
    } else {
        for t in &tools {
            println!(
                "{:<18} {}",
                t.name,
                first_sentence(t.description.as_deref().unwrap_or(""))
            );
        }
    }
    Ok(0)
}

/// `tools --tokens`: each offered tool's cost, then each mode's total.
fn token_report(server: &Switchboard, settings: &Settings, tools: &[Tool]) -> String {
    use crate::tools::discovery::list_tokens;
    let mut per: Vec<(usize, &str)> = tools
        .iter()
        .map(|t| {
            let text = serde_json::to_string(t).unwrap_or_default();
            (crate::support::tokens::count(&text), t.name.as_ref())
        })
        .collect();
    per.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut out = String::from("tokens (cl100k) of each offered tool in tools/list:\n");
    for (n, name) in &per {
        out.push_str(&format!("{n:>7}  {name}\n"));
    }
    let t = &settings.tools;
    let full = list_tokens(tools);
    let mut core = server.discovery_tools();
    core.extend(
        t.always
            .iter()
            .filter_map(|n| tools.iter().find(|t| t.name == n.as_str()).cloned()),
    );
    let names: Vec<&str> = core.iter().map(|t| t.name.as_ref()).collect();
    out.push_str(&format!(
        "\nfull     {full:>7} tokens  {:>4} tools\ncompact  {:>7} tokens  {:>4} tools ({})\n",
        tools.len(),
        list_tokens(&core),
        core.len(),
        names.join(", ")
    ));
    let shown = match t.exposure {
        crate::policy::tools::Exposure::Auto => format!(
            "auto: {} (compact above about {} tokens, estimated as a quarter of the bytes, or {} tools)",
            if server.is_compact(tools) {
                "compact"
            } else {
                "full"
            },
            t.auto_budget_tokens,
            t.auto_max_tools
        ),
        e => e.name().to_owned(),
    };
    out.push_str(&format!(
        "tools.exposure: {shown}\nChild servers' tools are not counted: switchboard learns them by running the children.\n"
    ));
    out
}

/// The README's tool table. A test keeps the README equal to this output.
pub fn markdown_table(tools: &[Tool]) -> String {
    let mut out = String::from("| tool | what it does | changes files |\n| --- | --- | --- |\n");
    for t in tools {
        let changes = if is_read_only(t) { "no" } else { "yes" };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            t.name,
            first_sentence(t.description.as_deref().unwrap_or("")).replace('|', "\\|"),
            changes
        ));
    }
    out
}

/// The first sentence: up to the first ". " followed by a capital, skipping "e.g." and "i.e.".
fn first_sentence(s: &str) -> &str {
    let s = s.trim();
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices(". ") {
        let before = &s[..i];
        let next_upper = bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase);
        if next_upper && !before.ends_with("e.g") && !before.ends_with("i.e") {
            return &s[..=i];
        }
    }
    s
}

/// Runs one tool through a real MCP session held in this process, and prints the result.
pub async fn call(
    settings: Arc<Settings>,
    tool: &str,
    arguments: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let args: Value = match arguments {
        Some(a) => serde_json::from_str(a).context("the arguments are not valid JSON")?,
        None => json!({}),
    };
    let Value::Object(args) = args else {
        bail!("the arguments must be a JSON object, e.g. '{{\"path\": \"README.md\"}}'")
    };
    let server = Switchboard::new(settings);
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_io);
    let serving = tokio::spawn(crate::run(
        server,
        server_read,
        server_write,
        std::future::pending(),
    ));
    let client = ().serve(client_io).await.context("in-process session failed to start")?;
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await;
    let _ = client.cancel().await;
    serving.abort();
    let result = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    if json && let Some(s) = &result.structured_content {
        println!("{}", serde_json::to_string_pretty(s)?);
    } else {
        for block in &result.content {
            print_block(block);
        }
    }
    Ok(if result.is_error == Some(true) { 1 } else { 0 })
}

fn print_block(block: &ContentBlock) {
    match block {
        ContentBlock::Text(t) => println!("{}", t.text),
        ContentBlock::Image(i) => println!(
            "[image {}, {} of base64]",
            i.mime_type,
            human_bytes(i.data.len() as u64)
        ),
        ContentBlock::Audio(a) => println!(
            "[audio {}, {} of base64]",
            a.mime_type,
            human_bytes(a.data.len() as u64)
        ),
        other => println!(
            "{}",
            serde_json::to_string_pretty(other).unwrap_or_default()
        ),
    }
}

pub fn config(settings: Arc<Settings>, action: ConfigAction) -> anyhow::Result<u8> {
    match action {
        ConfigAction::Check => {
            let server = Switchboard::new(settings.clone());
            let (servers, warnings) = servers_file_findings(&settings);
            let folders = server.folders();
            let problems: Vec<String> = folders
                .problems()
                .into_iter()
                .chain(servers.iter().cloned())
                .collect();
            for p in &problems {
                println!("problem: {p}");
            }
            // Warnings stop nothing, so they do not fail the check.
            for w in &warnings {
                println!("warning: {w}");
            }
            let file = settings
                .config_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "built-in defaults".into());
            if problems.is_empty() {
                println!(
                    "ok: {file}; profile `{}`; {} root(s); {} prompt(s); {} resource(s); {} tool(s)",
                    settings.profile.name,
                    settings.files.roots.len(),
                    folders.prompts.list().count(),
                    folders.resources.list().count(),
                    server.all_tools().len()
                );
                Ok(0)
            } else {
                let servers = settings
                    .proxy
                    .servers_config
                    .as_ref()
                    .map(|(p, _)| format!(" and {}", p.display()))
                    .unwrap_or_default();
                println!(
                    "{} problem(s) in {file}, its folders{servers}",
                    problems.len()
                );
                Ok(1)
            }
        }
        ConfigAction::Show => {
            print!("{}", serde_norway::to_string(&settings.effective)?);
            Ok(0)
        }
        ConfigAction::Path => {
            let show = |p: &Option<std::path::PathBuf>| {
                p.as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "-".into())
            };
            println!(
                "config file      {} (found by {})",
                show(&settings.config_file),
                settings.found_by
            );
            println!("user config dir  {}", show(&settings.user_config_dir));
            println!("profile          {}", settings.profile.name);
            println!("data dir         {}", settings.profile.data_dir.display());
            println!("log dir          {}", settings.profile.log_dir.display());
            for d in &settings.tools.dirs {
                println!(
                    "tools dir        {}{}",
                    d.display(),
                    if d.is_dir() { "" } else { " (absent)" }
                );
            }
            for d in &settings.prompt_dirs {
                println!(
                    "prompts dir      {}{}",
                    d.display(),
                    if d.is_dir() { "" } else { " (absent)" }
                );
            }
            for d in &settings.resource_dirs {
                println!(
                    "resources dir    {}{}",
                    d.display(),
                    if d.is_dir() { "" } else { " (absent)" }
                );
            }
            for r in &settings.files.roots {
                println!("root             {} ({:?})", r.path.display(), r.source);
            }
            Ok(0)
        }
    }
}

/// What is wrong with the servers file: problems (the file itself, each entry that cannot
/// run: a missing `${VAR}`, a bad key) and warnings (an unknown key, a renamed alias), which
/// stop nothing. Entries disabled on purpose are fine.
fn servers_file_findings(settings: &Settings) -> (Vec<String>, Vec<String>) {
    let Some((path, found_by)) = &settings.proxy.servers_config else {
        return Default::default();
    };
    match crate::proxy::servers::ServersFile::load(path, &|k| std::env::var(k).ok()) {
        Err(e) => (vec![format!("{e} (found by {found_by})")], Vec::new()),
        Ok(f) => (
            f.servers
                .iter()
                .filter_map(|s| match &s.spec {
                    Err(why) if !why.starts_with("disabled in the servers file") => {
                        Some(format!("{}: server `{}`: {why}", path.display(), s.name))
                    }
                    _ => None,
                })
                .collect(),
            f.warnings
                .iter()
                .map(|w| format!("{}: {w}", path.display()))
                .collect(),
        ),
    }
}

/// `switchboard proxy approve SERVER[:TOOL]` or `--all`: trust servers-file entries as they
/// stand now (what they run) and the new definitions of held-back tools.
pub fn proxy_approve(
    settings: Arc<Settings>,
    target: Option<&str>,
    all: bool,
) -> anyhow::Result<u8> {
    use crate::proxy::pins::Pins;
    let (server, tool) = match target.map(|t| t.split_once(':').unwrap_or((t, ""))) {
        Some((s, "")) => (Some(s), None),
        Some((s, t)) => (Some(s), Some(t)),
        None => (None, None),
    };
    let mut pins = Pins::load(Pins::path_in(&settings.profile.data_dir));
    // The entries as the servers file says now: what a person approves is what will run.
    let file = settings
        .proxy
        .servers_config
        .as_ref()
        .and_then(|(path, _)| {
            crate::proxy::servers::ServersFile::load(path, &|k| std::env::var(k).ok()).ok()
        });
    let mut lines = Vec::new();
    if tool.is_none()
        && let Some(file) = &file
    {
        for e in &file.servers {
            if server.is_some_and(|s| s != e.name && s != e.alias) {
                continue;
            }
            if let Ok(spec) = &e.spec
                && pins.approve_entry(&e.name, &spec.identity)
            {
                lines.push(format!(
                    "approved {} (runs: {})",
                    e.name,
                    crate::proxy::describe(&spec.transport)
                ));
            }
        }
    }
    let servers: Vec<String> = match server {
        Some(s) => vec![s.to_owned()],
        None => pins.file().servers.keys().cloned().collect(),
    };
    for s in &servers {
        for t in pins.approve(s, tool) {
            lines.push(format!("approved {s}:{t}"));
        }
    }
    if lines.is_empty() {
        let mut pending: Vec<String> = pins
            .file()
            .servers
            .iter()
            .flat_map(|(s, tools)| {
                tools
                    .iter()
                    .filter(|(_, p)| p.pending.is_some())
                    .map(move |(t, _)| format!("{s}:{t}"))
            })
            .collect();
        pending.extend(
            pins.file()
                .entries
                .iter()
                .filter(|(_, p)| p.pending.is_some())
                .map(|(s, _)| s.clone()),
        );
        eprintln!(
            "switchboard: nothing to approve for `{}` in profile `{}`; held back: {}",
            target.unwrap_or("--all"),
            settings.profile.name,
            if pending.is_empty() {
                "none".to_owned()
            } else {
                pending.join(", ")
            }
        );
        return Ok(if all { 0 } else { 1 });
    }
    pins.save()?;
    for l in &lines {
        println!("{l}");
    }
    Ok(0)
}

/// `switchboard memory import FILE` / `export [FILE]`: the knowledge graph in the official
/// memory server's JSONL format. An export to a file is written whole or not at all.
pub fn memory(settings: Arc<Settings>, action: super::MemoryAction) -> anyhow::Result<u8> {
    // The stores are synchronous and the PostgreSQL one drives its connection with a runtime
    // of its own, which cannot start on a thread already running one: a thread of its own.
    std::thread::scope(|s| s.spawn(|| memory_command(settings, action)).join())
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the memory command failed unexpectedly")))
}

fn memory_command(settings: Arc<Settings>, action: super::MemoryAction) -> anyhow::Result<u8> {
    let mut store = match action {
        super::MemoryAction::Migrate { to } => return memory_migrate(&settings, &to),
        _ => crate::memory::open(&settings.memory)?,
    };
    match action {
        super::MemoryAction::Migrate { .. } => {}
        super::MemoryAction::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let done = store
                .import_jsonl(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!(
                "imported {} new entities, {} new observations, {} new relations into profile `{}`",
                done.entities, done.observations, done.relations, settings.profile.name
            );
        }
        super::MemoryAction::Export { file: None } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            store.export_jsonl(&mut out)?;
            std::io::Write::flush(&mut out)?;
        }
        super::MemoryAction::Export { file: Some(path) } => {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            let counts = store.export_jsonl(&mut out)?;
            std::io::Write::flush(&mut out)?;
            drop(out);
            tmp.as_file().sync_data()?;
            tmp.persist(&path)?;
            eprintln!(
                "exported {} entities, {} observations, {} relations to {}",
                counts.entities,
                counts.observations,
                counts.relations,
                path.display()
            );
        }
    }
    Ok(0)
}

/// `switchboard memory migrate --to URL`: copies the profile's SQLite memory into its schema
/// in a PostgreSQL database (all of it in one transaction), and reports the counts.
fn memory_migrate(settings: &Settings, to: &str) -> anyhow::Result<u8> {
    let (url, from_env) = match to.strip_prefix("env:") {
        Some(var) => (
            std::env::var(var)
                .map_err(|_| anyhow::anyhow!("--to names the variable {var}, which is not set"))?,
            true,
        ),
        None => (to.to_owned(), false),
    };
    crate::config::memory::check_postgres_url(&url, from_env)
        .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if !settings.memory.db.exists() {
        anyhow::bail!(
            "profile `{}` has no SQLite memory to copy ({} does not exist)",
            settings.profile.name,
            settings.memory.db.display()
        );
    }
    let schema = crate::config::memory::schema_for(&settings.profile.name);
    let mut src = crate::memory::notes::SqliteStore::open(&settings.memory.db)?;
    let mut dst =
        crate::memory::postgres::PgStore::open(&url, &schema, std::time::Duration::from_secs(10))?
            .with_quotas(settings.memory.quotas);
    let done = dst.copy_from(&mut src)?;
    println!(
        "copied profile `{}` into {} (schema {schema}): {} notes, {} vectors, {} entities, {} observations, {} relations",
        settings.profile.name,
        crate::config::database::redact_url(&url),
        done.notes,
        done.vectors,
        done.entities,
        done.observations,
        done.relations
    );
    if !matches!(
        settings.memory.store,
        crate::config::StoreTarget::Postgres { .. }
    ) {
        println!(
            "to use it, set memory.store in config.yaml to that URL (as env:VAR when it holds a password); {} stays as it was",
            settings.memory.db.display()
        );
    }
    Ok(0)
}

/// What `EXE --version` prints (its first line), or why it could not say.
async fn browser_version(exe: &std::path::Path) -> String {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::process::Command::new(exe)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await;
    match out {
        Ok(Ok(o)) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap_or("version unknown")
            .trim()
            .to_owned(),
        Ok(Ok(o)) => format!("`--version` failed: {}", o.status),
        Ok(Err(e)) => format!("it cannot run: {e}"),
        Err(_) => "`--version` did not answer in 10 s".to_owned(),
    }
}

pub async fn doctor(settings: Arc<Settings>) -> anyhow::Result<u8> {
    let mut failed = 0;
    let mut line = |ok: bool, what: String| {
        if !ok {
            failed += 1;
        }
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
    };
    let config_line = match &settings.config_file {
        Some(p) => format!("config: {} (found by {})", p.display(), settings.found_by),
        None => format!(
            "config: no file found, using built-in defaults (create {} or pass --config)",
            settings
                .user_config_dir
                .as_ref()
                .map(|d| d.join("config.yaml").display().to_string())
                .unwrap_or_else(|| "config.yaml".into())
        ),
    };
    line(true, config_line);
    for (what, dir) in [
        ("data dir", &settings.profile.data_dir),
        ("log dir", &settings.profile.log_dir),
    ] {
        match writable(dir) {
            Ok(()) => line(true, format!("{what} {} is writable", dir.display())),
            Err(e) => line(
                false,
                format!(
                    "{what} {} is not writable ({e}); set data_dir in config.yaml to a writable folder",
                    dir.display()
                ),
            ),
        }
    }
    if settings.files.roots.is_empty() {
        println!(
            "warn no roots configured: file tools work only with a client that shares MCP roots; add --root DIR"
        );
    }
    for r in &settings.files.roots {
        match std::fs::read_dir(&r.path) {
            Ok(_) => line(true, format!("root {} is readable", r.path.display())),
            Err(e) => line(
                false,
                format!(
                    "root {} cannot be read ({e}); fix its permissions or remove it",
                    r.path.display()
                ),
            ),
        }
    }
    let server = Switchboard::new(settings.clone());
    let folders = server.folders();
    let declared = folders.visible_tools(&settings).count();
    for (ok, what, kind, problems) in [
        (
            folders.tools.problems.is_empty() && folders.tools.conflicts.is_empty(),
            format!("{declared} declarative tool(s) loaded"),
            "tool",
            folders.tools.all_problems().collect::<Vec<_>>(),
        ),
        (
            folders.prompts.defs.problems.is_empty() && folders.prompts.defs.conflicts.is_empty(),
            format!("{} prompt(s) loaded", folders.prompts.list().count()),
            "prompt",
            folders.prompts.defs.all_problems().collect(),
        ),
        (
            folders.resources.defs.problems.is_empty()
                && folders.resources.defs.conflicts.is_empty(),
            format!("{} resource(s) loaded", folders.resources.list().count()),
            "resource",
            folders.resources.defs.all_problems().collect(),
        ),
    ] {
        line(ok, what);
        for p in problems {
            line(false, format!("{kind} file: {p}"));
        }
    }
    let offered = server.all_tools();
    let t = &settings.tools;
    let toolsets: Vec<&str> = t.toolsets.enabled().map(|c| c.name()).collect();
    let shown = match t.exposure {
        crate::policy::tools::Exposure::Auto if server.is_compact(&offered) => {
            "auto: compact (over its budget; child tools not counted)"
        }
        crate::policy::tools::Exposure::Auto => {
            "auto: full (within its budget; child tools not counted)"
        }
        e => e.name(),
    };
    line(
        true,
        format!(
            "tools: {} of switchboard's own offered (toolsets: {}); exposure {shown}",
            offered.len(),
            toolsets.join(", ")
        ),
    );
    let mode = settings.exec.sandbox;
    match (mode, server.exec.sandbox_availability().await) {
        (crate::config::SandboxMode::Off, _) => println!(
            "warn exec sandbox is off (exec.sandbox: off): commands run with your full user rights"
        ),
        (_, Ok(bwrap)) => {
            line(
                true,
                format!(
                    "exec sandbox: bubblewrap works ({}); commands see an allowlist of the host (system folders, their toolchains, the roots, a private home); network for commands is {}",
                    bwrap.display(),
                    if settings.exec.network { "on" } else { "off" }
                ),
            );
            match crate::support::process::seccomp::filter() {
                Some(p) => line(
                    true,
                    format!(
                        "exec seccomp filter: on ({} instructions; no new namespaces, mounts, ptrace, keyrings, bpf, modules)",
                        p.len() / 8
                    ),
                ),
                None => println!(
                    "warn exec seccomp filter: none for this architecture; sandboxed commands may create namespaces and use ptrace"
                ),
            }
        }
        (crate::config::SandboxMode::Required, Err(why)) => line(
            false,
            format!(
                "exec sandbox is required but cannot run: {why}; exec tools will refuse to run"
            ),
        ),
        (_, Err(why)) => println!("warn exec sandbox unavailable, commands run unsandboxed: {why}"),
    }
    if let Some(n) = settings.exec.rlimits.processes {
        #[cfg(target_os = "linux")]
        let cgroup = crate::support::process::cgroup::available();
        #[cfg(not(target_os = "linux"))]
        let cgroup: Option<&str> = None;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        match (cgroup, root) {
            (Some(layout), _) => line(
                true,
                format!(
                    "exec.limits.processes ({n}) holds per command tree through a cgroup ({layout} pids controller)"
                ),
            ),
            (None, false) => line(
                true,
                format!(
                    "exec.limits.processes ({n}) holds through RLIMIT_NPROC (it counts all of your processes; no writable cgroup here)"
                ),
            ),
            (None, true) => println!(
                "warn exec.limits.processes does not hold: switchboard runs as root, the kernel does not apply RLIMIT_NPROC to root, and no writable cgroup pids controller was found. Run switchboard as an ordinary user, or give it a cgroup"
            ),
        }
    }
    if let Some(m) = settings.exec.rlimits.memory_bytes {
        line(
            true,
            format!(
                "exec.limits.memory_bytes ({}) holds per process through RLIMIT_DATA (for root too)",
                crate::support::text::human_bytes(m)
            ),
        );
    }
    let found: Vec<&str> = crate::exec::interpreters::interpreters()
        .iter()
        .map(|i| i.language)
        .collect();
    println!(
        "info run_code languages: {}",
        if found.is_empty() {
            "none found on PATH".to_owned()
        } else {
            found.join(", ")
        }
    );
    if !settings.read_only
        && settings
            .tools
            .toolsets
            .is_enabled(crate::policy::tools::Category::Browser)
    {
        let b = &settings.browser;
        let path = std::env::var_os("PATH").unwrap_or_default();
        match crate::browser::find(b.executable.as_deref(), &path) {
            Ok(exe) => {
                let version = browser_version(&exe).await;
                line(
                    true,
                    format!(
                        "browser: {} ({version}); started on first use, {}, {} profile; every request of its pages meets the web rules",
                        exe.display(),
                        if b.headless {
                            "headless"
                        } else {
                            "with a window"
                        },
                        match b.profile {
                            crate::config::browser::BrowserProfile::Fresh => "a fresh",
                            crate::config::browser::BrowserProfile::Persistent => "the persistent",
                        }
                    ),
                );
            }
            // The browser toolset is optional: without a browser only its tools are missing.
            Err(e) => println!("warn browser tools: {e}"),
        }
    }
    // AI backends: an unreachable one is a warning (Ollama need not be running all the time).
    match server.ai() {
        Ok(ai) => {
            let names: Vec<String> = ai.backends().map(|(s, _)| s.name.clone()).collect();
            for name in names {
                let Ok(r) = ai.health(&name, true).await else {
                    continue;
                };
                let default = if r.backend == ai.settings.default_backend {
                    ", default"
                } else {
                    ""
                };
                if r.ok {
                    line(
                        true,
                        format!(
                            "ai backend {} ({}{default}) at {}: {}{} model(s)",
                            r.backend,
                            r.kind,
                            r.base_url,
                            r.version
                                .map(|v| format!("version {v}, "))
                                .unwrap_or_default(),
                            r.models.map_or("?".into(), |n| n.to_string())
                        ),
                    );
                } else {
                    println!(
                        "warn ai backend {} ({}{default}): {}",
                        r.backend,
                        r.kind,
                        r.error.unwrap_or_default()
                    );
                }
            }
        }
        Err(e) => line(false, format!("ai: {e}")),
    }
    // The memory store: it must open (and, for PostgreSQL, be created or migrated).
    let memory = settings.memory.clone();
    let unmade = matches!(&memory.store, crate::config::StoreTarget::Sqlite(p) if !p.exists());
    let opened = tokio::task::spawn_blocking(move || {
        if unmade {
            // Opening would make the file; doctor changes nothing.
            return Ok((
                crate::memory::StoreInfo {
                    engine: "sqlite",
                    location: format!("{} (made on first use)", memory.db.display()),
                    vectors: "in process",
                },
                0,
            ));
        }
        crate::memory::open(&memory).and_then(|mut m| {
            let notes = m.count()?;
            Ok((m.describe(), notes))
        })
    })
    .await;
    match opened {
        Ok(Ok((info, notes))) => line(
            true,
            format!(
                "memory ({}) at {}: {notes} note(s); vectors compared {}",
                info.engine, info.location, info.vectors
            ),
        ),
        Ok(Err(e)) => line(
            false,
            format!(
                "memory ({}) at {}: {e}",
                settings.memory.store.engine(),
                settings.memory.store.location()
            ),
        ),
        Err(e) => line(false, format!("memory: the check failed: {e}")),
    }
    // Database connections: each must open and list its tables.
    let dbs = server.databases();
    for c in &dbs.settings.connections {
        let access = if c.writable { "writable" } else { "read-only" };
        let source = crate::db::Source::Connection(c.clone());
        match dbs.tables(&source).await {
            Ok(t) => line(
                true,
                format!(
                    "database {} ({}, {access}) at {}: {} table(s)",
                    c.name,
                    c.engine(),
                    c.location(),
                    t.len()
                ),
            ),
            Err(e) => line(
                false,
                format!("database {} ({}, {access}): {e}", c.name, c.engine()),
            ),
        }
    }
    let (problems, warnings) = servers_file_findings(&settings);
    for p in problems {
        line(false, format!("servers file: {p}"));
    }
    for w in warnings {
        println!("warn servers file: {w}");
    }
    if let Some(hub) = server.start_proxy() {
        // Start every child (lazy ones too) and wait for each to be ready or to fail.
        let mut waits = tokio::task::JoinSet::new();
        for c in hub.children() {
            if c.spec.is_ok() {
                waits.spawn(async move { c.connection().await.map(|_| ()) });
            }
        }
        while waits.join_next().await.is_some() {}
        for r in hub.report() {
            match r.state.as_str() {
                "ready" => line(
                    true,
                    format!(
                        "server {}: ready, {} tool(s), {} prompt(s), {} resource(s); started in {} ms",
                        r.name,
                        r.tools,
                        r.prompts,
                        r.resources,
                        r.start_ms.unwrap_or(0)
                    ),
                ),
                "disabled" | "held" => println!(
                    "warn server {}: not started: {}",
                    r.name,
                    r.last_error.unwrap_or_default()
                ),
                other => line(
                    false,
                    format!(
                        "server {}: {other}: {}{}",
                        r.name,
                        r.last_error.unwrap_or_default(),
                        r.stderr_tail
                            .lines()
                            .last()
                            .map(|l| format!(" (stderr: {l})"))
                            .unwrap_or_default()
                    ),
                ),
            }
            if !r.held_tools.is_empty() {
                println!(
                    "warn server {}: held back until approved: {}",
                    r.name,
                    r.held_tools.join(", ")
                );
            }
        }
    }
    match self_test(server).await {
        Ok(n) => line(
            true,
            format!("MCP self-test: initialize and tools/list answered ({n} tools)"),
        ),
        Err(e) => line(false, format!("MCP self-test failed: {e:#}")),
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn writable(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = tempfile::NamedTempFile::new_in(dir)?;
    drop(probe);
    Ok(())
}

async fn self_test(server: Switchboard) -> anyhow::Result<usize> {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (r, w) = tokio::io::split(server_io);
    let serving = tokio::spawn(crate::run(server, r, w, std::future::pending()));
    let client = ().serve(client_io).await?;
    let tools = client.list_all_tools().await?;
    let _ = client.cancel().await;
    serving.abort();
    Ok(tools.len())
}

/// The host config entry, with this binary's absolute path and the current folder as root.
/// `args`: the global options of this command line, as the host should pass them.
pub fn install_snippet(host: Host, args: Vec<String>) -> anyhow::Result<u8> {
    let exe = std::env::current_exe().context("cannot find this binary's path")?;
    let exe = std::fs::canonicalize(&exe)
        .unwrap_or(exe)
        .display()
        .to_string();
    let entry = json!({"command": exe, "args": args});
    let (file, snippet) = match host {
        Host::Claude => (
            "claude_desktop_config.json",
            json!({"mcpServers": {"switchboard": entry}}),
        ),
        Host::Cursor => (
            "~/.cursor/mcp.json",
            json!({"mcpServers": {"switchboard": entry}}),
        ),
        Host::Vscode => (
            ".vscode/mcp.json",
            json!({"servers": {"switchboard": {"type": "stdio", "command": entry["command"], "args": entry["args"]}}}),
        ),
        Host::Zed => (
            "~/.config/zed/settings.json",
            json!({"context_servers": {"switchboard": {"source": "custom", "command": entry["command"], "args": entry["args"], "env": {}}}}),
        ),
    };
    eprintln!("Add this to {file} (merge with what is there; --root is your project):");
    println!("{}", serde_json::to_string_pretty(&snippet)?);
    Ok(0)
}
