//! The `comms` section validated: email accounts (with their secrets resolved and their TLS
//! roots read), the recipient allowlist, named webhooks, the ntfy server, confirmation, rate
//! limits and the outbox. Secrets must be written as `env:VAR`, so none sits in the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::raw::RawComms;
use super::{ConfigError, nonzero, written_as_env};
use crate::comms::email::{Account, Allow, Security};
use crate::comms::push::Ntfy;
use crate::comms::webhook::{Hook, Kind, Retry};

/// The tools that send, each with its own rate limit.
pub const SENDING_TOOLS: [&str; 4] = ["send_email", "send_webhook", "send_push", "notify_desktop"];

/// Whether each send is put to the user first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Ask through the host (elicitation); when it cannot ask, send nothing.
    Elicit,
    /// Send without asking.
    Never,
}

/// At most `max` sends in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub max: u32,
    pub per: Duration,
}

#[derive(Debug, Clone)]
pub struct EmailAccount {
    pub name: String,
    pub account: Account,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    pub hook: Hook,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CommsSettings {
    pub confirm: Confirm,
    pub confirm_timeout: Duration,
    pub keep_bodies: bool,
    /// `outbox.db` in the profile's data dir.
    pub outbox: std::path::PathBuf,
    pub outbox_keep: u64,
    /// One per tool of [`SENDING_TOOLS`].
    pub rates: BTreeMap<&'static str, Rate>,
    pub allow: Allow,
    /// In name order; the first is the default.
    pub accounts: Vec<EmailAccount>,
    pub max_attachment_bytes: u64,
    /// In name order.
    pub webhooks: Vec<Webhook>,
    pub retry: Retry,
    pub ntfy: Option<Ntfy>,
    /// `comms.email.max_recipients`.
    pub max_recipients: usize,
    /// `comms.max_title_chars`.
    pub max_title_chars: usize,
    /// `comms.max_notification_bytes`.
    pub max_notification_bytes: usize,
    /// `comms.confirm_max_chars`.
    pub confirm_max_chars: usize,
}

impl CommsSettings {
    /// What a notification may show.
    pub fn notice_caps(&self) -> crate::comms::NoticeCaps {
        crate::comms::NoticeCaps {
            title_chars: self.max_title_chars,
            body_bytes: self.max_notification_bytes,
        }
    }

