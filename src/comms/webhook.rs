//! Webhooks for `send_webhook`: the payload
//! each service expects (Slack, Discord, Teams, or a generic JSON body), a signature for
//! generic ones (HMAC-SHA256 over the timestamp and the body, so a receiver can check both
//! origin and freshness), and delivery through the guarded network client with retries on 429
//! and 5xx that honour `Retry-After`. The URL always comes from the config, never from the
//! model.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::policy::net::{NetError, NetGuard};

/// The header carrying the Unix time the signature covers.
pub const TIMESTAMP_HEADER: &str = "x-switchboard-timestamp";
/// The header carrying `sha256=HEX` of HMAC-SHA256(secret, "TIMESTAMP.BODY").
pub const SIGNATURE_HEADER: &str = "x-switchboard-signature";
/// Longest Discord message content.
const DISCORD_MAX: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{0}")]
    Invalid(String),
    #[error("the webhook `{name}` failed after {attempts} attempt(s): {why}")]
    Failed {
        name: String,
        attempts: u32,
        why: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Discord,
    Teams,
    Generic,
}

/// One configured webhook.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub kind: Kind,
    pub url: String,
    /// Signs generic webhooks.
    pub secret: Option<String>,
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first wait; each later one doubles.
    pub base: Duration,
    /// The longest wait, also for a `Retry-After` the receiver asks for.
    pub max_wait: Duration,
}

/// What a delivery ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub status: u16,
    pub attempts: u32,
}

/// Slack's three control characters, escaped so text cannot ping a channel (`<!channel>`) or
/// disguise a link.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The body each kind of webhook expects for a title (optional), a text and, for generic
/// ones, extra data.
pub fn payload(
    kind: Kind,
    title: Option<&str>,
    text: &str,
    data: Option<&Value>,
) -> Result<Value, WebhookError> {
    if text.trim().is_empty() {
        return Err(WebhookError::Invalid(
            "text is empty: say what to post".into(),
        ));
    }
    if data.is_some() && kind != Kind::Generic {
        return Err(WebhookError::Invalid(
            "data goes only to generic webhooks; put it in the text for this one".into(),
        ));
    }
    Ok(match kind {
        Kind::Slack => {
            let text = match title {
                Some(t) => format!("*{}*\n{}", slack_escape(t), slack_escape(text)),
                None => slack_escape(text),
            };
            json!({"text": text})
        }
        Kind::Discord => {
            let content = match title {
                Some(t) => format!("**{t}**\n{text}"),
                None => text.to_owned(),
            };
            let n = content.chars().count();
            if n > DISCORD_MAX {
                return Err(WebhookError::Invalid(format!(
                    "the message is {n} characters; Discord takes at most {DISCORD_MAX}: shorten it or send it in parts"
                )));
            }
            // No @everyone, @here, role or user pings from text the model wrote.
            json!({"content": content, "allowed_mentions": {"parse": []}})
        }
        Kind::Teams => {
            let mut body = Vec::new();
            if let Some(t) = title {
                body.push(json!({"type": "TextBlock", "text": t, "weight": "Bolder", "size": "Medium", "wrap": true}));
            }
            body.push(json!({"type": "TextBlock", "text": text, "wrap": true}));
            json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body
                    }
                }]
            })
        }
        Kind::Generic => {
            let mut v = json!({"text": text});
            if let Some(t) = title {
                v["title"] = Value::String(t.to_owned());
            }
            if let Some(d) = data {
                v["data"] = d.clone();
            }
            v
        }
    })
}

/// `sha256=HEX` of HMAC-SHA256(secret, "TIMESTAMP.BODY").
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "sha256={}",
        crate::support::text::hex(&mac.finalize().into_bytes())
    )
}

/// The wait a 429 or 503 asks for: `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate_parse(v)?;
    Some(when.duration_since(now).unwrap_or_default())
}

fn httpdate_parse(v: &str) -> Option<SystemTime> {
    // IMF-fixdate, the form servers send: "Sun, 06 Nov 1994 08:49:37 GMT".
    let t: jiff::Timestamp = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t.as_second()).ok()?))
}

