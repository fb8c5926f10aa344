//! The network guard: which destinations a request started by the model may reach. Every web
//! request goes through [`NetGuard`], so no tool checks a URL itself.
//!
//! Why it is built this way (server-side request forgery is the attack):
//! - URLs are parsed by the `url` crate (the WHATWG parser browsers use), so every notation of
//!   an IPv4 literal (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) becomes the one address it
//!   means before it is checked.
//! - Names are resolved by the guard's own resolver, which checks *every* address and hands the
//!   HTTP client only checked ones: the client connects to what was checked, with no second
//!   lookup an attacker's DNS could answer differently (rebinding).
//! - Redirects are followed here, one hop at a time, each hop checked like the first.
//! - Environment proxies are ignored: a proxy would make the address check meaningless.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use super::robots::{MAX_ROBOTS_BYTES, RobotsRules};

/// Why a destination is refused, worded for the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetRefusal {
    #[error("`{url}` is not a valid URL: {why}")]
    BadUrl { url: String, why: String },
    #[error("only http and https URLs can be fetched, not `{scheme}:`")]
    Scheme { scheme: String },
    #[error(
        "`{host}` is refused: {rule} ({ip}). Private and local addresses are blocked so a fetched page cannot reach internal services; to reach a local server on purpose, add `{host}:{port}` to web.allow in config.yaml (switchboard reads config.yaml when it starts: restart it, or reconnect it in the host, after the change)"
    )]
    Private {
        host: String,
        port: u16,
        ip: IpAddr,
        rule: &'static str,
    },
    #[error("`{host}` is refused: it is listed in web.deny")]
    Denied { host: String },
    #[error(
        "`{host}` is allowed by web.allow only on port(s) {ports}, not {port}; to reach this port too, add `{host}:{port}` to web.allow in config.yaml (switchboard reads config.yaml when it starts: restart it, or reconnect it in the host, after the change)"
    )]
    WrongPort {
        host: String,
        port: u16,
        ports: String,
    },
    #[error("`{host}` could not be resolved: {why}")]
    Resolve { host: String, why: String },
    #[error(
        "credential `{name}` is only sent to {hosts}; `{host}` is not one of them (web.credentials.{name}.hosts)"
    )]
    CredentialHost {
        name: String,
        host: String,
        hosts: String,
    },
    #[error(
        "the header `{name}` cannot be set: {why}. Leave it out; the client sets it from the URL and the body"
    )]
    Header { name: String, why: &'static str },
    #[error(
        "the request body is {bytes} bytes, over the {cap} bytes a request may send (web.max_request_bytes); send less, or ask the user to raise the limit"
    )]
    RequestTooLarge { bytes: u64, cap: u64 },
}

impl NetRefusal {
    /// The stable reason code (`error::reason`).
    pub fn code(&self) -> &'static str {
        use crate::error::reason;
        match self {
            Self::BadUrl { .. } => reason::URL_INVALID,
            Self::Scheme { .. } => reason::URL_SCHEME,
            Self::Private { .. } => reason::ADDRESS_PRIVATE,
            Self::Denied { .. } => reason::HOST_DENIED,
            Self::WrongPort { .. } => reason::PORT_NOT_ALLOWED,
            Self::Resolve { .. } => reason::DNS_FAILED,
            Self::CredentialHost { .. } => reason::CREDENTIAL_HOST,
            Self::Header { .. } => reason::HEADER_REFUSED,
            Self::RequestTooLarge { .. } => reason::REQUEST_TOO_LARGE,
        }
    }
}

