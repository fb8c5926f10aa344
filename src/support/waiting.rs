//! Work that waits between two rounds of a question. On protocol 2026-07-28 a server asks the
//! user by answering `input_required` with a handle; the host asks, then calls again with the
//! answer and the handle. What the first round left waiting (a send's digest, a suspended
//! workflow) is kept here under that handle: one-time, for a limited time, and a limited number
//! at once (the oldest is forgotten first, and dropping it is how its owner learns that no
//! answer will come).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Waiting<T> {
    entries: Mutex<HashMap<String, (T, Instant)>>,
    max: usize,
}

impl<T> Waiting<T> {
    pub fn new(max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    /// Keeps `value` and returns its new handle; entries older than `ttl` are dropped first.
    pub fn put(&self, value: T, ttl: Duration) -> String {
        let handle = crate::support::unique_hex();
        let dropped = {
            let mut e = crate::support::lock(&self.entries);
            let mut dropped: Vec<T> = Vec::new();
            let expired: Vec<String> = e
                .iter()
                .filter(|(_, (_, at))| at.elapsed() >= ttl)
                .map(|(k, _)| k.clone())
                .collect();
            dropped.extend(expired.iter().filter_map(|k| e.remove(k)).map(|(v, _)| v));
            if e.len() >= self.max
                && let Some(oldest) = e
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
                && let Some((v, _)) = e.remove(&oldest)
            {
                dropped.push(v);
            }
            e.insert(handle.clone(), (value, Instant::now()));
            dropped
        };
        // Dropped outside the lock: a value's drop may do work of its own.
        drop(dropped);
        handle
    }

    /// The value kept under `handle`, once, if it is younger than `ttl`.
    pub fn take(&self, handle: &str, ttl: Duration) -> Option<T> {
        let (v, at) = crate::support::lock(&self.entries).remove(handle)?;
        (at.elapsed() < ttl).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_works_once_within_its_time_and_the_oldest_goes_first() {
        let w = Waiting::new(2);
        let ttl = Duration::from_secs(60);
        let a = w.put(1, ttl);
        assert_eq!(w.take(&a, ttl), Some(1));
        assert_eq!(w.take(&a, ttl), None);
        let (b, c) = (w.put(2, ttl), w.put(3, ttl));
        let d = w.put(4, ttl);
        assert_eq!(w.take(&b, ttl), None, "the oldest was forgotten");
        assert_eq!(w.take(&c, ttl), Some(3));
        assert_eq!(w.take(&d, Duration::ZERO), None, "expired");
    }
}
