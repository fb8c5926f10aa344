//! Native desktop notifications for `notify_desktop`, through `notify-rust`: the freedesktop
//! notification service on the D-Bus session bus (Linux, BSD), the notification centre on macOS,
//! toasts on Windows. When nothing answers, the error says so plainly, instead of a D-Bus code.

use std::time::Duration;

use super::{NoticeCaps, NoticeRefusal, notice_body, notice_title};

#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "no desktop notification service answered ({0}). This works only inside a desktop session \
         (on Linux: a session D-Bus and a notification daemon such as the desktop's own, dunst or \
         mako); use send_push to reach the user's phone instead"
    )]
    Unavailable(String),
    #[error("{0}")]
    TooLarge(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

#[derive(Debug, Clone)]
pub struct Desktop {
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    /// How long it stays up; `None`: the service decides.
    pub timeout: Option<Duration>,
}

/// Notification services render a subset of HTML in the body; text from the model is shown as
/// written, never as markup or links.
pub fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The notification as it will be shown: title and body made safe and checked against the
/// caps, the sender in front of the title.
pub fn prepare(n: &Desktop, caps: NoticeCaps) -> Result<Desktop, DesktopError> {
    Ok(Desktop {
        title: notice_title(&n.title, caps)?,
        body: notice_body(&n.body, caps)?,
        ..n.clone()
    })
}

impl From<NoticeRefusal> for DesktopError {
    fn from(r: NoticeRefusal) -> Self {
        match r {
            NoticeRefusal::Empty(why) => DesktopError::Invalid(why.into()),
            NoticeRefusal::TooLarge(why) => DesktopError::TooLarge(why),
        }
    }
}

fn notification(n: &Desktop) -> notify_rust::Notification {
    let mut x = notify_rust::Notification::new();
    x.appname("switchboard")
        .summary(&n.title)
        .body(&escape_markup(&n.body));
    if let Some(t) = n.timeout {
        x.timeout(notify_rust::Timeout::Milliseconds(
            t.as_millis().min(u128::from(u32::MAX)) as u32,
        ));
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    x.urgency(match n.urgency {
        Urgency::Low => notify_rust::Urgency::Low,
        Urgency::Normal => notify_rust::Urgency::Normal,
        Urgency::Critical => notify_rust::Urgency::Critical,
    });
    x
}

/// Shows a notification made by [`prepare`]; returns the service's id for it, when it gives
/// one.
pub async fn show(n: &Desktop, wait: Duration) -> Result<Option<u32>, DesktopError> {
    let x = notification(n);
    let shown = async {
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            x.show_async()
                .await
                .map(|h| Some(h.id()))
                .map_err(|e| e.to_string())
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            tokio::task::spawn_blocking(move || x.show().map(|_| None).map_err(|e| e.to_string()))
                .await
                .map_err(|e| e.to_string())?
        }
    };
    match tokio::time::timeout(wait, shown).await {
        Ok(r) => r.map_err(DesktopError::Unavailable),
        Err(_) => Err(DesktopError::Unavailable(format!(
            "no answer within {} s",
            wait.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_shown_as_text_and_fields_are_checked() {
        assert_eq!(
            escape_markup("<a href='x'>b</a> & <b>"),
            "&lt;a href='x'&gt;b&lt;/a&gt; &amp; &lt;b&gt;"
        );
        let caps = NoticeCaps {
            title_chars: 20,
            body_bytes: 100,
        };
        let mut n = Desktop {
            title: " ".into(),
            body: String::new(),
            urgency: Urgency::Normal,
            timeout: None,
        };
        assert!(prepare(&n, caps).is_err());
        n.title = "Build \u{202e}done\u{1b}[2J".into();
        n.body = "line\n\u{1b}]0;evil\u{7}two".into();
        let shown = prepare(&n, caps).unwrap();
        assert_eq!(shown.title, "switchboard: Build done");
        assert_eq!(shown.body, "line\ntwo");
        n.body = "x".repeat(101);
        assert!(matches!(prepare(&n, caps), Err(DesktopError::TooLarge(_))));
        n.body = String::new();
        n.title = "t".repeat(21);
        assert!(matches!(prepare(&n, caps), Err(DesktopError::TooLarge(_))));
    }
}
