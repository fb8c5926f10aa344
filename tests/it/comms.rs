//! The email layer (`switchboard::comms::email`) against a real SMTP server on loopback
//! (`tests/comms/smtp.py`, aiosmtpd), whose own parser reads what arrived: encodings,
//! attachments, threading, Bcc, and the injection cases failing safe.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use switchboard::comms::email::{
    Account, Allow, EmailError, FileAttachment, Outgoing, Security, build, send,
};

struct Smtp {
    port: u16,
    messages: Receiver<Value>,
    _child: Child,
}

impl Smtp {
    fn start() -> Option<Self> {
        let py = crate::clients::installed("SWITCHBOARD_TEST_PYTHON", "aiosmtpd")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/comms/smtp.py");
        let mut child = Command::new(py)
            .arg(script)
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
        Some(Self {
            port: first["port"].as_u64().unwrap() as u16,
            messages: rx,
            _child: child,
        })
    }

    fn next(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(10))
            .expect("a message reached the server")
    }

    fn nothing_more(&self) {
        assert!(
            self.messages
                .recv_timeout(Duration::from_millis(300))
                .is_err(),
            "no other message arrived"
        );
    }

    fn account(&self) -> Account {
        Account {
            host: "127.0.0.1".into(),
            port: self.port,
            security: Security::Plain,
            login: None,
            from: "Reports Bot <bot@example.com>".parse().unwrap(),
            timeout: Duration::from_secs(10),
        }
    }
}

fn allow() -> Allow {
    Allow::new(&["*@example.com".into()])
}

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