/// Request headers the client owns: the connection's framing and routing (hop-by-hop headers,
/// `Host`, the body's length and encoding) and proxy credentials. A caller that set them could
/// smuggle a second request, reach another virtual host than the guard checked, or hand a
/// proxy credential to a server.
const CLIENT_OWNED_HEADERS: &[(&str, &str)] = &[
    (
        "host",
        "the host comes from the URL the network policy checked",
    ),
    ("connection", "a hop-by-hop header"),
    ("keep-alive", "a hop-by-hop header"),
    ("proxy-connection", "a hop-by-hop header"),
    ("te", "a hop-by-hop header"),
    ("trailer", "a hop-by-hop header"),
    ("upgrade", "a hop-by-hop header"),
    ("transfer-encoding", "the body's framing is the client's"),
    ("content-length", "the body's framing is the client's"),
    ("expect", "the client decides how the body is sent"),
    ("http2-settings", "a hop-by-hop header"),
    (
        "proxy-authorization",
        "proxy credentials are never sent by a call",
    ),
    ("proxy-authenticate", "a hop-by-hop header"),
];

/// Refuses headers the client must own ([`CLIENT_OWNED_HEADERS`]).
pub fn check_headers(headers: &reqwest::header::HeaderMap) -> Result<(), NetRefusal> {
    for name in headers.keys() {
        if let Some((_, why)) = CLIENT_OWNED_HEADERS
            .iter()
            .find(|(n, _)| *n == name.as_str())
        {
            return Err(NetRefusal::Header {
                name: name.as_str().to_owned(),
                why,
            });
        }
    }
    Ok(())
}

/// Scheme, host and port: what a credential is bound to.
fn origin(u: &url::Url) -> (String, Option<String>, Option<u16>) {
    (
        u.scheme().to_owned(),
        u.host_str()
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase()),
        u.port_or_known_default(),
    )
}

/// Why `ip` may not be reached, or `None` when it is a public address.
pub fn private_rule(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_rule(v4),
        IpAddr::V6(v6) => v6_rule(v6),
    }
}

fn v4_rule(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    let rule = match o {
        [0, ..] => "\"this network\" 0.0.0.0/8 (includes the unspecified address)",
        [127, ..] => "loopback 127.0.0.0/8",
        [10, ..] => "private network 10.0.0.0/8 (RFC 1918)",
        [172, b, ..] if (16..32).contains(&b) => "private network 172.16.0.0/12 (RFC 1918)",
        [192, 168, ..] => "private network 192.168.0.0/16 (RFC 1918)",
        [169, 254, ..] => "link-local 169.254.0.0/16 (includes cloud metadata at 169.254.169.254)",
        [100, b, ..] if (64..128).contains(&b) => "carrier-grade NAT 100.64.0.0/10",
        [192, 0, 0, _] => "IETF protocol assignments 192.0.0.0/24",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation range",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking 198.18.0.0/15",
        [255, 255, 255, 255] => "broadcast 255.255.255.255",
        [a, ..] if a >= 240 => "reserved 240.0.0.0/4",
        [a, ..] if (224..240).contains(&a) => "multicast 224.0.0.0/4",
        _ => return None,
    };
    Some(rule)
}

fn v6_rule(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let rule = if ip.is_unspecified() {
        "the unspecified address ::"
    } else if ip.is_loopback() {
        "loopback ::1"
    } else if s[0..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        "IPv4-mapped IPv6 ::ffff:0:0/96"
    } else if s[0..6] == [0, 0, 0, 0, 0, 0] {
        "IPv4-compatible IPv6 ::/96"
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        "NAT64 64:ff9b::/96"
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        "local-use NAT64 64:ff9b:1::/48"
    } else if s[0] == 0x2002 {
        "6to4 2002::/16"
    } else if s[0] == 0x2001 && s[1] == 0 {
        "Teredo 2001::/32"
    } else if s[0] == 0x2001 && s[1] == 0xdb8 {
        "documentation 2001:db8::/32"
    } else if s[0] == 0x100 && s[1..4] == [0, 0, 0] {
        "discard-only 100::/64"
    } else if (s[0] & 0xfe00) == 0xfc00 {
        "unique-local fc00::/7"
    } else if (s[0] & 0xffc0) == 0xfe80 {
        "link-local fe80::/10"
    } else if (s[0] & 0xffc0) == 0xfec0 {
        "site-local fec0::/10"
    } else if (s[0] & 0xff00) == 0xff00 {
        "multicast ff00::/8"
    } else {
        return None;
    };
    Some(rule)
}

