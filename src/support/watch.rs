//! One file-system watcher shared by every subscription of a session: files (watched through
//! their folder, so a file replaced by a rename is still seen) and folders (recursively). Each
//! change is reported as the subscribed keys it concerns.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use notify::{RecursiveMode, Watcher};

type Targets = Arc<Mutex<HashMap<String, (PathBuf, bool)>>>;

pub struct PathWatch {
    watcher: notify::RecommendedWatcher,
    /// Key (a URI) → the path and whether it is a folder.
    targets: Targets,
    /// Watched path → how many targets need it.
    watched: HashMap<PathBuf, usize>,
}

impl PathWatch {
    /// `changed` receives the keys whose file or folder changed.
    pub fn new(changed: tokio::sync::mpsc::UnboundedSender<String>) -> notify::Result<Self> {
        let targets: Targets = Arc::default();
        let seen = targets.clone();
        let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            let Ok(ev) = ev else { return };
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            let targets = super::lock(&seen);
            for (key, (path, is_dir)) in targets.iter() {
                let hit = ev.paths.iter().any(|p| {
                    if *is_dir {
                        p.starts_with(path)
                    } else {
                        p == path
                    }
                });
                if hit {
                    let _ = changed.send(key.clone());
                }
            }
        })?;
        Ok(Self {
            watcher,
            targets,
            watched: HashMap::new(),
        })
    }

    fn watched_path(path: &Path, is_dir: bool) -> PathBuf {
        if is_dir {
            path.to_path_buf()
        } else {
            path.parent().unwrap_or(path).to_path_buf()
        }
    }

    pub fn add(&mut self, key: &str, path: PathBuf, is_dir: bool) -> notify::Result<()> {
        let w = Self::watched_path(&path, is_dir);
        match self.watched.get_mut(&w) {
            Some(n) => *n += 1,
            None => {
                let mode = if is_dir {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                self.watcher.watch(&w, mode)?;
                self.watched.insert(w, 1);
            }
        }
        super::lock(&self.targets).insert(key.to_owned(), (path, is_dir));
        Ok(())
    }

    pub fn remove(&mut self, key: &str) {
        let Some((path, is_dir)) = super::lock(&self.targets).remove(key) else {
            return;
        };
        let w = Self::watched_path(&path, is_dir);
        if let Some(n) = self.watched.get_mut(&w) {
            *n -= 1;
            if *n == 0 {
                self.watched.remove(&w);
                let _ = self.watcher.unwatch(&w);
            }
        }
    }
}