/// Posts `body` to the hook (signed when it has a secret), retrying 429 and 5xx answers and
/// failed connections with doubling waits, or the receiver's `Retry-After`, up to
/// `retry.max_wait` each.
pub async fn deliver(
    net: &NetGuard,
    hook: &Hook,
    body: &Value,
    retry: Retry,
) -> Result<Delivered, WebhookError> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut wait = retry.base;
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(secret) = &hook.secret {
            // Signed afresh on each attempt, so the timestamp says when it was sent.
            let ts = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            headers.insert(
                HeaderName::from_static(TIMESTAMP_HEADER),
                HeaderValue::from(ts),
            );
            if let Ok(v) = HeaderValue::from_str(&sign(secret, ts, &bytes)) {
                headers.insert(HeaderName::from_static(SIGNATURE_HEADER), v);
            }
        }
        let asked = match net
            .send(
                reqwest::Method::POST,
                &hook.url,
                headers,
                Some(bytes.clone()),
                None,
            )
            .await
        {
            Ok(r) if (200..300).contains(&r.status) => {
                return Ok(Delivered {
                    status: r.status,
                    attempts: attempt,
                });
            }
            Ok(r) if r.status == 429 || r.status >= 500 => {
                last = format!("HTTP {}", r.status);
                retry_after(&r.headers, SystemTime::now())
            }
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.body);
                let text: String = text.chars().take(300).collect();
                return Err(WebhookError::Failed {
                    name: hook.name.clone(),
                    attempts: attempt,
                    why: format!("HTTP {}: {text}", r.status),
                });
            }
            // Refused by the guard, or not to be retried (too large, too many redirects).
            Err(e) if !matches!(e, NetError::Timeout { .. } | NetError::Http { .. }) => {
                return Err(WebhookError::Failed {
                    name: hook.name.clone(),
                    attempts: attempt,
                    why: e.to_string(),
                });
            }
            Err(e) => {
                last = e.to_string();
                None
            }
        };
        if attempt < retry.attempts {
            tokio::time::sleep(asked.unwrap_or(wait).min(retry.max_wait)).await;
            wait = (wait * 2).min(retry.max_wait);
        }
    }
    Err(WebhookError::Failed {
        name: hook.name.clone(),
        attempts: retry.attempts.max(1),
        why: last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_each_services_shape_and_cannot_ping() {
        let s = payload(
            Kind::Slack,
            Some("Build"),
            "<!channel> done & <http://x|ok>",
            None,
        )
        .unwrap();
        assert_eq!(
            s,
            json!({"text": "*Build*\n&lt;!channel&gt; done &amp; &lt;http://x|ok&gt;"})
        );
        let d = payload(Kind::Discord, None, "@everyone hi", None).unwrap();
        assert_eq!(d["allowed_mentions"], json!({"parse": []}));
        assert!(payload(Kind::Discord, None, &"x".repeat(2001), None).is_err());
        let t = payload(Kind::Teams, Some("T"), "body", None).unwrap();
        assert_eq!(t["attachments"][0]["content"]["body"][1]["text"], "body");
        let g = payload(Kind::Generic, Some("T"), "b", Some(&json!({"n": 1}))).unwrap();
        assert_eq!(g, json!({"title": "T", "text": "b", "data": {"n": 1}}));
        assert!(payload(Kind::Slack, None, "x", Some(&json!(1))).is_err());
        assert!(payload(Kind::Slack, None, "  ", None).is_err());
    }

    #[test]
    fn signatures_match_a_known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog") is a published
        // test vector; the signed message here is "TIMESTAMP.BODY".
        let sig = sign("key", 1, b"x");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(b"The quick brown fox jumps over the lazy dog");
        let hex = crate::support::text::hex(&mac.finalize().into_bytes());
        assert_eq!(
            hex,
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_ne!(
            sign("key", 1, b"x"),
            sign("key", 2, b"x"),
            "the time is signed"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(3))
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784111777);
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:47 GMT"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_static("soon"),
        );
        assert_eq!(retry_after(&h, now), None);
    }
}