/// One `web.allow` entry: a host that may be private, on any port or one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub host: String,
    pub port: Option<u16>,
}

impl AllowEntry {
    /// `host`, `host:port`, `[v6]:port`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() || s.contains('/') || s.contains(char::is_whitespace) {
            return Err(format!(
                "`{s}` is not a host or host:port (write `localhost:3000`, not a URL)"
            ));
        }
        let parsed = url::Url::parse(&format!("http://{s}/"))
            .map_err(|e| format!("`{s}` is not a host or host:port: {e}"))?;
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("`{s}` has no host"))?
            .to_ascii_lowercase();
        // `Url` drops the default port; keep it when it was written.
        let port = parsed.port().or_else(|| s.ends_with(":80").then_some(80));
        Ok(Self { host, port })
    }
}

/// The rules a destination is checked against.
#[derive(Debug, Clone, Default)]
pub struct NetRules {
    pub allow: Vec<AllowEntry>,
    /// Hosts always refused (lowercase).
    pub deny: Vec<String>,
}

impl NetRules {
    fn allowed_ports(&self, host: &str) -> Option<Vec<Option<u16>>> {
        let ports: Vec<Option<u16>> = self
            .allow
            .iter()
            .filter(|a| a.host == host)
            .map(|a| a.port)
            .collect();
        (!ports.is_empty()).then_some(ports)
    }

    /// Whether `host` may resolve to private addresses (it is in web.allow on some port).
    fn may_be_private(&self, host: &str) -> bool {
        self.allow.iter().any(|a| a.host == host)
    }

    /// Checks a URL before any byte is sent: scheme, web.deny, the port of a web.allow entry,
    /// and the address itself when the host is an IP literal. A name is checked again, address
    /// by address, when the guard's resolver resolves it.
    pub fn check_url(&self, url: &url::Url) -> Result<(), NetRefusal> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(NetRefusal::Scheme {
                    scheme: other.to_owned(),
                });
            }
        }
        let port = url.port_or_known_default().unwrap_or(0);
        let (host_text, literal) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => {
                return Err(NetRefusal::BadUrl {
                    url: url.to_string(),
                    why: "it has no host".into(),
                });
            }
        };
        let host_text = host_text.trim_end_matches('.').to_owned();
        if self.deny.contains(&host_text) {
            return Err(NetRefusal::Denied { host: host_text });
        }
        if let Some(ports) = self.allowed_ports(&host_text) {
            if ports.iter().any(|p| p.is_none_or(|p| p == port)) {
                return Ok(());
            }
            let list: Vec<String> = ports.iter().flatten().map(u16::to_string).collect();
            return Err(NetRefusal::WrongPort {
                host: host_text,
                port,
                ports: list.join(", "),
            });
        }
        if let Some(ip) = literal
            && let Some(rule) = private_rule(ip)
        {
            return Err(NetRefusal::Private {
                host: host_text,
                port,
                ip,
                rule,
            });
        }
        Ok(())
    }

    /// Checks the addresses a name resolved to: all must be public, unless the name is in
    /// web.allow. One private address refuses the name (a mixed answer is an attack).
    pub fn check_resolved(
        &self,
        host: &str,
        port: u16,
        addrs: &[SocketAddr],
    ) -> Result<(), NetRefusal> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.may_be_private(&host) {
            return Ok(());
        }
        for a in addrs {
            if let Some(rule) = private_rule(a.ip()) {
                return Err(NetRefusal::Private {
                    host,
                    port,
                    ip: a.ip(),
                    rule,
                });
            }
        }
        if addrs.is_empty() {
            return Err(NetRefusal::Resolve {
                host,
                why: "no addresses".into(),
            });
        }
        Ok(())
    }
}

/// The HTTP client's resolver: resolves with the system resolver (off the runtime thread),
/// checks every address with [`NetRules::check_resolved`], and returns only checked ones.
pub struct GuardedResolver {
    rules: Arc<NetRules>,
}

