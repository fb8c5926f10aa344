//! A small least-recently-used cache whose entries also expire: what fetched pages and
//! robots.txt rules are kept in, so paging through a page does not fetch it again. Bounded by
//! entry count and by total weight (bytes), so memory stays capped whatever is fetched.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::lock;

struct Entry<K, V> {
    key: K,
    value: V,
    weight: usize,
    stored: Instant,
}

/// Entries are kept most recently used last; the caches are small (tens of entries), so a
/// linear scan is cheaper than keeping a map and a list in step.
pub struct TtlCache<K, V> {
    entries: Mutex<Vec<Entry<K, V>>>,
    max_entries: usize,
    max_weight: usize,
    ttl: Duration,
}

impl<K: PartialEq, V: Clone> TtlCache<K, V> {
    pub fn new(max_entries: usize, max_weight: usize, ttl: Duration) -> Self {
        Self {
            entries: Mutex::new(Vec::new()),
            max_entries,
            max_weight,
            ttl,
        }
    }

    /// The value stored under `key` if it has not expired; marks it recently used.
    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = lock(&self.entries);
        let i = entries.iter().position(|e| &e.key == key)?;
        if entries[i].stored.elapsed() > self.ttl {
            entries.remove(i);
            return None;
        }
        let e = entries.remove(i);
        let v = e.value.clone();
        entries.push(e);
        Some(v)
    }

    /// Stores a value, evicting the least recently used entries beyond the bounds. A value
    /// heavier than the whole cache is not stored.
    pub fn put(&self, key: K, value: V, weight: usize) {
        if self.max_entries == 0 || weight > self.max_weight {
            return;
        }
        let mut entries = lock(&self.entries);
        entries.retain(|e| e.key != key && e.stored.elapsed() <= self.ttl);
        entries.push(Entry {
            key,
            value,
            weight,
            stored: Instant::now(),
        });
        let mut total: usize = entries.iter().map(|e| e.weight).sum();
        while entries.len() > self.max_entries || total > self.max_weight {
            total -= entries.remove(0).weight;
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_by_count_and_weight() {
        let c = TtlCache::new(2, 10, Duration::from_secs(60));
        c.put("a", 1, 4);
        c.put("b", 2, 4);
        assert_eq!(c.get(&"a"), Some(1)); // a is now the most recent
        c.put("c", 3, 4); // over two entries: b goes
        assert_eq!(
            (c.get(&"a"), c.get(&"b"), c.get(&"c")),
            (Some(1), None, Some(3))
        );
        c.put("d", 4, 8); // over the weight: both others go
        assert_eq!(
            (c.get(&"a"), c.get(&"c"), c.get(&"d")),
            (None, None, Some(4))
        );
        c.put("huge", 5, 11); // heavier than the cache: not stored
        assert_eq!(c.get(&"huge"), None);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn entries_expire() {
        let c = TtlCache::new(4, 100, Duration::from_millis(20));
        c.put(1, "x", 1);
        assert_eq!(c.get(&1), Some("x"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&1), None);
        assert!(c.is_empty());
    }
}
