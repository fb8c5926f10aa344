//! What looks secret in text switchboard shows a model: environment variables (by name, or a URL
//! carrying a password) and process command lines (`--password=…`, `--token …`, `API_KEY=…`,
//! credentials in URLs, authorization headers). Over-redaction is the safe side: a value that
//! only might be secret is hidden.

/// Name fragments that mark a variable or an option as secret (matched case-insensitively).
const SECRET_WORDS: &[&str] = &[
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
    "SESSION",
    "PRIVATE",
    "SIGNATURE",
    "CERT",
    "PASS",
];

/// What a hidden value is replaced by.
pub const REDACTED: &str = "[redacted: looks secret]";

fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// Whether an environment variable's value should be hidden.
pub fn looks_secret(name: &str, value: &str) -> bool {
    secret_name(name) || url_with_password(value)
}

/// `scheme://user:password@host…`
fn url_with_password(value: &str) -> bool {
    password_span(value).is_some()
}

/// Where the password of the first `scheme://user:password@host` in `text` is.
fn password_span(text: &str) -> Option<std::ops::Range<usize>> {
    let scheme_end = text.find("://")? + 3;
    let rest = &text[scheme_end..];
    let authority = rest.split(['/', '?', '#', ' ']).next().unwrap_or("");
    let (userinfo, _) = authority.rsplit_once('@')?;
    let colon = userinfo.find(':')?;
    Some(scheme_end + colon + 1..scheme_end + userinfo.len())
}

/// A command line with secret-looking values hidden, and how many were.
pub fn redact_command(args: &[String]) -> (String, usize) {
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    let mut hidden = 0;
    let mut next_is_secret = false;
    for arg in args {
        if std::mem::take(&mut next_is_secret) && !arg.starts_with('-') {
            out.push(REDACTED.to_owned());
            hidden += 1;
            continue;
        }
        let (shown, was) = redact_arg(arg);
        hidden += usize::from(was);
        // `--password VALUE`: the option names a secret and carries no value of its own.
        if !was
            && let Some(name) = arg.strip_prefix("--")
            && !name.contains('=')
            && secret_name(name)
        {
            next_is_secret = true;
        }
        out.push(shown);
    }
    (out.join(" "), hidden)
}

/// One argument with its secret part hidden: `--token=…`, `NAME=…` with a secret name, an
/// `Authorization:` header, or a URL's password.
fn redact_arg(arg: &str) -> (String, bool) {
    if let Some((key, _)) = arg.split_once('=') {
        let name = key.trim_start_matches('-');
        let is_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if is_name && secret_name(name) {
            return (format!("{key}={REDACTED}"), true);
        }
    }
    let lower = arg.to_ascii_lowercase();
    for header in [
        "authorization:",
        "cookie:",
        "x-api-key:",
        "proxy-authorization:",
    ] {
        if let Some(at) = lower.find(header) {
            let end = at + header.len();
            return (format!("{} {REDACTED}", &arg[..end]), true);
        }
    }
    if let Some(span) = password_span(arg) {
        let mut s = arg.to_owned();
        s.replace_range(span, REDACTED);
        return (s, true);
    }
    (arg.to_owned(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(line: &str) -> (String, usize) {
        let args: Vec<String> = line.split(' ').map(str::to_owned).collect();
        redact_command(&args)
    }

    #[test]
    fn secret_arguments_are_hidden_and_the_rest_kept() {
        let (s, n) = redact(
            "mysql --user=app --password=hunter2 -h db --api-token abc123 API_KEY=xyz psql://u:pw@host/db curl -H Authorization:Bearer.t0k",
        );
        for secret in ["hunter2", "abc123", "xyz", ":pw@", "Bearer.t0k"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(
            s.contains("--user=app") && s.contains("-h db") && s.contains("@host/db"),
            "{s}"
        );
        assert_eq!(n, 5, "{s}");
        let (s, n) = redact("cargo build --release --jobs 4");
        assert_eq!((s.as_str(), n), ("cargo build --release --jobs 4", 0));
        assert!(looks_secret("GITHUB_TOKEN", "x"));
        assert!(looks_secret("DATABASE_URL", "postgres://u:p@h/d"));
        assert!(!looks_secret("HOME", "/root"));
    }
}
