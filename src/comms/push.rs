//! Push notifications through ntfy for `send_push`: a message with
//! a title, priority, tags, a click URL and view actions, published as JSON to the configured
//! server and topic through the guarded network client. ntfy's JSON publishing keeps every
//! field in the body, so nothing the model writes ends up in a header.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::policy::net::NetGuard;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    Invalid(String),
    #[error("the ntfy server failed: {0}")]
    Failed(String),
    #[error("{0}")]
    TooLarge(String),
}

impl From<super::NoticeRefusal> for PushError {
    fn from(r: super::NoticeRefusal) -> Self {
        match r {
            super::NoticeRefusal::Empty(why) => PushError::Invalid(why.into()),
            super::NoticeRefusal::TooLarge(why) => PushError::TooLarge(why),
        }
    }
}

/// The push as it will be sent: title (with the sender in front; a push without one gets the
/// sender alone) and message made safe and checked against the caps, action labels made safe.
pub fn prepare(p: &Push, caps: super::NoticeCaps) -> Result<Push, PushError> {
    if p.message.trim().is_empty() {
        return Err(PushError::Invalid(
            "message is empty: say what to push".into(),
        ));
    }
    let title = match &p.title {
        Some(t) => super::notice_title(t, caps)?,
        None => super::SENDER.trim_end_matches([' ', ':']).to_owned(),
    };
    Ok(Push {
        message: super::notice_body(&p.message, caps)?,
        title: Some(title),
        actions: p
            .actions
            .iter()
            .map(|a| ViewAction {
                label: crate::support::text::display_safe(&a.label, false),
                url: a.url.clone(),
            })
            .collect(),
        ..p.clone()
    })
}

/// Where pushes go: an ntfy server (self-hosted or public), a topic, and an access token
/// (from the environment) when the topic is protected.
#[derive(Debug, Clone)]
pub struct Ntfy {
    pub server: String,
    pub topic: String,
    pub token: Option<String>,
}

/// A button that opens a URL.
#[derive(Debug, Clone)]
pub struct ViewAction {
    pub label: String,
    pub url: String,
}

#[derive(Debug, Clone, Default)]
pub struct Push {
    pub message: String,
    pub title: Option<String>,
    /// 1 (min) to 5 (max); 3 is ntfy's default.
    pub priority: Option<u8>,
    /// Emoji short codes or labels, e.g. `warning`, `white_check_mark`.
    pub tags: Vec<String>,
    pub click: Option<String>,
    pub actions: Vec<ViewAction>,
}

fn http_url(what: &str, u: &str) -> Result<(), PushError> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") => Ok(()),
        _ => Err(PushError::Invalid(format!(
            "{what} `{u}` is not an http(s) URL"
        ))),
    }
}

/// The JSON ntfy publishes, after checking each field.
pub fn body(ntfy: &Ntfy, p: &Push) -> Result<Value, PushError> {
    if p.message.trim().is_empty() {
        return Err(PushError::Invalid(
            "message is empty: say what to push".into(),
        ));
    }
    let mut v = json!({"topic": ntfy.topic, "message": p.message});
    if let Some(t) = &p.title {
        v["title"] = json!(t);
    }
    if let Some(n) = p.priority {
        if !(1..=5).contains(&n) {
            return Err(PushError::Invalid(format!(
                "priority {n} is out of range: use 1 (min) to 5 (max)"
            )));
        }
        v["priority"] = json!(n);
    }
    if !p.tags.is_empty() {
        v["tags"] = json!(p.tags);
    }
    if let Some(c) = &p.click {
        http_url("click", c)?;
        v["click"] = json!(c);
    }
    if p.actions.len() > 3 {
        return Err(PushError::Invalid(
            "ntfy shows at most 3 actions; keep the most useful ones".into(),
        ));
    }
    if !p.actions.is_empty() {
        let mut actions = Vec::new();
        for a in &p.actions {
            http_url("an action's url", &a.url)?;
            actions.push(json!({"action": "view", "label": a.label, "url": a.url}));
        }
        v["actions"] = Value::Array(actions);
    }
    Ok(v)
}

/// Publishes and returns ntfy's message id.
pub async fn publish(net: &NetGuard, ntfy: &Ntfy, p: &Push) -> Result<String, PushError> {
    let payload = serde_json::to_vec(&body(ntfy, p)?).unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(token) = &ntfy.token {
        let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| PushError::Invalid("the ntfy token is not a valid header value".into()))?;
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    let r = net
        .send(
            reqwest::Method::POST,
            ntfy.server.trim_end_matches('/'),
            headers,
            Some(payload),
            None,
        )
        .await
        .map_err(|e| PushError::Failed(e.to_string()))?;
    if !(200..300).contains(&r.status) {
        let text: String = String::from_utf8_lossy(&r.body).chars().take(300).collect();
        return Err(PushError::Failed(format!("HTTP {}: {text}", r.status)));
    }
    let answer: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    Ok(answer["id"].as_str().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_and_shaped_for_ntfy() {
        let n = Ntfy {
            server: "https://ntfy.example".into(),
            topic: "builds".into(),
            token: None,
        };
        let p = Push {
            message: "Build 42 failed".into(),
            title: Some("CI".into()),
            priority: Some(4),
            tags: vec!["warning".into()],
            click: Some("https://ci.example/42".into()),
            actions: vec![ViewAction {
                label: "Logs".into(),
                url: "https://ci.example/42/log".into(),
            }],
        };
        let v = body(&n, &p).unwrap();
        assert_eq!(v["topic"], "builds");
        assert_eq!(v["priority"], 4);
        assert_eq!(v["actions"][0]["action"], "view");
        for bad in [
            Push {
                priority: Some(9),
                ..p.clone()
            },
            Push {
                click: Some("javascript:alert(1)".into()),
                ..p.clone()
            },
            Push {
                message: " ".into(),
                ..p.clone()
            },
        ] {
            assert!(body(&n, &bad).is_err());
        }
    }
}
