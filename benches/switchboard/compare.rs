//! `BENCH_ONLY=compare BENCH_BASELINE=PATH`: the call-path and start-up rows for this build and a
//! baseline binary, measured in alternating rounds in one run so that both see the same machine
//! state. Each figure is the median over rounds of each round's median; the ratio is this build's
//! over the baseline's (below 1 is faster for times, above 1 is better for throughput).

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Row, Target, latencies, median, pipelined, print_table};

/// A row: its name, its unit, and how to read it from a round.
type Figure = (&'static str, &'static str, fn(&Round) -> f64);

/// One round's figures for one binary.
struct Round {
    init: f64,
    first_list: f64,
    p50: f64,
    p99: f64,
    pipelined: f64,
    /// CPU time of the server's threads per call during the pipelined run.
    cpu_per_call: f64,
}

fn round(t: &Target, quick: bool) -> Round {
    let spawns = if quick { 5 } else { 15 };
    let (inits, firsts): (Vec<f64>, Vec<f64>) = (0..spawns).map(|_| t.to_first_list()).unzip();
    let mut s = t.start();
    let (p50, p99) = latencies(
        &mut s,
        if quick { 300 } else { 2000 },
        "list_roots",
        json!({}),
    );
    let total = if quick { 2000 } else { 10000 };
    let before = s.cpu_ns();
    let tp = pipelined(&mut s, total, "list_roots", json!({}));
    let cpu_per_call = (s.cpu_ns() - before) as f64 / total as f64 / 1000.0;
    Round {
        init: median(&inits),
        first_list: median(&firsts),
        p50: p50 * 1000.0,
        p99: p99 * 1000.0,
        pipelined: tp,
        cpu_per_call,
    }
}

pub fn rows(base: &Path, current: PathBuf, quick: bool) {
    let Some(baseline) = std::env::var_os("BENCH_BASELINE").map(PathBuf::from) else {
        eprintln!("BENCH_ONLY=compare needs BENCH_BASELINE=PATH (the binary to compare with)");
        std::process::exit(2);
    };
    let config = super::plain_config(base);
    let target = |program: PathBuf| Target::full(program, &config);
    let (cur, old) = (target(current), target(baseline));
    let rounds = if quick { 3 } else { 9 };
    let mut a: Vec<Round> = Vec::new();
    let mut b: Vec<Round> = Vec::new();
    for i in 0..rounds {
        // Alternate which goes first, so neither always runs on a warmer machine.
        if i % 2 == 0 {
            a.push(round(&cur, quick));
            b.push(round(&old, quick));
        } else {
            b.push(round(&old, quick));
            a.push(round(&cur, quick));
        }
        eprintln!("round {} of {rounds} done", i + 1);
    }
    let med = |v: &[Round], f: fn(&Round) -> f64| median(&v.iter().map(f).collect::<Vec<_>>());
    let mut rows = Vec::new();
    let figures: [Figure; 6] = [
        ("spawn → initialize", "ms", |r| r.init),
        ("spawn → first tools/list", "ms", |r| r.first_list),
        ("p50 cheap tool call", "µs", |r| r.p50),
        ("p99 cheap tool call", "µs", |r| r.p99),
        ("pipelined calls/s, 64 in flight", "calls/s", |r| {
            r.pipelined
        }),
        ("server CPU per pipelined call", "µs", |r| r.cpu_per_call),
    ];
    for (name, unit, f) in figures {
        rows.push(Row::ratio(
            &format!("{name} (vs baseline)"),
            med(&a, f),
            med(&b, f),
            unit,
            f64::INFINITY,
            &format!("{rounds} alternating rounds"),
        ));
    }
    print_table(&rows);
}
