//! Build script: on Linux with glibc 2.36+ and GNU ld 2.38+, link the binary with packed
//! relative relocations (DT_RELR). The loader then applies about 25,000 relocations from a few
//! kilobytes instead of a 600 KB table, which cuts about 1 MiB of idle RSS and some start-up
//! time (measured with the benchmark). Elsewhere nothing changes.
//!
//! Release builds on x86_64 Linux, where rustc links with its own LLD (1.90 and later), also
//! place the functions a session's start-up runs side by side (`build/startup.order`, written
//! by `scripts/startup-order.sh`): start-up then faults in about 2 MB of code instead of pages
//! spread over the whole 26 MB of it, which is most of the idle RSS. A name the build no longer
//! has is skipped, so a stale file only loses the gain.
//!
//! It also tells the tests whether scripts/test.sh installed the third-party programs some of
//! them drive (the MCP SDKs, the official servers, PostgreSQL, an SMTP server, the inference
//! engine): without them those tests are reported as ignored, with the reason, instead of
//! passing without having run.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(test_deps)");
    println!("cargo:rerun-if-env-changed=SWITCHBOARD_TEST_STRICT");
    if std::env::var("SWITCHBOARD_TEST_STRICT").is_ok_and(|v| v == "1") {
        println!("cargo:rustc-cfg=test_deps");
    }
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    let native = std::env::var("TARGET").ok() == std::env::var("HOST").ok();
    if linux_gnu && native && glibc_at_least(2, 36) && ld_at_least(2, 38) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build/startup.order");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = output(&rustc, &["--version"]).unwrap_or_default();
    if std::env::var("PROFILE").as_deref() == Ok("release")
        && std::env::var("TARGET").as_deref() == Ok("x86_64-unknown-linux-gnu")
        && links_with_rusts_lld(&rustc_version)
    {
        let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build/startup.order");
        println!("cargo:rerun-if-changed=Cargo.lock");
        if let Ok(text) = std::fs::read_to_string(&order)
            && let Some(stale) =
                stale_order(text.lines().next().unwrap_or_default(), &rustc_version)
        {
            println!(
                "cargo:warning=build/startup.order was written for {stale}: run scripts/startup-order.sh (start-up code is spread out until then: more idle RSS)"
            );
        }
        if order.is_file() {
            println!(
                "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
                order.display()
            );
            println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        }
    }
}

/// rustc 1.90 and later link x86_64 Linux binaries with the LLD it ships, unless the build
/// names another linker or turns that off (then the ordering option is left out: GNU ld does
/// not know it).
fn links_with_rusts_lld(rustc_version: &str) -> bool {
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other = ["linker", "link-self-contained", "fuse-ld"]
        .iter()
        .any(|f| flags.contains(f));
    let recent = rustc_version
        .split_whitespace()
        .nth(1)
        .and_then(version)
        .is_some_and(|v| v >= (1, 90));
    let configured =
        std::env::vars().any(|(k, _)| k.starts_with("CARGO_TARGET_") && k.ends_with("_LINKER"));
    recent && !other && !configured
}

/// `getconf GNU_LIBC_VERSION` prints e.g. `glibc 2.36`.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    output("getconf", &["GNU_LIBC_VERSION"])
        .and_then(|s| version(s.split_whitespace().nth(1)?))
        .is_some_and(|v| v >= (major, minor))
}

/// `ld --version` starts with e.g. `GNU ld (GNU Binutils for Debian) 2.40`.
fn ld_at_least(major: u32, minor: u32) -> bool {
    output("ld", &["--version"])
        .and_then(|s| {
            let first = s.lines().next()?.to_owned();
            if !first.starts_with("GNU ld") {
                return None;
            }
            version(first.split_whitespace().last()?)
        })
        .is_some_and(|v| v >= (major, minor))
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// What build/startup.order's first line (`# Cargo.lock <FNV-1a of it> <rustc --version>`) was
/// written for, when that is not this build's lock file and toolchain (`rustc_version`).
fn stale_order(first: &str, rustc_version: &str) -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = std::fs::read(dir.join("Cargo.lock")).ok()?;
    let hash = lock.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    let now = format!("# Cargo.lock {hash:016x} {}", rustc_version.trim());
    (first != now).then(|| first.trim_start_matches("# ").to_owned())
}
