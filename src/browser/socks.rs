//! The browser's only way out: a SOCKS5 proxy on loopback through which Chromium makes every
//! connection (documents, subresources, `fetch`/XHR, WebSockets, redirects, service workers).
//! Each connection names its host and port; the proxy applies the same rules as `fetch_url`
//! (`web.deny`, `web.allow` and its ports, private and metadata addresses) to the name, then
//! resolves it itself, checks every address, and connects to a checked one, so the address
//! checked is the address used (no DNS rebinding between a check and the browser's own
//! lookup). Refusals are kept, for the tools to say what a page was not allowed to reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::policy::net::NetRules;

/// How long a connection may take to say where it goes, and to connect there.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// Refusals kept (the oldest are dropped first).
const MAX_REFUSALS: usize = 200;

/// One connection the proxy refused: where it was going, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub target: String,
    pub why: String,
}

/// The running proxy; dropping it stops accepting.
pub struct Socks {
    pub port: u16,
    refusals: Arc<Mutex<Vec<Refusal>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Socks {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Socks {
    /// Listens on a free loopback port and serves under `rules`.
    pub async fn start(rules: Arc<NetRules>) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let refusals: Arc<Mutex<Vec<Refusal>>> = Arc::default();
        let kept = refusals.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (rules, kept) = (rules.clone(), kept.clone());
                tokio::spawn(async move {
                    if let Err(r) = serve(stream, &rules).await {
                        keep(&kept, r);
                    }
                });
            }
        });
        Ok(Self {
            port,
            refusals,
            accept,
        })
    }

    /// Records a refusal made elsewhere (a local file a page was not allowed to load), so
    /// every refusal is reported in one place.
    pub fn record(&self, refusal: Refusal) {
        keep(&self.refusals, refusal);
    }

    /// The refusals since the last call (and forgets them).
    pub fn take_refusals(&self) -> Vec<Refusal> {
        std::mem::take(&mut *crate::support::lock(&self.refusals))
    }
}

fn keep(kept: &Mutex<Vec<Refusal>>, r: Refusal) {
    tracing::debug!(target = r.target, why = r.why, "browser: request refused");
    let mut k = crate::support::lock(kept);
    if k.len() >= MAX_REFUSALS {
        k.remove(0);
    }
    k.push(r);
}

/// One SOCKS5 connection: greeting, CONNECT, the checks, then bytes both ways. `Err` only for a
/// connection the rules refused (a malformed one is just closed).
async fn serve(mut client: TcpStream, rules: &NetRules) -> Result<(), Refusal> {
    let asked = tokio::time::timeout(HANDSHAKE, handshake(&mut client)).await;
    let Ok(Some((host, port))) = asked else {
        return Ok(());
    };
    let target = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    let upstream = match tokio::time::timeout(HANDSHAKE, connect(&host, port, rules)).await {
        Ok(Ok(s)) => s,
        Ok(Err(why)) => {
            // 0x02: connection not allowed by ruleset.
            let _ = client.write_all(&reply(0x02)).await;
            return Err(Refusal { target, why });
        }
        Err(_) => {
            // 0x04: host unreachable.
            let _ = client.write_all(&reply(0x04)).await;
            return Ok(());
        }
    };
    if client.write_all(&reply(0x00)).await.is_err() {
        return Ok(());
    }
    let mut upstream = upstream;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}

/// The greeting (no authentication) and a CONNECT request: the host (a name or an address
/// literal) and port asked for. `None` for anything else.
async fn handshake(s: &mut TcpStream) -> Option<(String, u16)> {
    let mut head = [0u8; 2];
    s.read_exact(&mut head).await.ok()?;
    if head[0] != 5 {
        return None;
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    s.read_exact(&mut methods).await.ok()?;
    if !methods.contains(&0) {
        let _ = s.write_all(&[5, 0xff]).await;
        return None;
    }
    s.write_all(&[5, 0]).await.ok()?;
    let mut req = [0u8; 4];
    s.read_exact(&mut req).await.ok()?;
    if req[0] != 5 || req[1] != 1 {
        // Only CONNECT: no BIND, no UDP ASSOCIATE.
        let _ = s.write_all(&reply(0x07)).await;
        return None;
    }
    let host = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            s.read_exact(&mut a).await.ok()?;
            Ipv4Addr::from(a).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await.ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            s.read_exact(&mut name).await.ok()?;
            String::from_utf8(name).ok()?
        }
        4 => {
            let mut a = [0u8; 16];
            s.read_exact(&mut a).await.ok()?;
            Ipv6Addr::from(a).to_string()
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await.ok()?;
    Some((host, u16::from_be_bytes(port)))
}

/// Connects to `host:port` if the rules allow it: the name first, then every address it
/// resolves to; the connection goes to a checked address.
async fn connect(host: &str, port: u16, rules: &NetRules) -> Result<TcpStream, String> {
    let shown = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_owned(),
    };
    let url = url::Url::parse(&format!("http://{shown}:{port}/")).map_err(|e| e.to_string())?;
    rules.check_url(&url).map_err(|e| e.to_string())?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("`{host}` could not be resolved: {e}"))?
                .collect();
            rules
                .check_resolved(host, port, &found)
                .map_err(|e| e.to_string())?;
            found
        }
    };
    let mut last = String::from("no address");
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "`{host}:{port}` did not accept the connection: {last}"
    ))
}

/// A CONNECT reply with `code` and an empty IPv4 bound address.
fn reply(code: u8) -> [u8; 10] {
    [5, code, 0, 1, 0, 0, 0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::net::AllowEntry;

    async fn ask(port: u16, host: &str, to: u16) -> (u8, TcpStream) {
        let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap();
        s.write_all(&[5, 1, 0]).await.unwrap();
        let mut g = [0u8; 2];
        s.read_exact(&mut g).await.unwrap();
        assert_eq!(g, [5, 0]);
        let mut req = vec![5, 1, 0, 3, host.len() as u8];
        req.extend_from_slice(host.as_bytes());
        req.extend_from_slice(&to.to_be_bytes());
        s.write_all(&req).await.unwrap();
        let mut r = [0u8; 10];
        s.read_exact(&mut r).await.unwrap();
        (r[1], s)
    }

    #[tokio::test]
    async fn only_what_the_rules_allow_is_connected_and_refusals_are_kept() {
        let allowed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let allowed_port = allowed.local_addr().unwrap().port();
        let canary = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let canary_port = canary.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = allowed.accept().await {
                let _ = s.write_all(b"hello").await;
            }
        });
        let rules = NetRules {
            allow: vec![AllowEntry::parse(&format!("127.0.0.1:{allowed_port}")).unwrap()],
            ..NetRules::default()
        };
        let socks = Socks::start(Arc::new(rules)).await.unwrap();
        let (code, mut s) = ask(socks.port, "127.0.0.1", allowed_port).await;
        assert_eq!(code, 0);
        let mut got = [0u8; 5];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        for (host, port) in [
            ("127.0.0.1", canary_port),
            ("localhost", canary_port),
            ("169.254.169.254", 80),
        ] {
            let (code, _) = ask(socks.port, host, port).await;
            assert_eq!(code, 2, "{host}:{port}");
        }
        // Nothing reached the canary.
        assert!(
            tokio::time::timeout(Duration::from_millis(200), canary.accept())
                .await
                .is_err()
        );
        let refused = socks.take_refusals();
        assert_eq!(refused.len(), 3, "{refused:?}");
        assert!(refused[2].target == "169.254.169.254:80", "{refused:?}");
        assert!(refused[2].why.contains("169.254.169.254"), "{refused:?}");
        assert!(socks.take_refusals().is_empty());
    }
}
