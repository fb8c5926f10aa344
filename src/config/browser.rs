//! The `browser` section validated: which Chromium, how it runs (window, profile), and the
//! limits of the browser tools, each non-zero.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::RawBrowser;
use super::{ConfigError, nonzero};

/// Where the browser keeps its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserProfile {
    /// A new profile per session, deleted when the session ends.
    Fresh,
    /// One profile kept in the switchboard profile's data dir (`browser/`): logins survive.
    Persistent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSettings {
    /// `browser.executable`: a path or a name on PATH; found on PATH when unset.
    pub executable: Option<PathBuf>,
    pub headless: bool,
    pub profile: BrowserProfile,
    /// Where a persistent profile lives.
    pub persistent_dir: PathBuf,
    pub navigation_timeout: Duration,
    pub max_pages: usize,
    pub max_snapshot_chars: usize,
    pub max_screenshot_bytes: u64,
    pub max_pdf_bytes: u64,
    pub allow_evaluate: bool,
    /// `browser.download_dir`: where downloads are saved (the path policy applies).
    pub download_dir: String,
}

pub(super) fn browser_settings(
    raw: &RawBrowser,
    data_dir: &Path,
    file: Option<&Path>,
) -> Result<BrowserSettings, ConfigError> {
    nonzero(
        file,
        &[
            (
                "browser.navigation_timeout_secs",
                raw.navigation_timeout_secs,
            ),
            ("browser.max_pages", raw.max_pages as u64),
            ("browser.max_snapshot_chars", raw.max_snapshot_chars as u64),
            ("browser.max_screenshot_bytes", raw.max_screenshot_bytes),
            ("browser.max_pdf_bytes", raw.max_pdf_bytes),
        ],
    )?;
    let profile = match raw.profile.trim() {
        "fresh" => BrowserProfile::Fresh,
        "persistent" => BrowserProfile::Persistent,
        other => {
            return Err(ConfigError::new(
                file,
                "browser.profile",
                format!("is `{other}`; use `fresh` or `persistent`"),
            ));
        }
    };
    let executable = raw.executable.clone().filter(|p| !p.as_os_str().is_empty());
    Ok(BrowserSettings {
        executable,
        headless: raw.headless,
        profile,
        persistent_dir: data_dir.join("browser"),
        navigation_timeout: Duration::from_secs(raw.navigation_timeout_secs),
        max_pages: raw.max_pages,
        max_snapshot_chars: raw.max_snapshot_chars,
        max_screenshot_bytes: raw.max_screenshot_bytes,
        max_pdf_bytes: raw.max_pdf_bytes,
        allow_evaluate: raw.allow_evaluate,
        download_dir: if raw.download_dir.trim().is_empty() {
            "downloads".into()
        } else {
            raw.download_dir.trim().to_owned()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_headless_fresh_and_without_evaluate_and_bad_values_name_their_key() {
        let s = browser_settings(&RawBrowser::default(), Path::new("/data"), None).unwrap();
        assert!(s.headless && !s.allow_evaluate);
        assert_eq!(s.profile, BrowserProfile::Fresh);
        assert_eq!(s.persistent_dir, Path::new("/data/browser"));
        let e = browser_settings(
            &RawBrowser {
                profile: "mine".into(),
                ..Default::default()
            },
            Path::new("/data"),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("browser.profile"), "{e}");
        let e = browser_settings(
            &RawBrowser {
                max_pages: 0,
                ..Default::default()
            },
            Path::new("/data"),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("browser.max_pages"), "{e}");
    }
}
