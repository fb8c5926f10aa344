//! Tool search in the benchmark: the query sets of `tests/discovery/` sent through
//! `search_tools` over stdio to the release binary, scored top-1, top-3 and MRR; the same with
//! the official filesystem, git, memory and time servers as children when they are installed
//! (`scripts/test.sh` installs them); and how long a search takes over 500 tools.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::support::queryset::{Floor, QuerySet, Scores, parse, parse_floors, score};

use super::{Row, Session, Target, median, timed};

const SETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/discovery");

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(SETS).join(name)).unwrap()
}

/// switchboard with every tool offered (the sending tools configured, a shell, package
/// installs, a servers file) and `extra` appended to its config.
fn everything(base: &Path, name: &str, servers: &Value, extra: &str) -> Target {
    let dir = base.join(name);
    std::fs::create_dir_all(dir.join("root")).unwrap();
    let servers_file = dir.join("servers.json");
    std::fs::write(&servers_file, servers.to_string()).unwrap();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {data}\nfiles:\n  roots: [{root}]\nlogging:\n  file: false\nexec:\n  shell: true\n  packages:\n    enabled: true\nai:\n  agent:\n    allow: [write_file]\ncomms:\n  email:\n    accounts:\n      work: {{host: smtp.example.com, port: 587, security: starttls, username: me@example.com, password: env:BENCH_SMTP_PASSWORD, from: \"Me <me@example.com>\"}}\n  webhooks:\n    team: {{kind: slack, url: env:BENCH_WEBHOOK_URL}}\n  ntfy: {{server: \"https://ntfy.example.org\", topic: alerts}}\n{extra}",
            data = dir.join("data").display(),
            root = dir.join("root").display(),
        ),
    )
    .unwrap();
    let target = Target {
        program: PathBuf::from(env!("CARGO_BIN_EXE_switchboard")),
        args: vec![
            "--config".into(),
            config.display().to_string(),
            "--servers".into(),
            servers_file.display().to_string(),
            "--exposure".into(),
            "compact".into(),
        ],
        env: vec![
            ("BENCH_SMTP_PASSWORD".into(), "unused".into()),
            (
                "BENCH_WEBHOOK_URL".into(),
                "https://hooks.example.org/unused".into(),
            ),
        ],
    };
    target.approve_servers();
    target
}

