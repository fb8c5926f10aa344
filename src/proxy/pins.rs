//! Tool pinning: a hash of each child tool's name, description, input schema and annotations,
//! stored per profile (`proxy/pins.json` in the data dir). A tool in a server's first listing
//! of the session is pinned silently; one whose definition differs from its pin (a read-only
//! hint flipped included), and one that first appears after that first listing, are held back
//! until a person approves them (`switchboard proxy approve`, or `proxy_approve` confirmed
//! through the host). This stops a child from changing what a tool does after it was trusted
//! ("rug pull") or slipping a new tool in mid-session.
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

/// server name → tool name → pin; server name → its servers-file entry's pin.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PinFile {
    #[serde(default)]
    pub servers: BTreeMap<String, BTreeMap<String, Pin>>,
    /// What each entry runs (`ServerSpec::identity`), approved by a person.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entries: BTreeMap<String, Pin>,
}

/// What the pins say about one tool definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Matches its pin (or was just pinned).
    Trusted,
    /// Differs from its pin.
    Changed,
    /// Never approved and first seen after the server's first listing of the session.
    New,
}

/// What marks a hash of the current form (annotations included); a pin without it was made
/// before annotations were pinned.
const CURRENT: &str = "2:";

pub struct Pins {
    path: PathBuf,
    file: PinFile,
    stamp: Option<(u64, SystemTime)>,
}

/// The hash of a tool definition: name, description, input schema and annotations, as
/// canonical JSON.
pub fn tool_hash(tool: &rmcp::model::Tool) -> String {
    let v = serde_json::json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema.as_ref(),
        "annotations": tool.annotations,
    });
    format!("{CURRENT}{}", digest(&v))
}

/// The hash pins held before annotations were part of it, so they carry over on upgrade.
pub fn legacy_hash(tool: &rmcp::model::Tool) -> String {
    digest(&serde_json::json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema.as_ref(),
    }))
}

pub(crate) fn digest(v: &serde_json::Value) -> String {
    // serde_json's maps are sorted, so the text is canonical.
    super::names::short_hash(&v.to_string()) + &super::names::short_hash(&format!("{v}#"))
}