impl GuardedResolver {
    pub fn new(rules: Arc<NetRules>) -> Self {
        Self { rules }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rules = self.rules.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| {
                    Box::new(NetRefusal::Resolve {
                        host: host.clone(),
                        why: e.to_string(),
                    }) as Box<dyn std::error::Error + Send + Sync>
                })?
                .collect();
            rules
                .check_resolved(&host, 0, &addrs)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            let checked: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(checked)
        })
    }
}

/// Limits of the guarded client.
#[derive(Debug, Clone)]
pub struct NetSettings {
    pub rules: NetRules,
    pub max_body_bytes: u64,
    /// Largest request body sent (`web.max_request_bytes`).
    pub max_request_bytes: u64,
    pub connect_timeout: std::time::Duration,
    pub timeout: std::time::Duration,
    pub max_redirects: usize,
    /// A proxy for every request; environment proxies are never used.
    pub proxy: Option<String>,
    /// Whether [`NetGuard::robots_allow`] consults robots.txt (`web.respect_robots`).
    pub respect_robots: bool,
}

impl Default for NetSettings {
    fn default() -> Self {
        Self {
            rules: NetRules::default(),
            max_body_bytes: 10 * 1024 * 1024,
            max_request_bytes: 2 * 1024 * 1024,
            connect_timeout: std::time::Duration::from_secs(10),
            timeout: std::time::Duration::from_secs(30),
            max_redirects: 10,
            proxy: None,
            respect_robots: true,
        }
    }
}

/// A request failure, worded for the model.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Refused(#[from] NetRefusal),
    #[error(
        "`{url}` did not answer within {secs} s (web timeout); try again later or a smaller resource"
    )]
    Timeout { url: String, secs: u64 },
    #[error("`{url}`: {why}")]
    Http { url: String, why: String },
    #[error("`{url}` redirected more than {max} times; the last hop was {last}")]
    TooManyRedirects {
        url: String,
        max: usize,
        last: String,
    },
    #[error(
        "`{url}` is disallowed for automated fetching: {why} (web.respect_robots). Ask the user to request it through the fetch prompt, which is not bound by robots.txt, or set web.respect_robots: false"
    )]
    Robots { url: String, why: String },
    #[error(
        "the body of `{url}` is larger than {cap} bytes ({key}); ask for a smaller resource or a range"
    )]
    TooLarge {
        url: String,
        cap: u64,
        key: &'static str,
    },
}

impl NetError {
    /// The stable reason code (`error::reason`).
    pub fn code(&self) -> &'static str {
        use crate::error::reason;
        match self {
            Self::Refused(r) => r.code(),
            Self::Timeout { .. } => reason::TIMEOUT,
            Self::Http { .. } => reason::UPSTREAM_FAILED,
            Self::TooManyRedirects { .. } => reason::TOO_MANY_REDIRECTS,
            Self::Robots { .. } => reason::ROBOTS_DISALLOWED,
            Self::TooLarge { .. } => reason::RESPONSE_TOO_LARGE,
        }
    }
}

/// A response read under the caps.
#[derive(Debug)]
pub struct Fetched {
    pub final_url: url::Url,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
    /// Every URL redirected through, in order.
    pub redirects: Vec<String>,
}

/// A response whose redirects are done and whose body is still unread.
pub struct Opened {
    pub final_url: url::Url,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub redirects: Vec<String>,
    response: reqwest::Response,
}

impl Opened {
    /// The next piece of the body, `None` at its end.
    pub async fn chunk(&mut self, guard: &NetGuard) -> Result<Option<Vec<u8>>, NetError> {
        let url = self.final_url.clone();
        self.response
            .chunk()
            .await
            .map(|c| c.map(|b| b.to_vec()))
            .map_err(|e| guard.failure(&url, e))
    }

    /// The declared body length, if the server gave one.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }
}

