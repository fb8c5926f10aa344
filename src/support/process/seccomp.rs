//! The seccomp filter bubblewrap installs on a sandboxed command just before it runs: system
//! calls a command never needs and that widen what it can reach are refused with `EPERM`
//! (new namespaces, mounts, `ptrace` and reading other processes' memory, keyrings, `bpf`,
//! performance counters, kernel modules and `kexec`, file handles, `userfaultfd`, swap,
//! reboot, accounting, quotas, the kernel log). `clone` is allowed unless it asks for a new
//! namespace; `clone3` (whose flags a filter cannot read) answers `ENOSYS`, so the C library
//! falls back to `clone`. Calls of another architecture's ABI (32-bit or x32 on x86-64, which
//! number system calls differently) are refused as a whole.
//!
//! The program is classic BPF, built here (no library): bubblewrap reads it from a descriptor
//! (`--seccomp FD`), which the supervisor creates when it starts the command.

/// The argument bubblewrap's `--seccomp` gets in the argv until the supervisor replaces it with
/// the descriptor that holds the program.
pub const FD_PLACEHOLDER: &str = "@switchboard-seccomp-fd@";

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod program {
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const JGE_K: u16 = 0x35;
    const JSET_K: u16 = 0x45;
    const RET_K: u16 = 0x06;
    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO: u32 = 0x0005_0000;
    /// Offsets in `struct seccomp_data`.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    /// The low 32 bits of the first argument (little-endian).
    const ARG0: u32 = 16;

    #[cfg(target_arch = "x86_64")]
    const AUDIT_ARCH: u32 = 0xc000_003e;
    #[cfg(target_arch = "aarch64")]
    const AUDIT_ARCH: u32 = 0xc000_00b7;

    const NEW_NAMESPACES: u32 = (libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWCGROUP) as u32;

    /// Refused with EPERM.
    fn refused() -> Vec<libc::c_long> {
        let mut nrs = vec![
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_pivot_root,
            libc::SYS_fsopen,
            libc::SYS_fsconfig,
            libc::SYS_fsmount,
            libc::SYS_fspick,
            libc::SYS_move_mount,
            libc::SYS_open_tree,
            libc::SYS_mount_setattr,
            libc::SYS_ptrace,
            libc::SYS_process_vm_readv,
            libc::SYS_process_vm_writev,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_request_key,
            libc::SYS_bpf,
            libc::SYS_perf_event_open,
            libc::SYS_kexec_load,
            libc::SYS_kexec_file_load,
            libc::SYS_init_module,
            libc::SYS_finit_module,
            libc::SYS_delete_module,
            libc::SYS_open_by_handle_at,
            libc::SYS_userfaultfd,
            libc::SYS_swapon,
            libc::SYS_swapoff,
            libc::SYS_reboot,
            libc::SYS_acct,
            libc::SYS_quotactl,
            libc::SYS_syslog,
        ];
        #[cfg(target_arch = "x86_64")]
        nrs.extend([libc::SYS_iopl, libc::SYS_ioperm]);
        nrs
    }

    enum To {
        Next,
        Allow,
        Deny,
        NoSys,
        Skip(u8),
    }

    struct Ins {
        code: u16,
        k: u32,
        jt: To,
        jf: To,
    }

    fn ins(code: u16, k: u32, jt: To, jf: To) -> Ins {
        Ins { code, k, jt, jf }
    }

    pub fn bytes() -> Vec<u8> {
        let mut p = vec![
            ins(LD_W_ABS, ARCH, To::Next, To::Next),
            ins(JEQ_K, AUDIT_ARCH, To::Next, To::Deny),
            ins(LD_W_ABS, NR, To::Next, To::Next),
        ];
        // The x32 ABI sets this bit in the number.
        #[cfg(target_arch = "x86_64")]
        p.push(ins(JGE_K, 0x4000_0000, To::Deny, To::Next));
        #[cfg(not(target_arch = "x86_64"))]
        let _ = JGE_K;
        for nr in refused() {
            p.push(ins(JEQ_K, nr as u32, To::Deny, To::Next));
        }
        p.push(ins(JEQ_K, libc::SYS_clone3 as u32, To::NoSys, To::Next));
        p.push(ins(JEQ_K, libc::SYS_clone as u32, To::Next, To::Skip(2)));
        p.push(ins(LD_W_ABS, ARG0, To::Next, To::Next));
        p.push(ins(JSET_K, NEW_NAMESPACES, To::Deny, To::Allow));
        let allow = p.len();
        let (deny, nosys) = (allow + 1, allow + 2);
        let mut out = Vec::with_capacity((p.len() + 3) * 8);
        let mut emit = |code: u16, jt: u8, jf: u8, k: u32| {
            out.extend_from_slice(&code.to_ne_bytes());
            out.push(jt);
            out.push(jf);
            out.extend_from_slice(&k.to_ne_bytes());
        };
        for (i, x) in p.iter().enumerate() {
            let offset = |to: &To| -> u8 {
                let target = match to {
                    To::Next => i + 1,
                    To::Allow => allow,
                    To::Deny => deny,
                    To::NoSys => nosys,
                    To::Skip(n) => i + 1 + *n as usize,
                };
                // Every target is ahead and within the 255 a jump can reach (checked by a test).
                u8::try_from(target - i - 1).unwrap_or(u8::MAX)
            };
            emit(x.code, offset(&x.jt), offset(&x.jf), x.k);
        }
        emit(RET_K, 0, 0, RET_ALLOW);
        emit(RET_K, 0, 0, RET_ERRNO | libc::EPERM as u32);
        emit(RET_K, 0, 0, RET_ERRNO | libc::ENOSYS as u32);
        out
    }
}

