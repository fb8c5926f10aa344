//! Tool pinning: a hash of each child tool's name, description and input schema, stored per
//! profile (`proxy/pins.json` in the data dir). A tool seen for the first time is pinned
//! silently; one whose definition differs from its pin is held back until a person approves
//! the new definition (`switchboard proxy approve`, or `proxy_approve` confirmed through the
//! host). This stops a child from changing what a tool does after it was trusted ("rug pull").
//!
//! The file is small JSON written atomically; several switchboard processes of one profile
//! share it, each re-reading it when it changes on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pin {
    /// The approved definition's hash.
    pub hash: String,
    /// A differing definition seen since, waiting for approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// server name → tool name → pin.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PinFile {
    #[serde(default)]
    pub servers: BTreeMap<String, BTreeMap<String, Pin>>,
}

/// What the pins say about one tool definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Matches its pin (or was just pinned).
    Trusted,
    /// Differs from its pin.
    Changed,
}

pub struct Pins {
    path: PathBuf,
    file: PinFile,
    stamp: Option<(u64, SystemTime)>,
}

/// The hash of a tool definition: name, description and input schema, as canonical JSON.
pub fn tool_hash(tool: &rmcp::model::Tool) -> String {
    let v = serde_json::json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema.as_ref(),
    });
    // serde_json's maps are sorted, so the text is canonical.
    super::names::short_hash(&v.to_string()) + &super::names::short_hash(&format!("{v}#"))
}

impl Pins {
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("proxy").join("pins.json")
    }

    pub fn load(path: PathBuf) -> Self {
        let stamp = crate::support::file_stamp(&path);
        let file = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self { path, file, stamp }
    }

    /// Re-reads the file when it changed on disk; true when it did.
    pub fn refresh(&mut self) -> bool {
        let now = crate::support::file_stamp(&self.path);
        if now == self.stamp {
            return false;
        }
        *self = Self::load(self.path.clone());
        true
    }

    pub fn file(&self) -> &PinFile {
        &self.file
    }

    /// Checks one definition, pinning it on first sight and recording a differing one as
    /// pending. Returns the verdict and whether the file must be saved.
    pub fn check(&mut self, server: &str, tool: &str, hash: &str) -> (Verdict, bool) {
        let tools = self.file.servers.entry(server.to_owned()).or_default();
        match tools.get_mut(tool) {
            None => {
                tools.insert(
                    tool.to_owned(),
                    Pin {
                        hash: hash.to_owned(),
                        pending: None,
                    },
                );
                (Verdict::Trusted, true)
            }
            Some(pin) if pin.hash == hash => {
                let dirty = pin.pending.take().is_some();
                (Verdict::Trusted, dirty)
            }
            Some(pin) => {
                let dirty = pin.pending.as_deref() != Some(hash);
                pin.pending = Some(hash.to_owned());
                (Verdict::Changed, dirty)
            }
        }
    }

    /// Approves the pending definitions of `server` (all its tools, or one). Returns the tools
    /// approved.
    pub fn approve(&mut self, server: &str, tool: Option<&str>) -> Vec<String> {
        let mut done = Vec::new();
        if let Some(tools) = self.file.servers.get_mut(server) {
            for (name, pin) in tools.iter_mut() {
                if tool.is_some_and(|t| t != name) {
                    continue;
                }
                if let Some(p) = pin.pending.take() {
                    pin.hash = p;
                    done.push(name.clone());
                }
            }
        }
        done
    }

    /// Writes the file atomically.
    pub fn save(&mut self) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(tmp.as_file(), &self.file)?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.stamp = crate::support::file_stamp(&self.path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sight_pins_and_changes_wait_for_approval() {
        let dir = tempfile::tempdir().unwrap();
        let path = Pins::path_in(dir.path());
        let mut pins = Pins::load(path.clone());
        assert_eq!(pins.check("s", "t", "h1"), (Verdict::Trusted, true));
        pins.save().unwrap();
        assert_eq!(pins.check("s", "t", "h1"), (Verdict::Trusted, false));
        assert_eq!(pins.check("s", "t", "h2"), (Verdict::Changed, true));
        pins.save().unwrap();
        // Another process approves through the file.
        let mut other = Pins::load(path.clone());
        assert_eq!(other.approve("s", Some("t")), ["t"]);
        other.save().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        pins.refresh();
        assert_eq!(pins.check("s", "t", "h2"), (Verdict::Trusted, false));
        assert_eq!(pins.check("s", "t", "h1"), (Verdict::Changed, true));
    }
}
