//! Small helpers shared by tools and loaders. Nothing here knows about MCP, so every helper can
//! be unit-tested on plain values.

pub mod cache;
pub mod frontmatter;
pub mod html;
pub mod mime;
pub mod process;
pub mod stream;
pub mod text;
pub mod time;
pub mod uri;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

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
