//! robots.txt (RFC 9309) for the pages the model fetches: parsing a file into the rules that
//! apply to our user agent, and matching a path against them. Fetching and caching the file
//! is the network guard's (`net::NetGuard::robots_allow`), so every fetch shares one cache.

/// Our product token, matched against `User-agent` lines (case-insensitively).
pub const AGENT: &str = "switchboard";

/// How much of a robots.txt is parsed (the RFC asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// The rules for one origin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RobotsRules {
    /// (allow, pattern); an empty list allows everything.
    rules: Vec<(bool, String)>,
    /// Everything refused (the server failed to give its robots.txt).
    deny_all: bool,
}

impl RobotsRules {
    pub fn allow_all() -> Self {
        Self::default()
    }

    pub fn deny_all() -> Self {
        Self {
            rules: Vec::new(),
            deny_all: true,
        }
    }

    pub fn is_deny_all(&self) -> bool {
        self.deny_all
    }

    /// Roughly the bytes the rules take (the cache's weight).
    pub fn weight(&self) -> usize {
        64 + self.rules.iter().map(|(_, p)| p.len() + 32).sum::<usize>()
    }

    /// The groups for our agent, or for `*` when none names us; groups for the same agent are
    /// merged, as the RFC says.
    pub fn parse(text: &str) -> Self {
        let text = &text[..crate::support::text::floor_char_boundary(text, MAX_ROBOTS_BYTES)];
        let mut ours = Vec::new();
        let mut star = Vec::new();
        // A group naming us counts even when it has no rules (it then allows everything).
        let mut named_us = false;
        // The agents of the group being read, and whether its rules have started.
        let mut agents: Vec<String> = Vec::new();
        let mut in_rules = false;
        for raw in text.lines() {
            let line = raw.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        agents.clear();
                        in_rules = false;
                    }
                    let agent = value.to_ascii_lowercase();
                    named_us |= agent == AGENT;
                    agents.push(agent);
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    if value.is_empty() {
                        continue; // `Disallow:` with no path allows everything
                    }
                    let rule = (key == "allow", value.to_owned());
                    if agents.iter().any(|a| a == AGENT) {
                        ours.push(rule);
                    } else if agents.iter().any(|a| a == "*") {
                        star.push(rule);
                    }
                }
                _ => {}
            }
        }
        Self {
            rules: if named_us { ours } else { star },
            deny_all: false,
        }
    }

    /// Whether `path_and_query` may be fetched; `Err` carries the matching rule.
    pub fn check(&self, path_and_query: &str) -> Result<(), String> {
        if self.deny_all {
            return Err("the server did not give its robots.txt (5xx), which means everything is disallowed".to_owned());
        }
        if path_and_query == "/robots.txt" {
            return Ok(());
        }
        let path = normalise(path_and_query);
        // The longest matching pattern wins; on a tie, allow.
        let mut best: Option<(usize, bool, &str)> = None;
        for (allow, pattern) in &self.rules {
            if matches(&normalise(pattern), &path) {
                let len = pattern.len();
                let better = match best {
                    None => true,
                    Some((l, a, _)) => len > l || (len == l && *allow && !a),
                };
                if better {
                    best = Some((len, *allow, pattern));
                }
            }
        }
        match best {
            Some((_, false, pattern)) => Err(format!("robots.txt has `Disallow: {pattern}`")),
            _ => Ok(()),
        }
    }
}

/// Percent-encodings upper-cased, so `%2f` and `%2F` compare equal.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next_if(char::is_ascii_hexdigit) {
                    out.push(h.to_ascii_uppercase());
                }
            }
        }
    }
    out
}

/// Pattern matching with `*` (any run) and a final `$` (end of path); otherwise a prefix.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            pos = part.len();
            continue;
        }
        let last = i == parts.len() - 1;
        if last && anchored {
            return path.len() >= pos + part.len() && path.ends_with(part);
        }
        match path[pos..].find(part) {
            Some(at) => pos += at + part.len(),
            None => return false,
        }
    }
    !anchored || pos == path.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_our_group_else_star_and_longest_match_wins() {
        let text = "User-agent: *\nDisallow: /\n\n\
            User-agent: Googlebot\nUser-agent: switchboard\nDisallow: /private\nAllow: /private/ok\n\
            Disallow: /*.pdf$\n# comment\nDisallow: /tmp/ # trailing\n";
        let r = RobotsRules::parse(text);
        assert!(r.check("/").is_ok());
        assert!(r.check("/private").is_err());
        assert!(r.check("/private/x").is_err());
        assert!(r.check("/private/ok/1").is_ok());
        assert!(r.check("/a/b.pdf").is_err());
        assert!(r.check("/a/b.pdf?x=1").is_ok());
        assert!(r.check("/tmp/").is_err());
        assert_eq!(
            r.check("/private/x").unwrap_err(),
            "robots.txt has `Disallow: /private`"
        );
        // Not named: the `*` group applies.
        let r =
            RobotsRules::parse("User-agent: other\nDisallow: /\nUser-agent: *\nDisallow: /no\n");
        assert!(r.check("/yes").is_ok() && r.check("/no/1").is_err());
        // Named with no rules: everything allowed, even though `*` is refused.
        let r = RobotsRules::parse("User-agent: *\nDisallow: /\n\nUser-agent: switchboard\n");
        assert!(r.check("/x").is_ok());
        // Agent lines in a row share one group, blank lines or not.
        let r = RobotsRules::parse("User-agent: switchboard\n\nUser-agent: *\nDisallow: /\n");
        assert!(r.check("/x").is_err());
    }

    #[test]
    fn ties_allow_and_robots_txt_is_always_allowed() {
        let r = RobotsRules::parse("User-agent: *\nDisallow: /page\nAllow: /page\nDisallow: /\n");
        assert!(r.check("/page").is_ok());
        assert!(r.check("/robots.txt").is_ok());
        assert!(r.check("/other").is_err());
        let r = RobotsRules::parse("User-agent: *\nDisallow:\n");
        assert!(r.check("/anything").is_ok());
        assert!(RobotsRules::deny_all().check("/x").is_err());
        let r = RobotsRules::parse("User-agent: *\nDisallow: /a%2fb\nDisallow: /x*y*z$\n");
        assert!(r.check("/a%2Fb/c").is_err());
        assert!(r.check("/x1y2z").is_err() && r.check("/x1y2z3").is_ok());
    }
}
