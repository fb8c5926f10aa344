//! `BENCH_ONLY=startup`: the start-up and idle-memory rows alone (half a minute instead of the
//! whole run), switchboard and the floor server spawned in alternation so both see the same
//! machine: spawn → initialize, spawn → first tools/list, the CPU a whole short session costs
//! (spawn, initialize, list, exit), and the idle RSS with its anonymous part.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::{Row, Session, Target, median, print_table};

/// Resident and anonymous memory of a session's process, in MiB.
fn memory(s: &Session) -> (f64, f64) {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", s.child.id())).unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("RssAnon:"))
}

/// The CPU (user + system, every thread) that waited-for children have used so far, in ms.
fn children_cpu() -> f64 {
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Spawn, initialize, first tools/list, close stdin and wait for the exit: the CPU the whole
/// session cost the server, in ms.
fn session_cpu(t: &Target) -> f64 {
    let before = children_cpu();
    let mut s = t.start();
    s.call_raw("tools/list", json!({}));
    // End of input ends the session: swap our end of its stdin for /dev/null and wait.
    let null = std::fs::File::open("/dev/null").unwrap();
    drop(std::mem::replace(
        &mut s.stdin,
        std::process::ChildStdin::from(std::os::fd::OwnedFd::from(null)),
    ));
    s.child.wait().unwrap();
    children_cpu() - before
}

/// The start-up rows, with switchboard's median spawn → initialize (other rows' targets are
/// relative to it).
pub struct Startup {
    pub rows: Vec<Row>,
    pub init: f64,
}

/// `BENCH_ONLY=startup`: the start-up rows alone.
pub fn rows(base: &Path, quick: bool) {
    print_table(&measure(base, quick).rows);
}

pub fn measure(base: &Path, quick: bool) -> Startup {
    let config = super::plain_config(base);
    let sb = Target::full(super::switchboard_binary(), &config);
    let fl = Target::floor();
    let runs = if quick { 7 } else { 31 };
    let (mut init, mut first, mut init_fl, mut first_fl) = (vec![], vec![], vec![], vec![]);
    let (mut cpu, mut cpu_fl) = (vec![], vec![]);
    for _ in 0..runs {
        let (i, f) = sb.to_first_list();
        init.push(i);
        first.push(f);
        let (i, f) = fl.to_first_list();
        init_fl.push(i);
        first_fl.push(f);
        cpu.push(session_cpu(&sb));
        cpu_fl.push(session_cpu(&fl));
    }
    let (init, init_fl) = (median(&init), median(&init_fl));
    let mut rows = vec![
        Row::ratio(
            "spawn → initialize",
            init,
            init_fl,
            "ms",
            1.5,
            "≤ 1.5x floor",
        ),
        Row::abs(
            "spawn → initialize → first tools/list",
            median(&first),
            init + 1.0,
            "ms",
            &format!("≤ initialize + 1 ms (floor {:.2} ms)", median(&first_fl)),
        ),
        Row::ratio(
            "CPU of a whole session (spawn, initialize, list, exit)",
            median(&cpu),
            median(&cpu_fl),
            "ms",
            f64::INFINITY,
            "(reported)",
        ),
    ];
    let s = sb.start();
    let f = fl.start();
    std::thread::sleep(Duration::from_millis(300));
    let ((rss, anon), (rss_fl, anon_fl)) = (memory(&s), memory(&f));
    rows.push(Row::abs(
        "idle RSS",
        rss,
        10.0,
        "MiB",
        &format!("≤ 10 MiB (floor {rss_fl:.1} MiB)"),
    ));
    rows.push(Row::info(
        "idle RSS, anonymous part",
        anon,
        "MiB",
        &format!("floor {anon_fl:.1} MiB"),
    ));
    Startup { rows, init }
}