/// The one HTTP client for requests the model starts, built once per process.
pub struct NetGuard {
    client: reqwest::Client,
    settings: NetSettings,
    rules: Arc<NetRules>,
    /// robots.txt rules per origin.
    robots: crate::support::cache::TtlCache<String, Arc<RobotsRules>>,
}

/// robots.txt files kept, their total size, and how long one is trusted.
const ROBOTS_CACHE: (usize, usize, std::time::Duration) =
    (64, 4 * 1024 * 1024, std::time::Duration::from_secs(3600));

impl NetGuard {
    pub fn new(settings: NetSettings) -> Result<Self, NetError> {
        let rules = Arc::new(settings.rules.clone());
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .dns_resolver(Arc::new(GuardedResolver::new(rules.clone())));
        if let Some(p) = &settings.proxy {
            let proxy = reqwest::Proxy::all(p).map_err(|e| NetError::Http {
                url: p.clone(),
                why: format!("web.proxy is not a usable proxy URL: {e}"),
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder.build().map_err(|e| NetError::Http {
            url: String::new(),
            why: format!("the HTTP client could not be built: {e}"),
        })?;
        Ok(Self {
            client,
            settings,
            rules,
            robots: crate::support::cache::TtlCache::new(
                ROBOTS_CACHE.0,
                ROBOTS_CACHE.1,
                ROBOTS_CACHE.2,
            ),
        })
    }

    /// Whether the site's robots.txt lets us fetch `url` (always, when `web.respect_robots`
    /// is off). The file is fetched through the guard once per origin and cached; a missing
    /// file (4xx) allows everything and a server error (5xx) disallows everything, as RFC 9309
    /// says. A refusal by the guard itself comes back as that refusal.
    pub async fn robots_allow(&self, url: &url::Url) -> Result<(), NetError> {
        if !self.settings.respect_robots {
            return Ok(());
        }
        self.rules.check_url(url)?;
        let origin = url.origin().ascii_serialization();
        let rules = match self.robots.get(&origin) {
            Some(r) => r,
            None => {
                let r = Arc::new(self.fetch_robots(&origin).await?);
                if !r.is_deny_all() {
                    self.robots.put(origin, r.clone(), r.weight());
                }
                r
            }
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        rules.check(&target).map_err(|why| NetError::Robots {
            url: url.to_string(),
            why,
        })
    }

    async fn fetch_robots(&self, origin: &str) -> Result<RobotsRules, NetError> {
        let at = format!("{origin}/robots.txt");
        let mut opened = self
            .open(
                reqwest::Method::GET,
                &at,
                reqwest::header::HeaderMap::new(),
                None,
                None,
            )
            .await?;
        match opened.status {
            200..=299 => {}
            500..=599 => return Ok(RobotsRules::deny_all()),
            _ => return Ok(RobotsRules::allow_all()),
        }
        let mut text = Vec::new();
        while text.len() < MAX_ROBOTS_BYTES
            && let Some(chunk) = opened.chunk(self).await?
        {
            text.extend_from_slice(&chunk);
        }
        text.truncate(MAX_ROBOTS_BYTES);
        Ok(RobotsRules::parse(&String::from_utf8_lossy(&text)))
    }

    pub fn rules(&self) -> &NetRules {
        &self.rules
    }

    /// Sends one request, following redirects itself (each hop checked), and reads the body up
    /// to `web.max_body_bytes`. Headers the client owns are refused, and a body over
    /// `web.max_request_bytes`. Credentials (`Authorization`, `Cookie`, a named `credential`)
    /// go only to the first URL's origin (scheme, host and port): a redirect anywhere else
    /// drops them; a named credential also only to its hosts.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: reqwest::header::HeaderMap,
        body: Option<Vec<u8>>,
        credential: Option<(&str, &Credential)>,
    ) -> Result<Fetched, NetError> {
        let mut opened = self.open(method, url, headers, body, credential).await?;
        let cap = self.settings.max_body_bytes;
        let too_large = |u: &url::Url| NetError::TooLarge {
            url: u.to_string(),
            cap,
            key: "web.max_body_bytes",
        };
        if opened.content_length().is_some_and(|n| n > cap) {
            return Err(too_large(&opened.final_url));
        }
        let mut data = Vec::new();
        while let Some(chunk) = opened.chunk(self).await? {
            if data.len() as u64 + chunk.len() as u64 > cap {
                return Err(too_large(&opened.final_url));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            final_url: opened.final_url,
            status: opened.status,
            headers: opened.headers,
            body: data,
            redirects: opened.redirects,
        })
    }

    /// Like [`Self::send`], but returns as soon as the final response's head is in, for a
    /// caller that streams the body itself (downloads).
    pub async fn open(
        &self,
        method: reqwest::Method,
        url: &str,
        headers: reqwest::header::HeaderMap,
        body: Option<Vec<u8>>,
        credential: Option<(&str, &Credential)>,
    ) -> Result<Opened, NetError> {
        let mut current = url::Url::parse(url).map_err(|e| NetRefusal::BadUrl {
            url: url.to_owned(),
            why: e.to_string(),
        })?;
        check_headers(&headers)?;
        let cap = self.settings.max_request_bytes;
        if let Some(b) = &body
            && b.len() as u64 > cap
        {
            return Err(NetRefusal::RequestTooLarge {
                bytes: b.len() as u64,
                cap,
            }
            .into());
        }
        // Credentials are bound to the first URL's origin: a redirect to another scheme, host
        // or port (https → http included) goes on without them.
        let first = origin(&current);
        let credential_for =
            |u: &url::Url| -> Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)> {
                let (_, c) = credential?;
                let host = u.host_str()?.trim_end_matches('.').to_ascii_lowercase();
                (c.hosts.contains(&host) && origin(u) == first)
                    .then(|| (c.header.clone(), c.value.clone()))
            };
        if let Some((name, c)) = credential
            && credential_for(&current).is_none()
        {
            return Err(NetRefusal::CredentialHost {
                name: name.to_owned(),
                host: current.host_str().unwrap_or("").to_owned(),
                hosts: c.hosts.join(", "),
            }
            .into());
        }
        let (mut method, mut body, mut headers) = (method, body, headers);
        let mut redirects = Vec::new();
        loop {
            self.rules.check_url(&current)?;
            let mut req = self.client.request(method.clone(), current.clone());
            req = req.headers(headers.clone());
            if let Some((name, value)) = credential_for(&current) {
                req = req.header(name, value);
            }
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let resp = req.send().await.map_err(|e| self.failure(&current, e))?;
            let status = resp.status();
            if status.is_redirection()
                && let Some(loc) = resp.headers().get(reqwest::header::LOCATION)
            {
                let loc = loc.to_str().unwrap_or("").to_owned();
                let next = current.join(&loc).map_err(|e| NetRefusal::BadUrl {
                    url: loc.clone(),
                    why: e.to_string(),
                })?;
                if redirects.len() >= self.settings.max_redirects {
                    return Err(NetError::TooManyRedirects {
                        url: url.to_owned(),
                        max: self.settings.max_redirects,
                        last: next.to_string(),
                    });
                }
                if matches!(status.as_u16(), 301..=303) && method != reqwest::Method::HEAD {
                    method = reqwest::Method::GET;
                    body = None;
                }
                if origin(&next) != first {
                    headers.remove(reqwest::header::AUTHORIZATION);
                    headers.remove(reqwest::header::COOKIE);
                }
                redirects.push(next.to_string());
                current = next;
                continue;
            }
            return Ok(Opened {
                final_url: current,
                status: status.as_u16(),
                headers: resp.headers().clone(),
                redirects,
                response: resp,
            });
        }
    }

    /// A client error as the model should read it: the guard's refusal when that is the cause.
    pub fn failure(&self, url: &url::Url, e: reqwest::Error) -> NetError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = source {
            if let Some(r) = s.downcast_ref::<NetRefusal>() {
                let mut r = r.clone();
                if let NetRefusal::Private { port, .. } = &mut r {
                    *port = url.port_or_known_default().unwrap_or(0);
                }
                return NetError::Refused(r);
            }
            source = s.source();
        }
        if e.is_timeout() {
            return NetError::Timeout {
                url: url.to_string(),
                secs: self.settings.timeout.as_secs(),
            };
        }
        NetError::Http {
            url: url.to_string(),
            why: e.to_string(),
        }
    }
}

/// A named credential (`web.credentials.NAME`): a header sent only to its hosts.
#[derive(Clone)]
pub struct Credential {
    pub header: reqwest::header::HeaderName,
    pub value: reqwest::header::HeaderValue,
    /// Lowercase host names.
    pub hosts: Vec<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("header", &self.header)
            .field("value", &"(redacted)")
            .field("hosts", &self.hosts)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, rules: &NetRules) -> Result<(), NetRefusal> {
        rules.check_url(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn every_notation_of_a_local_address_is_refused() {
        let rules = NetRules::default();
        for url in [
            "http://127.0.0.1:8080/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[64:ff9b::7f00:1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://10.1.2.3/",
            "http://172.31.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[2002:7f00:1::]/",
            "http://[::127.0.0.1]/",
        ] {
            let r = check(url, &rules);
            assert!(matches!(r, Err(NetRefusal::Private { .. })), "{url}: {r:?}");
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains("web.allow"), "{msg}");
        }
        for url in [
            "https://example.com/",
            "http://93.184.215.14/",
            "http://[2606:4700::1]/",
        ] {
            assert_eq!(check(url, &rules), Ok(()), "{url}");
        }
    }

    /// A refusal that asks for a config change says the change applies after a restart.
    #[test]
    fn config_advice_says_a_restart_applies_it() {
        let private = NetRefusal::Private {
            host: "127.0.0.1".into(),
            port: 8080,
            ip: "127.0.0.1".parse().unwrap(),
            rule: "loopback",
        };
        let port = NetRefusal::WrongPort {
            host: "dev.local".into(),
            port: 9,
            ports: "8080".into(),
        };
        for e in [private, port] {
            let t = e.to_string();
            assert!(
                t.contains("web.allow in config.yaml") && t.contains("restart"),
                "{t}"
            );
        }
    }

    #[test]
    fn schemes_deny_and_allow_entries() {
        let rules = NetRules {
            allow: vec![
                AllowEntry::parse("127.0.0.1:8080").unwrap(),
                AllowEntry::parse("dev.local").unwrap(),
            ],
            deny: vec!["evil.example".into()],
        };
        assert!(matches!(
            check("file:///etc/passwd", &rules),
            Err(NetRefusal::Scheme { .. })
        ));
        assert!(matches!(
            check("ftp://example.com/", &rules),
            Err(NetRefusal::Scheme { .. })
        ));
        assert_eq!(check("http://127.0.0.1:8080/x", &rules), Ok(()));
        let wrong = check("http://127.0.0.1:9090/x", &rules).unwrap_err();
        assert!(matches!(wrong, NetRefusal::WrongPort { .. }), "{wrong:?}");
        assert_eq!(check("http://dev.local:3000/", &rules), Ok(()));
        assert!(matches!(
            check("https://EVIL.example./x", &rules),
            Err(NetRefusal::Denied { .. })
        ));
    }

    #[test]
    fn resolved_addresses_are_all_checked() {
        let rules = NetRules {
            allow: vec![AllowEntry::parse("intranet").unwrap()],
            deny: vec![],
        };
        let public: SocketAddr = "93.184.215.14:0".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert_eq!(rules.check_resolved("example.com", 80, &[public]), Ok(()));
        // One private answer among public ones refuses the name (DNS tricks).
        assert!(
            rules
                .check_resolved("example.com", 80, &[public, local])
                .is_err()
        );
        assert_eq!(rules.check_resolved("intranet", 80, &[local]), Ok(()));
    }
}
