//! The communication layers against real servers on loopback: email (`comms::email`) through
//! an aiosmtpd SMTP server whose own parser reads what arrived (encodings, attachments,
//! threading, Bcc, the injection cases failing safe), and webhooks (`comms::webhook`) through
//! the guarded client to a receiver that checks signatures itself (each service's payload,
//! retries on 503, `Retry-After` on 429, no retry on 404). STARTTLS and implicit TLS are
//! checked against a private CA made with the openssl CLI: refused without it, sent with it,
//! and never downgraded to plain text.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use switchboard::comms::email::{
    Account, Allow, EmailError, FileAttachment, Outgoing, Security, build, send,
};
use switchboard::comms::webhook::{Hook, Kind, Retry, deliver, payload};
use switchboard::policy::net::{AllowEntry, NetGuard, NetRules, NetSettings};

/// Starts a Python helper of `tests/comms/`: its first JSON line gives its port, each later
/// line is a message or request it received. It stops when its stdin closes (with the child).
fn helper(script: &str, args: &[&str]) -> Option<(u16, Receiver<Value>, Child)> {
    let py = crate::clients::installed("SWITCHBOARD_TEST_PYTHON", "the Python test helpers")?;
    let path = format!("{}/tests/comms/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(py)
        .arg(path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    Some((first["port"].as_u64().unwrap() as u16, rx, child))
}

pub(crate) struct Smtp {
    pub(crate) port: u16,
    messages: Receiver<Value>,
    _child: Child,
}

impl Smtp {
    pub(crate) fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    fn start_with(args: &[&str]) -> Option<Self> {
        let (port, messages, child) = helper("smtp.py", args)?;
        Some(Self {
            port,
            messages,
            _child: child,
        })
    }

    pub(crate) fn next(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(10))
            .expect("a message reached the server")
    }

    pub(crate) fn nothing_more(&self) {
        assert!(
            self.messages
                .recv_timeout(Duration::from_millis(300))
                .is_err(),
            "no other message arrived"
        );
    }

    pub(crate) fn account(&self) -> Account {
        Account {
            host: "127.0.0.1".into(),
            port: self.port,
            security: Security::Plain,
            login: None,
            from: "Reports Bot <bot@example.com>".parse().unwrap(),
            timeout: Duration::from_secs(10),
            ca_pem: None,
        }
    }
}

fn allow() -> Allow {
    Allow::new(&["*@example.com".into()])
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn mail_arrives_encoded_threaded_and_with_attachments() {
    let Some(smtp) = Smtp::start() else { return };
    let pdf = b"%PDF-1.4\n\x00\x01\x02 binary \xff\xfe".to_vec();
    let out = Outgoing {
        to: vec!["Zoë Müller <zoe@example.com>".into()],
        cc: vec!["ann@example.com".into()],
        bcc: vec!["hidden@example.com".into()],
        subject: "Rapport über Q3 ✓ — a long subject line that has to be folded somewhere".into(),
        text: Some("Grüße,\nthe report is attached.\n".into()),
        html: Some("<p>Grüße, the <b>report</b> is attached.</p>".into()),
        attachments: vec![FileAttachment {
            name: "Q3 résumé.pdf".into(),
            mime: "application/pdf".into(),
            bytes: pdf.clone(),
        }],
        in_reply_to: Some("<orig@example.com>".into()),
        references: vec!["<first@example.com>".into(), "<orig@example.com>".into()],
    };
    let account = smtp.account();
    let (msg, id) = build(&account, &allow(), &out).unwrap();
    send(&account, msg).await.unwrap();
    let got = smtp.next();
    let h = &got["headers"];
    assert_eq!(h["Subject"], out.subject.as_str());
    assert_eq!(h["From"], "Reports Bot <bot@example.com>");
    assert_eq!(h["To"], "Zoë Müller <zoe@example.com>");
    assert_eq!(h["Message-ID"], id.as_str());
    assert_eq!(h["In-Reply-To"], "<orig@example.com>");
    assert_eq!(h["References"], "<first@example.com> <orig@example.com>");
    assert!(
        !got["header_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().eq_ignore_ascii_case("bcc")),
        "{got}"
    );
    let mut rcpt: Vec<&str> = got["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    rcpt.sort();
    assert_eq!(
        rcpt,
        ["ann@example.com", "hidden@example.com", "zoe@example.com"]
    );
    assert_eq!(got["mail_from"], "bot@example.com");
    // Lines travel as CRLF, as SMTP requires.
    assert_eq!(
        got["text"].as_str().unwrap().replace("\r\n", "\n"),
        "Grüße,\nthe report is attached.\n"
    );
    assert!(got["html"].as_str().unwrap().contains("<b>report</b>"));
    let att = &got["attachments"][0];
    assert_eq!(att["filename"], "Q3 résumé.pdf");
    assert_eq!(att["content_type"], "application/pdf");
    let data = base64::engine::general_purpose::STANDARD
        .decode(att["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, pdf);
    smtp.nothing_more();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn injection_attempts_fail_safe() {
    let Some(smtp) = Smtp::start() else { return };
    let account = smtp.account();
    // A body line with a lone dot and SMTP commands: dot-stuffed, so it stays body text and
    // the transaction keeps its one recipient.
    let body = "Hello\r\n.\r\nMAIL FROM:<evil@evil.test>\r\nRCPT TO:<spy@evil.test>\r\nDATA\r\n.\r\nend\r\n";
    let out = Outgoing {
        to: vec!["ann@example.com".into()],
        subject: "Dots".into(),
        text: Some(body.into()),
        ..Outgoing::default()
    };
    let (msg, _) = build(&account, &allow(), &out).unwrap();
    send(&account, msg).await.unwrap();
    let got = smtp.next();
    assert_eq!(got["rcpt_tos"], serde_json::json!(["ann@example.com"]));
    assert_eq!(got["mail_from"], "bot@example.com");
    let text = got["text"].as_str().unwrap().replace("\r\n", "\n");
    assert!(
        text.contains("\n.\nMAIL FROM:<evil@evil.test>\nRCPT TO:<spy@evil.test>\nDATA\n.\nend"),
        "{text:?}"
    );
    smtp.nothing_more();

    // CRLF + Bcc in the subject, in an address, an outside recipient: refused before any
    // connection, so nothing arrives.
    for bad in [
        Outgoing {
            subject: "hi\r\nBcc: spy@evil.test".into(),
            ..out.clone()
        },
        Outgoing {
            to: vec!["ann@example.com\r\nBcc: spy@evil.test".into()],
            ..out.clone()
        },
        Outgoing {
            to: vec!["spy@evil.test".into()],
            ..out.clone()
        },
        Outgoing {
            bcc: vec!["ann@example.com".into(), "spy@evil.test".into()],
            ..out.clone()
        },
    ] {
        let err = build(&account, &allow(), &bad).unwrap_err();
        assert!(
            matches!(err, EmailError::Invalid(_) | EmailError::NotAllowed(_)),
            "{err}"
        );
    }
    smtp.nothing_more();
}

/// The webhook receiver (`tests/comms/webhooks.py`), which verifies signatures itself.
pub(crate) struct Hooks {
    pub(crate) port: u16,
    requests: Receiver<Value>,
    _child: Child,
}

pub(crate) const SECRET: &str = "s3cret-for-tests";

impl Hooks {
    pub(crate) fn start() -> Option<Self> {
        let (port, requests, child) = helper("webhooks.py", &[SECRET])?;
        Some(Self {
            port,
            requests,
            _child: child,
        })
    }

    pub(crate) fn next(&self) -> Value {
        self.requests
            .recv_timeout(Duration::from_secs(10))
            .expect("a request reached the receiver")
    }

    pub(crate) fn hook(&self, path: &str, kind: Kind, secret: bool) -> Hook {
        Hook {
            name: path.trim_start_matches('/').into(),
            kind,
            url: format!("http://127.0.0.1:{}{path}", self.port),
            secret: secret.then(|| SECRET.to_owned()),
        }
    }

    /// The guarded client, allowed to reach this receiver only.
    fn net(&self) -> NetGuard {
        NetGuard::new(NetSettings {
            rules: NetRules {
                allow: vec![AllowEntry::parse(&format!("127.0.0.1:{}", self.port)).unwrap()],
                deny: vec![],
            },
            timeout: Duration::from_secs(5),
            ..NetSettings::default()
        })
        .unwrap()
    }
}

fn retry() -> Retry {
    Retry {
        attempts: 3,
        base: Duration::from_millis(200),
        max_wait: Duration::from_secs(5),
    }
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn webhooks_post_each_shape_signed_and_retried() {
    let Some(r) = Hooks::start() else { return };
    let net = r.net();
    for (path, kind, key) in [
        ("/slack", Kind::Slack, "text"),
        ("/discord", Kind::Discord, "content"),
        ("/teams", Kind::Teams, "attachments"),
    ] {
        let body = payload(kind, Some("Build"), "passed", None).unwrap();
        let done = deliver(&net, &r.hook(path, kind, false), &body, retry())
            .await
            .unwrap();
        assert_eq!((done.status, done.attempts), (200, 1));
        let got = r.next();
        assert_eq!(got["path"], path);
        assert_eq!(got["content_type"], "application/json");
        assert!(got["body"].get(key).is_some(), "{got}");
        assert_eq!(got["verified"], Value::Null, "unsigned");
    }
    // Generic and signed: the receiver verifies the signature over timestamp and body.
    let body = payload(
        Kind::Generic,
        Some("Deploy"),
        "v1.2 is live",
        Some(&serde_json::json!({"version": "1.2"})),
    )
    .unwrap();
    deliver(
        &net,
        &r.hook("/generic", Kind::Generic, true),
        &body,
        retry(),
    )
    .await
    .unwrap();
    let got = r.next();
    assert_eq!(got["verified"], true, "{got}");
    assert_eq!(got["body"]["data"]["version"], "1.2");
    // A wrong secret does not verify.
    let mut wrong = r.hook("/generic", Kind::Generic, true);
    wrong.secret = Some("not-it".into());
    deliver(&net, &wrong, &body, retry()).await.unwrap();
    assert_eq!(r.next()["verified"], false);

    // 503 then 200: retried once, and signed afresh.
    let done = deliver(&net, &r.hook("/flaky", Kind::Generic, true), &body, retry())
        .await
        .unwrap();
    assert_eq!((done.status, done.attempts), (200, 2));
    let (a, b) = (r.next(), r.next());
    assert_eq!((a["n"].as_u64(), b["n"].as_u64()), (Some(1), Some(2)));
    assert_eq!(b["verified"], true);
    // 429 with Retry-After: 2 — the second attempt waits for it, not the 200 ms base.
    // A plain Slack post to a hook whose URL is `url`.
    let post = |url: String| {
        let net = &net;
        async move {
            let hook = Hook {
                name: "slack".into(),
                kind: Kind::Slack,
                url,
                secret: None,
            };
            deliver(
                net,
                &hook,
                &payload(Kind::Slack, None, "x", None).unwrap(),
                retry(),
            )
            .await
        }
    };
    let at = |path: &str| format!("http://127.0.0.1:{}{path}", r.port);
    let done = post(at("/limited")).await.unwrap();
    assert_eq!(done.attempts, 2);
    let (a, b) = (r.next(), r.next());
    let gap = b["t"].as_f64().unwrap() - a["t"].as_f64().unwrap();
    assert!((1.9..4.0).contains(&gap), "waited {gap} s");
    // Always 500: gives up after the attempts; 404: no retry.
    let err = post(at("/down")).await.unwrap_err();
    assert!(
        err.to_string().contains("after 3 attempt(s): HTTP 500"),
        "{err}"
    );
    for _ in 0..3 {
        r.next();
    }
    let err = post(at("/gone")).await.unwrap_err();
    assert!(
        err.to_string().contains("after 1 attempt(s): HTTP 404"),
        "{err}"
    );
    r.next();
    // The guard still applies: another port on loopback is refused before anything is sent.
    let err = post("http://127.0.0.1:9/x".into()).await.unwrap_err();
    assert!(err.to_string().contains("after 1 attempt(s)"), "{err}");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn ntfy_pushes_are_published_as_json_with_the_token() {
    use switchboard::comms::push::{Ntfy, Push, ViewAction, publish};
    let Some(r) = Hooks::start() else { return };
    let net = r.net();
    let mut ntfy = Ntfy {
        server: format!("http://127.0.0.1:{}/ntfy", r.port),
        topic: "builds".into(),
        token: Some("tk_test".into()),
    };
    let p = Push {
        message: "Build 42 failed\nsee the log".into(),
        title: Some("CI ✗".into()),
        priority: Some(5),
        tags: vec!["warning".into()],
        click: Some("https://ci.example/42".into()),
        actions: vec![ViewAction {
            label: "Log".into(),
            url: "https://ci.example/42/log".into(),
        }],
    };
    let id = publish(&net, &ntfy, &p).await.unwrap();
    assert_eq!(id, "msg1");
    let got = r.next();
    assert_eq!(got["body"]["topic"], "builds");
    assert_eq!(got["body"]["title"], "CI ✗");
    assert_eq!(got["body"]["message"], "Build 42 failed\nsee the log");
    assert_eq!(
        got["body"]["actions"][0]["url"],
        "https://ci.example/42/log"
    );
    ntfy.token = Some("wrong".into());
    let err = publish(&net, &ntfy, &p).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 401"), "{err}");
    r.next();
}

/// A private CA and a certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=switchboard test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .expect("openssl is installed");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn starttls_and_tls_verify_the_server_against_the_configured_ca() {
    let pki = Pki::new();
    let (cert, key) = (pki.path("leaf.pem"), pki.path("leaf.key"));
    let ca = std::fs::read(pki.path("ca.pem")).unwrap();
    for (mode, security) in [("starttls", Security::StartTls), ("tls", Security::Tls)] {
        let Some(smtp) = Smtp::start_with(&[mode, &cert, &key]) else {
            return;
        };
        let mut account = smtp.account();
        account.security = security;
        let out = Outgoing {
            to: vec!["ann@example.com".into()],
            subject: format!("over {mode}"),
            text: Some("encrypted".into()),
            ..Outgoing::default()
        };
        // Without the private CA the server's certificate is not trusted: nothing is sent.
        let (msg, _) = build(&account, &allow(), &out).unwrap();
        let err = send(&account, msg).await.unwrap_err();
        assert!(matches!(err, EmailError::Send(_)), "{mode}: {err}");
        smtp.nothing_more();
        account.ca_pem = Some(ca.clone());
        let (msg, id) = build(&account, &allow(), &out).unwrap();
        send(&account, msg).await.unwrap();
        let got = smtp.next();
        assert_eq!(got["headers"]["Message-ID"], id.as_str(), "{mode}");
    }
    // STARTTLS is required, never skipped: a server that does not offer it gets nothing.
    let Some(plain) = Smtp::start() else { return };
    let mut account = plain.account();
    account.security = Security::StartTls;
    account.ca_pem = Some(ca);
    let out = Outgoing {
        to: vec!["ann@example.com".into()],
        subject: "downgrade".into(),
        text: Some("secret".into()),
        ..Outgoing::default()
    };
    let (msg, _) = build(&account, &allow(), &out).unwrap();
    assert!(send(&account, msg).await.is_err());
    plain.nothing_more();
}