/// `name`'s pin in `pins` against the definition `hash`. One never seen is pinned when
/// `trust_new`, else held as new; a matching one is trusted (a pin of the `legacy` form of the
/// same definition carries over); a differing one is recorded as pending. Returns the verdict
/// and whether the file must be saved.
fn judge(
    pins: &mut BTreeMap<String, Pin>,
    name: &str,
    hash: &str,
    legacy: Option<&str>,
    trust_new: bool,
) -> (Verdict, bool) {
    let Some(pin) = pins.get_mut(name) else {
        let (pin, verdict) = if trust_new {
            (
                Pin {
                    hash: hash.to_owned(),
                    pending: None,
                },
                Verdict::Trusted,
            )
        } else {
            (
                Pin {
                    hash: String::new(),
                    pending: Some(hash.to_owned()),
                },
                Verdict::New,
            )
        };
        pins.insert(name.to_owned(), pin);
        return (verdict, true);
    };
    if pin.hash == hash {
        return (Verdict::Trusted, pin.pending.take().is_some());
    }
    if legacy.is_some_and(|l| !pin.hash.starts_with(CURRENT) && pin.hash == l) {
        pin.hash = hash.to_owned();
        pin.pending = None;
        return (Verdict::Trusted, true);
    }
    let dirty = pin.pending.as_deref() != Some(hash);
    pin.pending = Some(hash.to_owned());
    let verdict = if pin.hash.is_empty() {
        Verdict::New
    } else {
        Verdict::Changed
    };
    (verdict, dirty)
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

    /// Checks one definition (`hash`, and `legacy` as pins made before annotations were
    /// hashed would have it). On the server's first listing of the session an unknown tool is
    /// pinned; after it, one is held as new. A differing definition is recorded as pending.
    /// Returns the verdict and whether the file must be saved.
    pub fn check(
        &mut self,
        server: &str,
        tool: &str,
        (hash, legacy): (&str, &str),
        first_listing: bool,
    ) -> (Verdict, bool) {
        let tools = self.file.servers.entry(server.to_owned()).or_default();
        judge(tools, tool, hash, Some(legacy), first_listing)
    }

    /// Checks a servers-file entry's identity. An entry never approved, or one that runs
    /// something else than what was approved, is recorded as pending. An entry of a server
    /// whose tools were pinned before entries were is trusted as it is (it was in use).
    pub fn check_entry(&mut self, server: &str, identity: &str) -> (Verdict, bool) {
        let used_before = self
            .file
            .servers
            .get(server)
            .is_some_and(|tools| tools.values().any(|p| !p.hash.is_empty()));
        judge(&mut self.file.entries, server, identity, None, used_before)
    }

    /// Approves `server`'s entry as `identity` (what the servers file says now). True when
    /// that changed anything.
    pub fn approve_entry(&mut self, server: &str, identity: &str) -> bool {
        let pin = self.file.entries.entry(server.to_owned()).or_default();
        let changed = pin.hash != identity || pin.pending.is_some();
        pin.hash = identity.to_owned();
        pin.pending = None;
        changed
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
        let h = |x: &'static str| (x, "legacy");
        assert_eq!(
            pins.check("s", "t", h("2:h1"), true),
            (Verdict::Trusted, true)
        );
        pins.save().unwrap();
        assert_eq!(
            pins.check("s", "t", h("2:h1"), false),
            (Verdict::Trusted, false)
        );
        assert_eq!(
            pins.check("s", "t", h("2:h2"), false),
            (Verdict::Changed, true)
        );
        pins.save().unwrap();
        // Another process approves through the file.
        let mut other = Pins::load(path.clone());
        assert_eq!(other.approve("s", Some("t")), ["t"]);
        other.save().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        pins.refresh();
        assert_eq!(
            pins.check("s", "t", h("2:h2"), false),
            (Verdict::Trusted, false)
        );
        assert_eq!(
            pins.check("s", "t", h("2:h1"), false),
            (Verdict::Changed, true)
        );
    }

    #[test]
    fn late_tools_wait_and_old_pins_carry_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut pins = Pins::load(Pins::path_in(dir.path()));
        assert_eq!(
            pins.check("s", "late", ("2:a", "x"), false),
            (Verdict::New, true)
        );
        assert_eq!(
            pins.check("s", "late", ("2:a", "x"), true),
            (Verdict::New, false)
        );
        assert_eq!(pins.approve("s", Some("late")), ["late"]);
        assert_eq!(
            pins.check("s", "late", ("2:a", "x"), false),
            (Verdict::Trusted, false)
        );
        // A pin made before annotations were hashed: the same definition carries over, a
        // different one does not.
        pins.file.servers.get_mut("s").unwrap().insert(
            "old".into(),
            Pin {
                hash: "legacy1".into(),
                pending: None,
            },
        );
        assert_eq!(
            pins.check("s", "old", ("2:b", "legacy2"), false),
            (Verdict::Changed, true)
        );
        assert_eq!(
            pins.check("s", "old", ("2:b", "legacy1"), false),
            (Verdict::Trusted, true)
        );
        assert_eq!(
            pins.file.servers["s"]["old"],
            Pin {
                hash: "2:b".into(),
                pending: None
            }
        );
    }

    #[test]
    fn entries_wait_for_approval_except_those_in_use_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut pins = Pins::load(Pins::path_in(dir.path()));
        assert_eq!(pins.check_entry("new", "id1"), (Verdict::New, true));
        assert_eq!(pins.check_entry("new", "id1"), (Verdict::New, false));
        assert!(pins.approve_entry("new", "id1"));
        assert_eq!(pins.check_entry("new", "id1"), (Verdict::Trusted, false));
        assert_eq!(pins.check_entry("new", "id2"), (Verdict::Changed, true));
        // A server whose tools were pinned before entries were: trusted as it stands.
        pins.check("old", "t", ("2:h", "l"), true);
        assert_eq!(pins.check_entry("old", "id"), (Verdict::Trusted, true));
        assert_eq!(pins.check_entry("old", "other"), (Verdict::Changed, true));
    }
}