    pub fn rate(&self, tool: &str) -> Rate {
        self.rates.get(tool).copied().unwrap_or(Rate {
            max: 1,
            per: Duration::from_secs(1),
        })
    }
}

fn default_rate(tool: &str) -> Rate {
    let (max, secs) = match tool {
        "send_email" => (20, 3600),
        "notify_desktop" => (30, 60),
        _ => (60, 3600),
    };
    Rate {
        max,
        per: Duration::from_secs(secs),
    }
}

pub(super) fn comms_settings(
    c: &RawComms,
    redacted: &Value,
    data_dir: &Path,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<CommsSettings, ConfigError> {
    let err = |key: String, msg: String| ConfigError::new(file, key, msg);
    let confirm = match c.confirm.as_str() {
        "elicit" => Confirm::Elicit,
        "never" => Confirm::Never,
        other => {
            return Err(err(
                "comms.confirm".into(),
                format!("`{other}` is not a choice: use elicit (ask the user) or never"),
            ));
        }
    };
    nonzero(
        file,
        &[
            ("comms.confirm_timeout_secs", c.confirm_timeout_secs),
            ("comms.outbox_keep", c.outbox_keep),
            ("comms.webhook_attempts", u64::from(c.webhook_attempts)),
            ("comms.webhook_max_wait_secs", c.webhook_max_wait_secs),
            (
                "comms.email.max_attachment_bytes",
                c.email.max_attachment_bytes,
            ),
            ("comms.email.timeout_secs", c.email.timeout_secs),
            ("comms.email.max_recipients", c.email.max_recipients as u64),
            ("comms.max_title_chars", c.max_title_chars as u64),
            (
                "comms.max_notification_bytes",
                c.max_notification_bytes as u64,
            ),
            ("comms.confirm_max_chars", c.confirm_max_chars as u64),
        ],
    )?;
    let mut rates: BTreeMap<&'static str, Rate> = SENDING_TOOLS
        .iter()
        .map(|t| (*t, default_rate(t)))
        .collect();
    for (tool, r) in &c.rate_limits {
        let key = format!("comms.rate_limits.{tool}");
        let Some(name) = SENDING_TOOLS.iter().find(|t| **t == tool.as_str()) else {
            return Err(err(
                key,
                format!("not a sending tool: use {}", SENDING_TOOLS.join(", ")),
            ));
        };
        if r.max == 0 || r.per_secs == 0 {
            return Err(err(
                key,
                "max and per_secs must be greater than 0 (to turn a tool off, leave its \
                 account, webhook or server out of the config)"
                    .into(),
            ));
        }
        rates.insert(
            name,
            Rate {
                max: r.max,
                per: Duration::from_secs(r.per_secs),
            },
        );
    }
    for (i, a) in c.email.allow.iter().enumerate() {
        let a = a.trim();
        let ok = match a.strip_prefix("*@") {
            Some(domain) => !domain.is_empty() && !domain.contains(['@', '*', ' ']),
            None => a.parse::<lettre::Address>().is_ok(),
        };
        if !ok {
            return Err(err(
                format!("comms.email.allow[{i}]"),
                format!("`{a}` is neither `*@domain` nor an address"),
            ));
        }
    }
    let timeout = Duration::from_secs(c.email.timeout_secs);
    let mut accounts = Vec::new();
    for (name, a) in &c.email.accounts {
        let key = |k: &str| format!("comms.email.accounts.{name}.{k}");
        if !super::is_plain_name(name) {
            return Err(err(
                format!("comms.email.accounts.{name}"),
                "an account name is letters, digits, `_` and `-` only".into(),
            ));
        }
        let security = match a.security.as_str() {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            "plain" => Security::Plain,
            other => {
                return Err(err(
                    key("security"),
                    format!("`{other}` is not a choice: use starttls, tls or plain"),
                ));
            }
        };
        if a.host.trim().is_empty() {
            return Err(err(key("host"), "give the mail server's host name".into()));
        }
        let login = match (&a.username, &a.password) {
            (Some(u), Some(p)) => {
                if !written_as_env(redacted, &["comms", "email", "accounts", name, "password"]) {
                    return Err(err(
                        key("password"),
                        "write the password as env:VAR (the variable holding it), never \
                         literally"
                            .into(),
                    ));
                }
                Some((u.clone(), p.clone()))
            }
            (None, None) => None,
            _ => {
                return Err(err(
                    key("username"),
                    "give both username and password, or neither".into(),
                ));
            }
        };
        if login.is_some() && security == Security::Plain {
            return Err(err(
                key("security"),
                "a password is never sent over plain SMTP: use starttls or tls".into(),
            ));
        }
        let from: lettre::message::Mailbox = a
            .from
            .trim()
            .parse()
            .map_err(|e| err(key("from"), format!("`{}` is not an address ({e})", a.from)))?;
        let ca_pem = match &a.ca_file {
            Some(p) => {
                let p = super::absolutize(&super::expand_home(p, env), file);
                let pem = std::fs::read(&p).map_err(|e| {
                    err(key("ca_file"), format!("cannot read {}: {e}", p.display()))
                })?;
                lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
                    err(
                        key("ca_file"),
                        format!("{} is not a PEM certificate: {e}", p.display()),
                    )
                })?;
                Some(pem)
            }
            None => None,
        };
        accounts.push(EmailAccount {
            name: name.clone(),
            account: Account {
                host: a.host.trim().to_owned(),
                port: a.port.unwrap_or(match security {
                    Security::StartTls => 587,
                    Security::Tls => 465,
                    Security::Plain => 25,
                }),
                security,
                login,
                from,
                timeout,
                ca_pem,
            },
        });
    }
    let mut webhooks = Vec::new();
    for (name, w) in &c.webhooks {
        let key = |k: &str| format!("comms.webhooks.{name}.{k}");
        if !super::is_plain_name(name) {
            return Err(err(
                format!("comms.webhooks.{name}"),
                "a webhook name is letters, digits, `_` and `-` only".into(),
            ));
        }
        let kind = match w.kind.as_str() {
            "slack" => Kind::Slack,
            "discord" => Kind::Discord,
            "teams" => Kind::Teams,
            "generic" => Kind::Generic,
            other => {
                return Err(err(
                    key("kind"),
                    format!("`{other}` is not a kind: use slack, discord, teams or generic"),
                ));
            }
        };
        if !written_as_env(redacted, &["comms", "webhooks", name, "url"]) {
            return Err(err(
                key("url"),
                "a webhook URL is a secret: write it as env:VAR (the variable holding it)".into(),
            ));
        }
        match url::Url::parse(&w.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(err(
                    key("url"),
                    "the variable does not hold an http(s) URL".into(),
                ));
            }
        }
        if w.secret.is_some() {
            if kind != Kind::Generic {
                return Err(err(
                    key("secret"),
                    "only generic webhooks are signed; Slack, Discord and Teams keep the \
                     secret in the URL"
                        .into(),
                ));
            }
            if !written_as_env(redacted, &["comms", "webhooks", name, "secret"]) {
                return Err(err(
                    key("secret"),
                    "write the secret as env:VAR (the variable holding it), never literally".into(),
                ));
            }
        }
        webhooks.push(Webhook {
            hook: Hook {
                name: name.clone(),
                kind,
                url: w.url.clone(),
                secret: w.secret.clone(),
            },
            description: w.description.clone(),
        });
    }
    let ntfy = match &c.ntfy {
        Some(n) => {
            match url::Url::parse(&n.server) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(err(
                        "comms.ntfy.server".into(),
                        format!("`{}` is not an http(s) URL", n.server),
                    ));
                }
            }
            if !super::is_plain_name(&n.topic) {
                return Err(err(
                    "comms.ntfy.topic".into(),
                    "a topic is letters, digits, `_` and `-` only".into(),
                ));
            }
            if n.token.is_some() && !written_as_env(redacted, &["comms", "ntfy", "token"]) {
                return Err(err(
                    "comms.ntfy.token".into(),
                    "write the token as env:VAR (the variable holding it), never literally".into(),
                ));
            }
            Some(Ntfy {
                server: n.server.trim_end_matches('/').to_owned(),
                topic: n.topic.clone(),
                token: n.token.clone(),
            })
        }
        None => None,
    };
    Ok(CommsSettings {
        confirm,
        confirm_timeout: Duration::from_secs(c.confirm_timeout_secs),
        keep_bodies: c.keep_bodies,
        outbox: data_dir.join("outbox.db"),
        outbox_keep: c.outbox_keep,
        rates,
        allow: Allow::new(&c.email.allow).at_most(c.email.max_recipients),
        accounts,
        max_attachment_bytes: c.email.max_attachment_bytes,
        webhooks,
        retry: Retry {
            attempts: c.webhook_attempts,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(c.webhook_max_wait_secs),
        },
        ntfy,
        max_recipients: c.email.max_recipients,
        max_title_chars: c.max_title_chars,
        max_notification_bytes: c.max_notification_bytes,
        confirm_max_chars: c.confirm_max_chars,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn settings(yaml: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<CommsSettings, String> {
        let (raw, redacted) = parse(yaml, None, env).map_err(|e| e.to_string())?;
        comms_settings(&raw.comms, &redacted, Path::new("/data"), None, env)
            .map_err(|e| format!("{}: {}", e.key, e.message))
    }

    fn env(v: &str) -> Option<String> {
        match v {
            "PW" => Some("hunter2".into()),
            "HOOK" => Some("https://hooks.example.com/T1/B2/x".into()),
            "SECRET" => Some("s3cret".into()),
            _ => None,
        }
    }

    #[test]
    fn defaults_are_safe() {
        let s = settings("", &env).unwrap();
        assert_eq!(s.confirm, Confirm::Elicit);
        assert!(!s.keep_bodies);
        assert!(s.accounts.is_empty() && s.webhooks.is_empty() && s.ntfy.is_none());
        assert_eq!(s.rate("send_email").max, 20);
        assert_eq!(s.outbox, Path::new("/data/outbox.db"));
    }

    #[test]
    fn accounts_hooks_and_ntfy_are_read() {
        let yaml = "comms:\n  confirm: never\n  rate_limits: {send_email: {max: 2, per_secs: 60}}\n  email:\n    allow: ['*@example.com', me@x.org]\n    accounts:\n      work: {host: smtp.example.com, username: bot, password: env:PW, from: 'Bot <bot@example.com>'}\n      relay: {host: 127.0.0.1, security: plain, from: bot@example.com}\n  webhooks:\n    team: {kind: slack, url: env:HOOK}\n    ci: {kind: generic, url: env:HOOK, secret: env:SECRET}\n  ntfy: {server: 'https://ntfy.example.org/', topic: alerts}\n";
        let s = settings(yaml, &env).unwrap();
        assert_eq!(s.confirm, Confirm::Never);
        assert_eq!(s.rate("send_email").max, 2);
        assert_eq!(s.accounts[0].name, "relay");
        assert_eq!(s.accounts[0].account.port, 25);
        assert_eq!(s.accounts[1].account.port, 587);
        assert_eq!(
            s.accounts[1].account.login,
            Some(("bot".into(), "hunter2".into()))
        );
        assert_eq!(s.webhooks[0].hook.secret.as_deref(), Some("s3cret"));
        assert_eq!(s.ntfy.unwrap().server, "https://ntfy.example.org");
    }

    #[test]
    fn secrets_written_literally_and_bad_values_are_refused() {
        for (yaml, key) in [
            (
                "comms:\n  email:\n    accounts:\n      w: {host: h, username: u, password: pw, from: a@b.c}\n",
                "comms.email.accounts.w.password",
            ),
            (
                "comms:\n  email:\n    accounts:\n      w: {host: h, security: plain, username: u, password: env:PW, from: a@b.c}\n",
                "comms.email.accounts.w.security",
            ),
            (
                "comms:\n  webhooks:\n    t: {kind: slack, url: 'https://hooks.example.com/x'}\n",
                "comms.webhooks.t.url",
            ),
            (
                "comms:\n  webhooks:\n    t: {kind: slack, url: env:HOOK, secret: env:SECRET}\n",
                "comms.webhooks.t.secret",
            ),
            (
                "comms:\n  webhooks:\n    t: {kind: irc, url: env:HOOK}\n",
                "comms.webhooks.t.kind",
            ),
            ("comms:\n  confirm: maybe\n", "comms.confirm"),
            (
                "comms:\n  rate_limits: {run_command: {max: 1, per_secs: 1}}\n",
                "comms.rate_limits.run_command",
            ),
            (
                "comms:\n  email:\n    allow: ['*@']\n",
                "comms.email.allow[0]",
            ),
            (
                "comms:\n  ntfy: {server: 'https://n.example', topic: 'a/b'}\n",
                "comms.ntfy.topic",
            ),
            (
                "comms:\n  ntfy: {server: 'https://n.example', topic: t, token: tk}\n",
                "comms.ntfy.token",
            ),
        ] {
            let e = settings(yaml, &env).unwrap_err();
            assert!(e.starts_with(&format!("{key}:")), "{yaml}: {e}");
        }
    }
}
