//! The `http` section validated: the bearer tokens of `serve --http` (secrets only from the
//! environment), the tenant each maps to, and the server's limits.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::raw::RawHttp;
use super::{ConfigError, nonzero};

/// The shortest token accepted: shorter ones are guessable.
const MIN_TOKEN_CHARS: usize = 24;

/// One bearer token and the tenant it opens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpToken {
    /// The secret itself (from `env:VAR`); never shown.
    pub secret: String,
    /// Where it came from (`env:VAR`), safe to show.
    pub source: String,
    pub profile: String,
    pub roots: Option<Vec<PathBuf>>,
    pub toolsets: Option<Vec<String>>,
    pub read_only: bool,
}

impl std::fmt::Debug for HttpToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpToken")
            .field("source", &self.source)
            .field("profile", &self.profile)
            .field("roots", &self.roots)
            .field("toolsets", &self.toolsets)
            .field("read_only", &self.read_only)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub tokens: Vec<HttpToken>,
    pub allowed_origins: Vec<String>,
    pub allowed_hosts: Vec<String>,
    pub max_sessions_per_token: usize,
    pub max_in_flight_per_token: usize,
    pub session_idle: Duration,
}

pub(super) fn http_settings(
    raw: &RawHttp,
    redacted: &Value,
    file: Option<&Path>,
) -> Result<HttpSettings, ConfigError> {
    nonzero(
        file,
        &[
            (
                "http.max_sessions_per_token",
                raw.max_sessions_per_token as u64,
            ),
            (
                "http.max_in_flight_per_token",
                raw.max_in_flight_per_token as u64,
            ),
            ("http.session_idle_secs", raw.session_idle_secs),
        ],
    )?;
    let mut tokens: Vec<HttpToken> = Vec::new();
    for (i, t) in raw.tokens.iter().enumerate() {
        let key = format!("http.tokens.{i}");
        let index = i.to_string();
        let source = redacted
            .pointer(&format!("/http/tokens/{index}/token"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !super::written_as_env(redacted, &["http", "tokens", &index, "token"]) {
            return Err(ConfigError::new(
                file,
                format!("{key}.token"),
                "write the token as env:VAR (the variable holding it), never the token itself",
            ));
        }
        if t.token.chars().count() < MIN_TOKEN_CHARS {
            return Err(ConfigError::new(
                file,
                format!("{key}.token"),
                format!(
                    "{source} holds fewer than {MIN_TOKEN_CHARS} characters; use a long random token (e.g. `openssl rand -hex 32`)"
                ),
            ));
        }
        super::validate_profile_name(&t.profile)
            .map_err(|m| ConfigError::new(file, format!("{key}.profile"), m))?;
        if tokens.iter().any(|o| o.secret == t.token) {
            return Err(ConfigError::new(
                file,
                format!("{key}.token"),
                "the same token is listed twice; give each tenant its own",
            ));
        }
        tokens.push(HttpToken {
            secret: t.token.clone(),
            source,
            profile: t.profile.clone(),
            roots: t.roots.clone(),
            toolsets: t.toolsets.clone(),
            read_only: t.read_only,
        });
    }
    for (key, list) in [
        ("http.allowed_origins", &raw.allowed_origins),
        ("http.allowed_hosts", &raw.allowed_hosts),
    ] {
        if list.iter().any(|v| v.trim().is_empty()) {
            return Err(ConfigError::new(file, key, "an entry is empty"));
        }
    }
    if let Some(o) = raw
        .allowed_origins
        .iter()
        .find(|o| !o.contains("://") && *o != "null")
    {
        return Err(ConfigError::new(
            file,
            "http.allowed_origins",
            format!("`{o}` has no scheme; write it as scheme://host:port (`:*` for any port)"),
        ));
    }
    Ok(HttpSettings {
        tokens,
        allowed_origins: raw.allowed_origins.clone(),
        allowed_hosts: raw.allowed_hosts.clone(),
        max_sessions_per_token: raw.max_sessions_per_token,
        max_in_flight_per_token: raw.max_in_flight_per_token,
        session_idle: Duration::from_secs(raw.session_idle_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn settings(yaml: &str) -> Result<HttpSettings, ConfigError> {
        let env = |k: &str| match k {
            "TOK_A" => Some("a".repeat(32)),
            "TOK_B" => Some("b".repeat(32)),
            "SHORT" => Some("abc".into()),
            _ => None,
        };
        let (raw, redacted) = parse(yaml, None, &env)?;
        http_settings(&raw.http, &redacted, None)
    }

    #[test]
    fn tokens_come_from_the_environment_and_map_to_profiles() {
        let s = settings(
            "http:\n  tokens:\n    - {token: env:TOK_A, profile: alice, read_only: true}\n    - {token: env:TOK_B, profile: bob, toolsets: [memory]}\n",
        )
        .unwrap();
        assert_eq!(s.tokens.len(), 2);
        assert_eq!(s.tokens[0].profile, "alice");
        assert!(s.tokens[0].read_only);
        assert_eq!(
            s.tokens[1].toolsets.as_deref(),
            Some(&["memory".to_owned()][..])
        );
        assert!(
            !format!("{s:?}").contains("aaaa"),
            "the secret is never shown"
        );
        for (yaml, what) in [
            (
                "http:\n  tokens:\n    - {token: literal-token-0123456789abcdef, profile: a}\n",
                "env:VAR",
            ),
            (
                "http:\n  tokens:\n    - {token: env:SHORT, profile: a}\n",
                "fewer than",
            ),
            (
                "http:\n  tokens:\n    - {token: env:TOK_A, profile: \"../x\"}\n",
                "http.tokens.0.profile",
            ),
            (
                "http:\n  tokens:\n    - {token: env:TOK_A, profile: a}\n    - {token: env:TOK_A, profile: b}\n",
                "twice",
            ),
            ("http:\n  allowed_origins: [example.com]\n", "no scheme"),
            (
                "http:\n  max_in_flight_per_token: 0\n",
                "http.max_in_flight_per_token",
            ),
        ] {
            let e = settings(yaml).unwrap_err().to_string();
            assert!(e.contains(what), "{yaml}: {e}");
        }
    }
}
