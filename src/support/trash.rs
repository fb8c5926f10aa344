//! Moving an entry to the trash (the freedesktop.org layout desktop file managers read) by a
//! rename relative to its folder's descriptor, so `delete_path` can never trash something other
//! than the entry that was checked, even if a folder on its path is swapped meanwhile. The home
//! trash serves its own file system; another file system gets `$topdir/.Trash-$uid`, as the
//! specification says.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::policy::Dir;

/// Moves `name` in `dir` to the trash; `original` is its path, recorded for restoring.
pub fn trash(dir: &Dir, name: &OsStr, original: &Path) -> io::Result<()> {
    let home = home_trash()?;
    match trash_into(&home, dir, name, original) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let top = top_trash(dir)?;
            trash_into(&top, dir, name, original)
        }
        other => other,
    }
}

fn home_trash() -> io::Result<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no HOME to find the trash in"))?;
    Ok(data.join("Trash"))
}

/// `$topdir/.Trash-$uid` of the file system `dir` is on: the highest folder above it on the
/// same device.
fn top_trash(dir: &Dir) -> io::Result<PathBuf> {
    let real = dir.real_path()?;
    let dev = std::fs::metadata(&real)?.dev();
    let mut top = real.as_path();
    while let Some(up) = top.parent() {
        if std::fs::metadata(up)?.dev() != dev {
            break;
        }
        top = up;
    }
    let uid = unsafe { libc::getuid() };
    Ok(top.join(format!(".Trash-{uid}")))
}

fn trash_into(trash: &Path, dir: &Dir, name: &OsStr, original: &Path) -> io::Result<()> {
    for sub in ["files", "info"] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(trash.join(sub))?;
    }
    let files = Dir::open(&trash.join("files"))?;
    let info = Dir::open(&trash.join("info"))?;
    let record = format!(
        "[Trash Info]\nPath={}\nDeletionDate={}\n",
        encode(original),
        jiff::Zoned::now().strftime("%Y-%m-%dT%H:%M:%S")
    );
    for n in 1..10_000u32 {
        let mut stored = name.to_owned();
        if n > 1 {
            stored.push(format!(".{n}"));
        }
        let mut info_name = stored.clone();
        info_name.push(".trashinfo");
        if files.stat(&stored)?.is_some() {
            continue;
        }
        let mut f = match info.open_file(
            &info_name,
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
            0o600,
        ) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        let moved = f
            .write_all(record.as_bytes())
            .and_then(|()| dir.rename(name, &files, &stored, false));
        return match moved {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = info.unlink(&info_name, false);
                continue;
            }
            Err(e) => {
                let _ = info.unlink(&info_name, false);
                Err(e)
            }
        };
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free name in the trash",
    ))
}

/// The path as a URI path: bytes outside the unreserved set and `/` percent-encoded.
fn encode(p: &Path) -> String {
    let mut out = String::new();
    for &b in p.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_goes_to_the_trash_with_a_record_and_a_free_name() {
        let tmp = tempfile::tempdir().unwrap();
        let trash_dir = tmp.path().join("Trash");
        let work = tmp.path().join("work dir");
        std::fs::create_dir(&work).unwrap();
        let dir = Dir::open(&work).unwrap();
        for round in 0..2 {
            std::fs::write(work.join("a.txt"), format!("{round}")).unwrap();
            trash_into(&trash_dir, &dir, OsStr::new("a.txt"), &work.join("a.txt")).unwrap();
        }
        assert!(!work.join("a.txt").exists());
        assert_eq!(
            std::fs::read_to_string(trash_dir.join("files/a.txt")).unwrap(),
            "0"
        );
        assert_eq!(
            std::fs::read_to_string(trash_dir.join("files/a.txt.2")).unwrap(),
            "1"
        );
        let info = std::fs::read_to_string(trash_dir.join("info/a.txt.2.trashinfo")).unwrap();
        assert!(info.contains("work%20dir/a.txt"), "{info}");
        assert!(info.contains("DeletionDate="), "{info}");
    }
}