/// `search_tools`' answer: the names best first, and how many tools it searched.
fn ask(s: &mut Session, query: &str) -> (Vec<String>, u64) {
    let out = s.tool("search_tools", json!({"query": query, "limit": 10}));
    let v: Value = serde_json::from_str(&out).unwrap();
    let found = &v["result"]["structuredContent"];
    let names = found["tools"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (names, found["searched"].as_u64().unwrap_or(0))
}

fn scores(s: &mut Session, set: &QuerySet, same: &[Vec<String>]) -> Scores {
    score(set, same, |q| ask(s, q).0)
}

/// Three rows for one set: top-1 and top-3 against the goals, MRR, with the recorded floor.
fn quality_rows(rows: &mut Vec<Row>, label: &str, s: &Scores, floor: Option<&Floor>) {
    let n = s.queries;
    let floor = floor.map_or(String::new(), |f| {
        format!("; floor {}/{} and {}/{}", f.top1, n, f.top3, n)
    });
    rows.push(Row::at_least(
        &format!("search_tools top-1, {label} ({n} queries)"),
        100.0 * s.top1_rate(),
        90.0,
        "%",
        &format!("≥ 90%{floor}"),
    ));
    rows.push(Row::at_least(
        &format!("search_tools top-3, {label}"),
        100.0 * s.top3_rate(),
        98.0,
        "%",
        "≥ 98%",
    ));
    rows.push(Row::info(
        &format!("search_tools MRR, {label}"),
        s.mrr(),
        "",
        "mean reciprocal rank of the first right tool",
    ));
}

/// The official servers' commands, from the test script's variables or its install folder.
fn official_servers(base: &Path) -> Option<Value> {
    let deps = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/test-deps");
    let find = |var: &str, default: PathBuf| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or(Some(default))
            .filter(|p| p.is_file())
    };
    let fs = find(
        "SWITCHBOARD_TEST_FILESYSTEM_SERVER",
        deps.join("node/node_modules/.bin/mcp-server-filesystem"),
    )?;
    let memory = find(
        "SWITCHBOARD_TEST_MEMORY_SERVER",
        deps.join("node/node_modules/.bin/mcp-server-memory"),
    )?;
    let git = find(
        "SWITCHBOARD_TEST_GIT_SERVER",
        deps.join("venv/bin/mcp-server-git"),
    )?;
    let time = find(
        "SWITCHBOARD_TEST_TIME_SERVER",
        deps.join("venv/bin/mcp-server-time"),
    )?;
    let node_bin = fs.parent()?.display().to_string();
    let path = format!("{node_bin}:{}", std::env::var("PATH").unwrap_or_default());
    let repo = base.join("children-repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git_ok = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .is_ok_and(|s| s.success());
    git_ok.then(|| {
        json!({"mcpServers": {
            "filesystem": {"command": fs, "args": [repo], "env": {"PATH": path}},
            "memory": {"command": memory, "env": {"PATH": path,
                "MEMORY_FILE_PATH": base.join("children-memory.jsonl")}},
            "git": {"command": git, "args": ["--repository", repo]},
            "time": {"command": time, "args": ["--local-timezone", "UTC"]},
        }})
    })
}

/// 424 declared tools with made-up but varied vocabulary, beside the built-in ones: a
/// catalogue of about 500 tools, as a host with several large child servers has.
fn many_tools(dir: &Path) -> usize {
    const VERBS: [&str; 16] = [
        "fetch", "sync", "archive", "rotate", "validate", "render", "publish", "schedule", "index",
        "compress", "encrypt", "audit", "migrate", "snapshot", "label", "merge",
    ];
    const OBJECTS: [&str; 27] = [
        "invoice",
        "ticket",
        "certificate",
        "backup",
        "report",
        "calendar",
        "contact",
        "playlist",
        "thumbnail",
        "dataset",
        "bundle",
        "container",
        "secret",
        "cluster",
        "bucket",
        "queue",
        "metric",
        "alert",
        "dashboard",
        "flag",
        "subscription",
        "shipment",
        "coupon",
        "survey",
        "warehouse",
        "pipeline",
        "license",
    ];
    const SYSTEMS: [&str; 6] = ["billing", "support", "storage", "analytics", "crm", "ops"];
    std::fs::create_dir_all(dir).unwrap();
    let mut n = 0;
    for (v, verb) in VERBS.iter().enumerate() {
        for (o, object) in OBJECTS.iter().enumerate() {
            let system = SYSTEMS[(v + o) % SYSTEMS.len()];
            std::fs::write(
                dir.join(format!("{verb}_{object}.yaml")),
                format!(
                    "description: {verb} a {object} in the {system} system and return the {object}'s new state and id.\nkind: command\nannotations: {{read_only: true}}\nparameters:\n  {object}_id: {{type: string, required: true}}\nprogram: printf\nargs: [\"%s\", \"{{{object}_id}}\"]\n"
                ),
            )
            .unwrap();
            n += 1;
            if n == 424 {
                return n;
            }
        }
    }
    n
}

pub fn rows(rows: &mut Vec<Row>, base: &Path, quick: bool) {
    let floors = parse_floors(&read("floors.txt")).unwrap();
    let floor = |name: &str| floors.iter().find(|f| f.set == name);
    let sets: Vec<(&str, QuerySet)> = [
        ("dev", "dev.txt"),
        ("held_out", "held_out.txt"),
        ("blind", "blind.txt"),
    ]
    .into_iter()
    .map(|(name, file)| (name, parse(&read(file)).unwrap()))
    .collect();

    // Every built-in tool and the shipped declarative ones.
    let own = everything(base, "discovery", &json!({"mcpServers": {}}), "");
    let mut s = own.start();
    for (name, set) in &sets {
        let sc = scores(&mut s, set, &[]);
        quality_rows(rows, &format!("{name} set"), &sc, floor(name));
    }
    let own_count = ask(&mut s, "read a file").1;
    drop(s);

    // The same sets beside the official servers' tools, and the child-server set.
    let children = parse(&read("children.txt")).unwrap();
    match official_servers(base) {
        Some(servers) => {
            let t = everything(base, "discovery-children", &servers, "");
            let mut s = t.start();
            let deadline = Instant::now() + Duration::from_secs(60);
            // Ready when the search sees the children's 37 tools beside the own ones.
            while ask(&mut s, "read a file").1 < own_count + 37 {
                assert!(Instant::now() < deadline, "the official servers came up");
                std::thread::sleep(Duration::from_millis(100));
            }
            for (name, set) in &sets {
                let sc = scores(&mut s, set, &children.same);
                let key = format!("{name}+children");
                quality_rows(
                    rows,
                    &format!("{name} set, official servers as children"),
                    &sc,
                    floor(&key),
                );
            }
            let sc = scores(&mut s, &children, &children.same);
            quality_rows(rows, "child-server set", &sc, floor("children"));
        }
        None => rows.push(Row::info(
            "search_tools with the official servers as children",
            0.0,
            "",
            "skipped: the official servers are not installed (scripts/test.sh installs them)",
        )),
    }

    // Speed over a catalogue of about 500 tools.
    let dir = base.join("many-tools");
    let declared = many_tools(&dir);
    let t = everything(
        base,
        "discovery-500",
        &json!({"mcpServers": {}}),
        &format!("tools:\n  dirs: [{}]\n", dir.display()),
    );
    let mut s = t.start();
    let first = timed(|| ask(&mut s, "read a file"));
    let searched = ask(&mut s, "read a file").1;
    assert!(
        searched as usize >= declared,
        "the declared tools are searched ({searched})"
    );
    let queries: Vec<&str> = sets[0].1.queries.iter().map(|q| q.text.as_str()).collect();
    let rounds = if quick { 1 } else { 5 };
    let mut times: Vec<f64> = Vec::new();
    for _ in 0..rounds {
        for q in &queries {
            times.push(timed(|| ask(&mut s, q)));
        }
    }
    rows.push(Row::abs(
        &format!("search_tools p50 over {searched} tools (call round trip)"),
        median(&times),
        2.0,
        "ms",
        "≤ 2 ms",
    ));
    times.sort_by(f64::total_cmp);
    rows.push(Row::info(
        &format!("search_tools p99 over {searched} tools"),
        times[times.len() * 99 / 100],
        "ms",
        &format!("first search (builds the index) {first:.2} ms"),
    ));
}
