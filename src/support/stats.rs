//! Per-tool call counts, errors and latency percentiles since start-up, for the
//! `switchboard://stats` resource. Recording is one short lock; the latencies kept per tool
//! are the most recent ones (a ring), so memory stays bounded however long the server runs.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Latencies kept per tool for the percentiles.
const KEPT: usize = 1024;

pub struct Stats {
    started: Instant,
    tools: Mutex<BTreeMap<String, ToolStats>>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            tools: Mutex::default(),
        }
    }
}

#[derive(Default)]
struct ToolStats {
    calls: u64,
    errors: u64,
    /// Microseconds, a ring of the last [`KEPT`].
    recent: Vec<u64>,
    next: usize,
}

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub uptime_secs: u64,
    pub calls: u64,
    pub errors: u64,
    pub tools: BTreeMap<String, ToolSnapshot>,
}

#[derive(Debug, Serialize)]
pub struct ToolSnapshot {
    pub calls: u64,
    pub errors: u64,
    /// Percentiles over the most recent calls (at most 1024), in milliseconds.
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn record(&self, tool: &str, elapsed: Duration, failed: bool) {
        let us = elapsed.as_micros().min(u64::MAX as u128) as u64;
        let mut tools = super::lock(&self.tools);
        let t = match tools.get_mut(tool) {
            Some(t) => t,
            None => tools.entry(tool.to_owned()).or_default(),
        };
        t.calls += 1;
        t.errors += u64::from(failed);
        if t.recent.len() < KEPT {
            t.recent.push(us);
        } else {
            t.recent[t.next] = us;
            t.next = (t.next + 1) % KEPT;
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let tools = super::lock(&self.tools);
        let per: BTreeMap<String, ToolSnapshot> = tools
            .iter()
            .map(|(name, t)| {
                let mut v = t.recent.clone();
                v.sort_unstable();
                let at = |q: f64| {
                    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
                    v.get(i).copied().unwrap_or(0) as f64 / 1000.0
                };
                let snap = ToolSnapshot {
                    calls: t.calls,
                    errors: t.errors,
                    p50_ms: at(0.5),
                    p90_ms: at(0.9),
                    p99_ms: at(0.99),
                    max_ms: v.last().copied().unwrap_or(0) as f64 / 1000.0,
                };
                (name.clone(), snap)
            })
            .collect();
        Snapshot {
            uptime_secs: self.started.elapsed().as_secs(),
            calls: per.values().map(|t| t.calls).sum(),
            errors: per.values().map(|t| t.errors).sum(),
            tools: per,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_percentiles() {
        let s = Stats::default();
        for ms in 1..=100 {
            s.record("read_file", Duration::from_millis(ms), ms % 10 == 0);
        }
        for _ in 0..(KEPT + 5) {
            s.record("which", Duration::from_micros(10), false);
        }
        let snap = s.snapshot();
        let r = &snap.tools["read_file"];
        assert_eq!((r.calls, r.errors), (100, 10));
        assert_eq!((r.p50_ms, r.p90_ms, r.max_ms), (51.0, 90.0, 100.0));
        assert_eq!(snap.tools["which"].calls, KEPT as u64 + 5);
        assert_eq!(snap.calls, 100 + KEPT as u64 + 5);
    }
}