/// Whether a filter is built for this machine (then the sandbox runs without one, and
/// `doctor` says so).
pub const AVAILABLE: bool = cfg!(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
));

/// The compiled filter for this machine, or `None` where none is built.
pub fn filter() -> Option<Vec<u8>> {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    return Some(program::bytes());
    #[cfg(not(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )))]
    None
}

/// Puts the filter in an in-memory file that a child inherits, and returns its descriptor (the
/// caller keeps it open until the child has started).
#[cfg(target_os = "linux")]
pub fn filter_fd() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::io::{Seek, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    let program = filter().ok_or_else(|| std::io::Error::other("no seccomp filter here"))?;
    // SAFETY: memfd_create with a valid name; no MFD_CLOEXEC, so the child inherits it.
    let fd = unsafe { libc::memfd_create(c"switchboard-seccomp".as_ptr(), 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor this process just created and owns.
    let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(&program)?;
    file.rewind()?;
    Ok(file.into())
}

/// Replaces the placeholder in a bubblewrap argv with a descriptor holding the filter; the
/// descriptor must stay open until the command has started. `Err` when the filter cannot be
/// made (the command must then not run: it would run without the filter it was planned with).
pub fn attach(argv: &mut [std::ffi::OsString]) -> std::io::Result<Option<std::os::fd::OwnedFd>> {
    let Some(slot) = argv.iter_mut().find(|a| *a == FD_PLACEHOLDER) else {
        return Ok(None);
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = filter_fd()?;
        *slot = fd.as_raw_fd().to_string().into();
        Ok(Some(fd))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = slot;
        Err(std::io::Error::other("seccomp is Linux-only"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_whole_instructions_within_reach() {
        let Some(p) = filter() else {
            eprintln!("skipped: no seccomp filter on this platform");
            return;
        };
        assert_eq!(p.len() % 8, 0);
        let count = p.len() / 8;
        assert!(
            count < 255,
            "every jump must reach the returns ({count} instructions)"
        );
        // The last three are the returns: allow, EPERM, ENOSYS.
        let k = |i: usize| u32::from_ne_bytes(p[i * 8 + 4..i * 8 + 8].try_into().unwrap());
        assert_eq!(k(count - 3), 0x7fff_0000);
        assert_eq!(k(count - 2), 0x0005_0000 | libc::EPERM as u32);
    }
}
