//! The interpreters found on switchboard's PATH (what `run_code` offers), and the profile's
//! managed Python venv and npm prefix (what `install_package` fills).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::process::find_on_path;

/// Languages switchboard knows: name, programs to look for (first found wins), arguments
/// before the file, file extension.
const KNOWN: &[(&str, &[&str], &[&str], &str)] = &[
    ("python", &["python3", "python"], &[], "py"),
    ("node", &["node"], &[], "js"),
    ("deno", &["deno"], &["run", "--quiet", "--allow-all"], "ts"),
    ("bash", &["bash"], &[], "sh"),
    ("sh", &["sh"], &[], "sh"),
    ("ruby", &["ruby"], &[], "rb"),
    ("perl", &["perl"], &[], "pl"),
    ("php", &["php"], &[], "php"),
    ("lua", &["lua", "lua5.4", "lua5.3"], &[], "lua"),
    ("r", &["Rscript"], &[], "R"),
];

#[derive(Debug, Clone)]
pub struct Interpreter {
    pub language: &'static str,
    pub program: PathBuf,
    pub args: &'static [&'static str],
    pub ext: &'static str,
}

/// The interpreters on switchboard's PATH, found once per process.
pub fn interpreters() -> &'static [Interpreter] {
    static FOUND: OnceLock<Vec<Interpreter>> = OnceLock::new();
    FOUND.get_or_init(|| detect(&std::env::var_os("PATH").unwrap_or_default()))
}

pub fn detect(path_var: &std::ffi::OsStr) -> Vec<Interpreter> {
    KNOWN
        .iter()
        .filter_map(|(language, programs, args, ext)| {
            let program = programs.iter().find_map(|p| find_on_path(p, path_var))?;
            Some(Interpreter {
                language,
                program,
                args,
                ext,
            })
        })
        .collect()
}

/// The managed Python venv and npm prefix of a profile (created by `install_package`).
pub fn venv_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("venv")
}

pub fn npm_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("npm")
}

#[cfg(test)]
mod tests {
    #[test]
    fn detects_only_what_is_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("ruby");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = super::detect(dir.path().as_os_str());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].language, "ruby");
        assert_eq!(found[0].program, fake);
    }
}
