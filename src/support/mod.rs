//! Small helpers shared by tools and loaders. Nothing here knows about MCP, so every helper can
//! be unit-tested on plain values.

pub mod cache;
pub mod frontmatter;
pub mod fusion;
pub mod html;
pub mod mime;
pub mod process;
pub mod queryset;
pub mod regex;
pub mod schema;
pub mod secrets;
pub mod stats;
pub mod stream;
pub mod text;
pub mod time;
pub mod tokens;
pub mod trash;
pub mod uri;
pub mod waiting;
pub mod watch;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

/// Compares `actual` with the committed file at `path` (relative to the crate), or rewrites
/// the file when `UPDATE_GOLDEN` is set (then true: the caller's further checks are moot).
/// `how` says how to regenerate it.
#[cfg(test)]
pub(crate) fn golden(path: &str, committed: &str, actual: &str, how: &str) -> bool {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::write(path, actual).unwrap();
        return true;
    }
    assert!(
        actual == committed,
        "{path} is not what it should be: {how}, then commit the file"
    );
    false
}

/// A file's size and modification time, `None` when it is missing: what the pollers compare
/// to notice a change (resource subscriptions, the servers file, the tool pins).
pub fn file_stamp(p: &Path) -> Option<(u64, SystemTime)> {
    let md = std::fs::metadata(p).ok()?;
    Some((md.len(), md.modified().ok()?))
}

/// Locks a mutex, also after a panic elsewhere poisoned it: the data behind our mutexes stays
/// consistent between statements, so carrying on is safe and keeps the server answering.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 128 bits as 32 hex digits, different on every call: for Message-IDs and one-time handles.
/// Not for keys: it comes from the standard library's per-process hash seeds and the clock.
pub fn unique_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let part = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", part(), part())
}

/// A store opened on first use and shared after, or why it could not be opened.
pub type LazyStore<S> = std::sync::OnceLock<Result<std::sync::Arc<std::sync::Mutex<S>>, String>>;
