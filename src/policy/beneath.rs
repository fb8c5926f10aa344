//! Folders inside a root, opened without following any symlink, and the file operations done
//! relative to them. The path checks decide whether a write may happen; this module makes sure
//! it happens where they decided: every step of a write, copy, move or delete names an entry of
//! a folder descriptor (`openat`, `renameat2`, `unlinkat`), so a folder swapped for a symlink
//! while a call runs can neither redirect the write nor leave debris outside the roots.
//!
//! Linux opens the folder chain with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the
//! kernel has it (5.6 and later) and walks it one component at a time with
//! `O_NOFOLLOW | O_DIRECTORY` elsewhere; both refuse a symlink anywhere below the root.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// An open folder. Operations take a single entry name (never a path with `/`).
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
}

/// What is at an entry, not following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// An entry's kind and link count.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub kind: Kind,
    pub links: u64,
    pub mode: u32,
}

impl AsRawFd for Dir {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.contains(&b'/') || bytes == b"." || bytes == b".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` is not a single entry name", name.to_string_lossy()),
        ));
    }
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a name"))
}

/// A path as a C string (no NUL inside).
fn path_cstr(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// False once the kernel said it has no `openat2` (or a filter refused it): the walk is used.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

impl Dir {
    /// Opens a root folder (the roots are canonical and trusted, so their own path is followed).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = path_cstr(path)?;
        let fd = check(unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        })?;
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    fn raw(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// The folder `rel` below this one (`rel` relative, made of plain names). A symlink on the
    /// way is refused with `ELOOP`.
    pub fn open_beneath(&self, rel: &Path) -> io::Result<Dir> {
        let names = names_of(rel)?;
        if names.is_empty() {
            return self.try_clone();
        }
        #[cfg(target_os = "linux")]
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            match self.openat2(rel) {
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        self.walk(&names)
    }

    /// The folder chain opened one name at a time, each without following a symlink.
    fn walk(&self, names: &[OsString]) -> io::Result<Dir> {
        let mut dir = self.try_clone()?;
        for name in names {
            dir = dir.child(name)?;
        }
        Ok(dir)
    }

    #[cfg(target_os = "linux")]
    fn openat2(&self, rel: &Path) -> io::Result<Dir> {
        let c = path_cstr(rel)?;
        // SAFETY: open_how is plain data; zero is a valid value for every field.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        // RESOLVE_NO_SYMLINKS covers the last name too (O_NOFOLLOW would make it ENOTDIR).
        how.flags = (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
        how.resolve =
            libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.raw(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        let fd = check(fd as libc::c_int)?;
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Like [`Self::open_beneath`], creating the missing folders on the way (`mkdirat`), each
    /// opened without following a symlink before the next is made in it.
    pub fn create_beneath(&self, rel: &Path) -> io::Result<Dir> {
        let mut dir = self.try_clone()?;
        for name in names_of(rel)? {
            dir = match dir.child(&name) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match dir.mkdir(&name, 0o777) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                    dir.child(&name)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(dir)
    }

    /// The folder `name` in this one, not following a symlink.
    pub fn child(&self, name: &OsStr) -> io::Result<Dir> {
        let c = cstr(name)?;
        let fd = check(unsafe {
            libc::openat(
                self.raw(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        })
        .map_err(|e| {
            // A symlink opened with O_DIRECTORY | O_NOFOLLOW reports "not a folder"; say what
            // it is, as openat2 does.
            let link = e.raw_os_error() == Some(libc::ENOTDIR)
                && matches!(self.stat(name), Ok(Some(s)) if s.kind == Kind::Symlink);
            if link {
                io::Error::from_raw_os_error(libc::ELOOP)
            } else {
                e
            }
        })?;
        Ok(Dir {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
        })
    }

    /// Opens the entry `name` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC`): a symlink there is
    /// refused with `ELOOP`.
    pub fn open_file(&self, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let c = cstr(name)?;
        let fd = check(unsafe {
            libc::openat(
                self.raw(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        })?;
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// What is at `name`, not following a symlink; `None` when nothing is.
    pub fn stat(&self, name: &OsStr) -> io::Result<Option<Stat>> {
        let c = cstr(name)?;
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let r =
            unsafe { libc::fstatat(self.raw(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some(stat_of(&st)))
    }

    pub fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = cstr(name)?;
        check(unsafe { libc::mkdirat(self.raw(), c.as_ptr(), mode as libc::mode_t) })?;
        Ok(())
    }

    /// Renames `from` in this folder to `to` in `dest`; with `replace` false nothing at `to`
    /// is ever replaced (`RENAME_NOREPLACE`, no window between check and rename).
    pub fn rename(&self, from: &OsStr, dest: &Dir, to: &OsStr, replace: bool) -> io::Result<()> {
        let (f, t) = (cstr(from)?, cstr(to)?);
        #[cfg(target_os = "linux")]
        {
            let flags = if replace { 0 } else { libc::RENAME_NOREPLACE };
            let r =
                unsafe { libc::renameat2(self.raw(), f.as_ptr(), dest.raw(), t.as_ptr(), flags) };
            match check(r) {
                // A file system without RENAME_NOREPLACE: check, then rename.
                Err(e) if !replace && e.raw_os_error() == Some(libc::EINVAL) => {}
                other => return other.map(|_| ()),
            }
            if dest.stat(to)?.is_some() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            check(unsafe { libc::renameat(self.raw(), f.as_ptr(), dest.raw(), t.as_ptr()) })?;
            Ok(())
        }
        #[cfg(not(target_os = "linux"))]
        {
            if !replace && dest.stat(to)?.is_some() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            check(unsafe { libc::renameat(self.raw(), f.as_ptr(), dest.raw(), t.as_ptr()) })?;
            Ok(())
        }
    }

    /// Makes a symlink `name` in this folder pointing at `target`.
    pub fn symlink(&self, target: &Path, name: &OsStr) -> io::Result<()> {
        let (t, c) = (path_cstr(target)?, cstr(name)?);
        check(unsafe { libc::symlinkat(t.as_ptr(), self.raw(), c.as_ptr()) })?;
        Ok(())
    }

    /// Removes the entry `name` (a folder only when empty and `folder` is true).
    pub fn unlink(&self, name: &OsStr, folder: bool) -> io::Result<()> {
        let c = cstr(name)?;
        let flags = if folder { libc::AT_REMOVEDIR } else { 0 };
        check(unsafe { libc::unlinkat(self.raw(), c.as_ptr(), flags) })?;
        Ok(())
    }

    /// Removes `name` and, when it is a folder, everything in it, never following a symlink.
    pub fn remove_tree(&self, name: &OsStr) -> io::Result<()> {
        match self.stat(name)? {
            None => Ok(()),
            Some(s) if s.kind == Kind::Dir => {
                let sub = self.child(name)?;
                for entry in sub.entries()? {
                    sub.remove_tree(&entry)?;
                }
                self.unlink(name, true)
            }
            Some(_) => self.unlink(name, false),
        }
    }

    /// The names in this folder (without `.` and `..`).
    pub fn entries(&self) -> io::Result<Vec<OsString>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.proc_path())? {
            out.push(entry?.file_name());
        }
        Ok(out)
    }

    /// A path naming this very folder (its descriptor's), for APIs that take a path: on Linux
    /// `/proc/self/fd/N`, which the kernel resolves to the open folder, not by walking again.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.raw()))
    }

    /// Where the kernel says this folder is now.
    pub fn real_path(&self) -> io::Result<PathBuf> {
        std::fs::read_link(self.proc_path())
    }

    /// A new temporary file in this folder (`O_EXCL`, mode 0600), removed again unless kept.
    pub fn temp(self, prefix: &str, suffix: &str) -> io::Result<Temp> {
        for _ in 0..64 {
            let name = OsString::from(format!(
                "{prefix}{}{suffix}",
                &crate::support::unique_hex()[..12]
            ));
            match self.open_file(&name, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, 0o600) {
                Ok(file) => {
                    return Ok(Temp {
                        dir: self,
                        name,
                        file,
                        kept: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary name",
        ))
    }
}

/// A temporary file in an open folder: filled, then renamed onto its destination in the same
/// folder; removed (by name, relative to the folder) if it is dropped before that.
#[derive(Debug)]
pub struct Temp {
    dir: Dir,
    name: OsString,
    file: File,
    kept: bool,
}

impl Temp {
    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    /// Syncs and renames onto `to` in the same folder (replacing only with `replace`).
    pub fn persist(mut self, to: &OsStr, replace: bool) -> io::Result<()> {
        self.file.sync_data()?;
        self.dir.rename(&self.name, &self.dir, to, replace)?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            let _ = self.dir.unlink(&self.name, false);
        }
    }
}

// The field types differ between platforms (nlink_t is 32 bits on some), hence the casts.
#[allow(clippy::unnecessary_cast)]
fn stat_of(st: &libc::stat) -> Stat {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink,
        _ => Kind::Other,
    };
    Stat {
        kind,
        links: st.st_nlink as u64,
        mode: st.st_mode as u32 & 0o7777,
    }
}

/// The kind and link count of an open file.
pub fn stat_fd(file: &File) -> io::Result<Stat> {
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    check(unsafe { libc::fstat(file.as_raw_fd(), &mut st) })?;
    Ok(stat_of(&st))
}

/// The plain names of a relative path; anything else (`..`, a root, a prefix) is refused.
fn names_of(rel: &Path) -> io::Result<Vec<OsString>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n.to_owned()),
            Component::CurDir => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("`{}` is not a path below a folder", rel.display()),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn no_symlink_on_the_way_is_followed_by_either_opener() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        symlink(&outside, root.join("a/link")).unwrap();
        let dir = Dir::open(&root).unwrap();
        let names = |p: &str| names_of(Path::new(p)).unwrap();
        // The kernel's resolver (when it has one) and the walk agree.
        let b = dir.open_beneath(Path::new("a/b")).unwrap();
        assert_eq!(b.real_path().unwrap(), root.join("a/b"));
        assert!(dir.walk(&names("a/b")).is_ok());
        for (i, opened) in [
            dir.open_beneath(Path::new("a/link")),
            dir.walk(&names("a/link")),
            dir.create_beneath(Path::new("a/link/new")),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(
                opened.map(|_| ()).map_err(|e| e.raw_os_error()),
                Err(Some(libc::ELOOP)),
                "{i}"
            );
        }
        assert!(dir.open_beneath(Path::new("a/../..")).is_err());
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
        // Creating makes each missing folder in the one above it.
        let made = dir.create_beneath(Path::new("a/b/c/d")).unwrap();
        assert_eq!(made.real_path().unwrap(), root.join("a/b/c/d"));
    }

    #[test]
    fn a_temporary_file_is_removed_unless_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = Dir::open(tmp.path()).unwrap();
        drop(dir.try_clone().unwrap().temp(".t-", ".tmp").unwrap());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let mut t = dir.try_clone().unwrap().temp(".t-", ".tmp").unwrap();
        std::io::Write::write_all(t.file_mut(), b"x").unwrap();
        t.persist(OsStr::new("kept"), false).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("kept")).unwrap(), b"x");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
        // Never replaces without being asked.
        let t = dir.try_clone().unwrap().temp(".t-", ".tmp").unwrap();
        let e = t.persist(OsStr::new("kept"), false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
