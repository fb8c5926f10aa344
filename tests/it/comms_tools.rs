//! The communication tools through a real MCP client: `send_email` to a real SMTP server with an
//! attachment from the roots, `send_webhook` and `send_push` to a loopback receiver, the user's
//! confirmation (a client that accepts, one that declines, one that cannot ask; on the
//! initialize-era protocol and on 2026-07-28 with `input_required`), rate limits, dry runs, the
//! outbox, and `notify_desktop` against a real session bus and notification daemon (or its
//! clear error where none can run).

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use switchboard::comms::email::Allow;
use switchboard::comms::push::Ntfy;
use switchboard::comms::webhook::Kind;
use switchboard::config::Settings;
use switchboard::config::comms::{Confirm, EmailAccount, Rate, Webhook};
use switchboard::policy::net::AllowEntry;

use crate::comms::{Hooks, SECRET, Smtp};
use crate::harness::{Project, Session, TestClient, session_modern, session_with, text};

fn with_email(p: &Project, smtp: &Smtp) -> Settings {
    let mut s = p.settings();
    s.comms.allow = Allow::new(&["*@example.com".into()]);
    s.comms.accounts.push(EmailAccount {
        name: "relay".into(),
        account: smtp.account(),
    });
    s
}

fn with_hooks(mut s: Settings, h: &Hooks) -> Settings {
    s.comms.webhooks = vec![
        Webhook {
            hook: h.hook("/generic", Kind::Generic, true),
            description: Some("the deploy bot".into()),
        },
        Webhook {
            hook: h.hook("/slack", Kind::Slack, false),
            description: None,
        },
    ];
    s.comms.ntfy = Some(Ntfy {
        server: format!("http://127.0.0.1:{}/ntfy", h.port),
        topic: "phone".into(),
        token: Some("tk_test".into()),
    });
    s.web.net.rules.allow = vec![AllowEntry::parse(&format!("127.0.0.1:{}", h.port)).unwrap()];
    s
}

fn client(elicit: Option<bool>) -> TestClient {
    TestClient {
        elicit,
        ..TestClient::default()
    }
}

fn mail(extra: Value) -> Value {
    let mut v = json!({
        "to": ["Ann <ann@example.com>"],
        "subject": "Weekly report",
        "text": "The report is attached.",
        "attachments": ["report.csv"],
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

async fn outbox(s: &Session) -> Vec<Value> {
    s.ok("comms_outbox", json!({}))
        .await
        .get("entries")
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn an_accepted_email_arrives_with_its_attachment_and_is_in_the_outbox() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    p.write("report.csv", "week,total\n47,1200\n");
    let c = client(Some(true));
    let asked = c.asked.clone();
    let s = session_with(with_email(&p, &smtp), c).await;
    let names = s.tool_names().await;
    assert!(names.contains(&"send_email".to_owned()));
    assert!(
        !names.contains(&"send_push".to_owned()),
        "nothing to push to, no tool"
    );
    let out = s.ok("send_email", mail(json!({}))).await;
    assert_eq!(out["sent"], true);
    let got = smtp.next();
    assert_eq!(got["headers"]["Message-ID"], out["message_id"]);
    assert_eq!(got["rcpt_tos"], json!(["ann@example.com"]));
    let att = &got["attachments"][0];
    assert_eq!(att["filename"], "report.csv");
    let data = base64::engine::general_purpose::STANDARD
        .decode(att["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, b"week,total\n47,1200\n");
    // The user saw who, what and the attachment before it went.
    let q = asked.lock().unwrap().join("\n");
    for part in ["Ann <ann@example.com>", "Weekly report", "report.csv"] {
        assert!(q.contains(part), "{q}");
    }
    let entries = outbox(&s).await;
    assert_eq!(entries[0]["status"], "sent");
    assert_eq!(entries[0]["detail"], out["message_id"]);
    assert_eq!(entries[0]["recipients"], json!(["ann@example.com"]));
    assert!(entries[0].get("body").is_none(), "bodies are not kept");
    smtp.nothing_more();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn declined_or_unaskable_sends_send_nothing() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    p.write("report.csv", "x\n");
    let s = session_with(with_email(&p, &smtp), client(Some(false))).await;
    let e = s.err("send_email", mail(json!({}))).await;
    assert!(e.contains("nothing was sent: the user declined"), "{e}");
    assert_eq!(outbox(&s).await[0]["status"], "declined");
    // A host without elicitation: refused, with how to enable sending.
    let s = session_with(with_email(&p, &smtp), client(None)).await;
    let e = s.err("send_email", mail(json!({}))).await;
    assert!(e.contains("comms.confirm: never"), "{e}");
    smtp.nothing_more();
    // ... which, once set, sends without asking.
    let mut settings = with_email(&p, &smtp);
    settings.comms.confirm = Confirm::Never;
    let s = session_with(settings, client(None)).await;
    s.ok("send_email", mail(json!({}))).await;
    smtp.next();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn the_2026_protocol_asks_through_input_required() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    p.write("report.csv", "x\n");
    let c = client(Some(true));
    let asked = c.asked.clone();
    let s = session_modern(with_email(&p, &smtp), c).await;
    let out = s.ok("send_email", mail(json!({}))).await;
    assert_eq!(out["sent"], true);
    assert_eq!(smtp.next()["headers"]["Message-ID"], out["message_id"]);
    assert!(asked.lock().unwrap()[0].contains("Weekly report"));
    let s = session_modern(with_email(&p, &smtp), client(Some(false))).await;
    let e = s.err("send_email", mail(json!({}))).await;
    assert!(e.contains("declined"), "{e}");
    smtp.nothing_more();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn an_answer_approves_only_the_arguments_it_was_asked_about() {
    use rmcp::model::{CallToolRequestParams, CallToolResponse};
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    p.write("report.csv", "x\n");
    let s = session_modern(with_email(&p, &smtp), client(Some(true))).await;
    let call = |args: Value, state: Option<String>| {
        let mut r = CallToolRequestParams::new("send_email")
            .with_arguments(args.as_object().unwrap().clone());
        if let Some(st) = state {
            r = r
                .with_request_state(st)
                .with_input_responses([("confirm".to_owned(), json!({"action": "accept"}))].into());
        }
        r
    };
    let first = s
        .client
        .call_tool_once(call(mail(json!({})), None))
        .await
        .unwrap();
    let CallToolResponse::InputRequired(ask) = first else {
        panic!("expected input_required, got {first:?}")
    };
    let handle = ask.request_state.clone().unwrap();
    // The same handle with other recipients is not an approval: it asks again.
    let other = mail(json!({"to": ["boss@example.com"]}));
    let again = s
        .client
        .call_tool_once(call(other, Some(handle.clone())))
        .await
        .unwrap();
    assert!(
        matches!(again, CallToolResponse::InputRequired(_)),
        "{again:?}"
    );
    smtp.nothing_more();
    // And a handle is used once: it was spent on the mismatch above.
    let replay = s
        .client
        .call_tool_once(call(mail(json!({})), Some(handle)))
        .await
        .unwrap();
    assert!(
        matches!(replay, CallToolResponse::InputRequired(_)),
        "{replay:?}"
    );
    smtp.nothing_more();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn dry_runs_limits_and_the_policy_hold_for_email() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    p.write("report.csv", "x\n");
    let mut settings = with_email(&p, &smtp);
    settings.comms.confirm = Confirm::Never;
    settings.comms.rates.insert(
        "send_email",
        Rate {
            max: 1,
            per: Duration::from_secs(3600),
        },
    );
    let s = session_with(settings, client(None)).await;
    let dry = s.ok("send_email", mail(json!({"dry_run": true}))).await;
    assert_eq!(dry["sent"], false);
    let m = dry["message"].as_str().unwrap();
    assert!(
        m.contains("Subject: Weekly report") && m.contains("report.csv"),
        "{m}"
    );
    smtp.nothing_more();
    // The allowlist, injection and the path policy refuse before anything is sent.
    let e = s
        .err("send_email", mail(json!({"bcc": ["spy@evil.test"]})))
        .await;
    assert!(
        e.contains("spy@evil.test is not an allowed recipient"),
        "{e}"
    );
    let e = s
        .err(
            "send_email",
            mail(json!({"subject": "hi\r\nBcc: spy@evil.test"})),
        )
        .await;
    assert!(e.contains("line break"), "{e}");
    let e = s
        .err(
            "send_email",
            mail(json!({"attachments": ["../project_evil/secret.txt"]})),
        )
        .await;
    assert!(e.contains("outside"), "{e}");
    smtp.nothing_more();
    // One send an hour: the second is refused with when to try again.
    s.ok("send_email", mail(json!({}))).await;
    smtp.next();
    let e = s.err("send_email", mail(json!({}))).await;
    assert!(e.contains("rate limit (1 sends per 1 h)"), "{e}");
    smtp.nothing_more();
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn webhooks_and_pushes_go_only_to_configured_places() {
    let Some(smtp) = Smtp::start() else { return };
    let Some(h) = Hooks::start() else { return };
    let p = Project::new();
    let mut settings = with_hooks(with_email(&p, &smtp), &h);
    settings.comms.keep_bodies = true;
    let c = client(Some(true));
    let asked = c.asked.clone();
    let s = session_with(settings, c).await;
    let out = s
        .ok(
            "send_webhook",
            json!({"webhook": "generic", "title": "Deploy", "text": "v1.2 is live", "data": {"v": "1.2"}}),
        )
        .await;
    assert_eq!(
        (out["sent"].clone(), out["status"].clone()),
        (json!(true), json!(200))
    );
    let got = h.next();
    assert_eq!(got["verified"], true, "signed with {SECRET}: {got}");
    assert_eq!(got["body"]["data"]["v"], "1.2");
    assert!(asked.lock().unwrap()[0].contains("the deploy bot"));
    s.ok(
        "send_webhook",
        json!({"webhook": "slack", "text": "<!channel> done"}),
    )
    .await;
    assert_eq!(h.next()["body"]["text"], "&lt;!channel&gt; done");
    // Never a URL, never an unknown name.
    let e = s
        .err(
            "send_webhook",
            json!({"webhook": "https://evil.test/x", "text": "hi"}),
        )
        .await;
    assert!(
        e.contains("no webhook") && e.contains("generic, slack"),
        "{e}"
    );
    let r = s
        .call(
            "send_webhook",
            json!({"webhook": "slack", "text": "x", "url": "http://evil.test"}),
        )
        .await;
    assert_eq!(r.is_error, Some(true), "{}", text(&r));
    let out = s
        .ok(
            "send_push",
            json!({"title": "CI", "message": "Build 42 failed", "priority": 4, "tags": ["warning"]}),
        )
        .await;
    assert_eq!(out["id"], "msg1");
    let got = h.next();
    assert_eq!(got["body"]["topic"], "phone");
    assert_eq!(got["body"]["priority"], 4);
    let dry = s
        .ok("send_push", json!({"message": "m", "dry_run": true}))
        .await;
    assert_eq!(dry["payload"]["message"], "m");
    let entries = outbox(&s).await;
    let tools: Vec<&str> = entries
        .iter()
        .map(|e| e["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["send_push", "send_webhook", "send_webhook"]);
    assert_eq!(entries[0]["body"], "Build 42 failed", "kept_bodies");
}

/// A session bus with dunst (from Debian) on a virtual X display, when the test script
/// installed them (`SWITCHBOARD_TEST_DESKTOP`); then failing to start them fails the test.
struct Desktop {
    children: Vec<std::process::Child>,
    bus: String,
    _dir: tempfile::TempDir,
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn desktop() -> Option<Desktop> {
    use std::process::{Command, Stdio};
    std::env::var_os("SWITCHBOARD_TEST_DESKTOP")?;
    let dir = tempfile::tempdir().unwrap();
    let mut children = Vec::new();
    // Xvfb picks a free display and writes its number once it accepts clients: the signal
    // (dunst started before it would exit at once).
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("SWITCHBOARD_TEST_DESKTOP is set, so the desktop programs are installed");
    let mut number = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(xvfb.stdout.take().unwrap()),
        &mut number,
    )
    .unwrap();
    assert!(!number.trim().is_empty(), "Xvfb did not say its display");
    let display = format!(":{}", number.trim());
    children.push(xvfb);
    let bus = format!("unix:path={}/bus", dir.path().display());
    // dbus-daemon prints its address once it accepts connections: that line is the signal.
    let mut daemon = Command::new("dbus-daemon")
        .args([
            "--session",
            "--nofork",
            "--print-address",
            "--address",
            &bus,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("SWITCHBOARD_TEST_DESKTOP is set, so the desktop programs are installed");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(daemon.stdout.take().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert!(ready.starts_with("unix:"), "dbus-daemon: {ready}");
    children.push(daemon);
    children.push(
        Command::new("dunst")
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("SWITCHBOARD_TEST_DESKTOP is set, so the desktop programs are installed"),
    );
    // Ready when dunst owns the notification name on the bus (it can take seconds on a busy
    // machine): the bus says so.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let owned = Command::new("dbus-send")
            .args([
                &format!("--bus={bus}"),
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.Notifications",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false);
        if owned {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dunst did not own org.freedesktop.Notifications within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Desktop {
        children,
        bus,
        _dir: dir,
    })
}

#[test]
fn desktop_notifications_reach_a_real_daemon_or_fail_clearly() {
    use crate::harness::Proc;
    let d = desktop();
    let bus = d.as_ref().map_or_else(
        || "unix:path=/nonexistent/bus".to_owned(),
        |d| d.bus.clone(),
    );
    let p = Project::new();
    let root = p.root.display().to_string();
    let mut proc = Proc::spawn_env(&["--root", &root], &[("DBUS_SESSION_BUS_ADDRESS", &bus)]);
    proc.initialize();
    let call = |proc: &mut Proc, id: i64| {
        proc.request(
            id,
            "tools/call",
            json!({"name": "notify_desktop", "arguments": {"title": "Build done", "body": "<b>42</b> passed & <a href='x'>ok</a>"}}),
        )
    };
    let dry = proc.request(
        1_000,
        "tools/call",
        json!({"name": "notify_desktop", "arguments": {"title": "T", "body": "<b>x</b>", "dry_run": true}}),
    );
    assert_eq!(
        dry["result"]["structuredContent"]["notification"]["body"], "&lt;b&gt;x&lt;/b&gt;",
        "{dry}"
    );
    let Some(d) = d else {
        let r = call(&mut proc, 2);
        assert_eq!(r["result"]["isError"], true, "{r}");
        let msg = r["result"]["content"][0]["text"].as_str().unwrap();
        assert!(
            msg.contains("no desktop notification service answered"),
            "{msg}"
        );
        return;
    };
    // dunst may take a moment to own its name on the bus.
    let mut shown = Value::Null;
    for id in 2..40 {
        let r = call(&mut proc, id);
        if r["result"]["isError"] != true {
            shown = r;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        shown["result"]["structuredContent"]["shown"], true,
        "{shown}"
    );
    let history = std::process::Command::new("dunstctl")
        .arg("history")
        .env("DBUS_SESSION_BUS_ADDRESS", &d.bus)
        .output()
        .unwrap();
    let h = String::from_utf8_lossy(&history.stdout);
    // dunst keeps the shown ones in its history only after they close; ask it directly too.
    let listed = std::process::Command::new("dunstctl")
        .arg("count")
        .arg("displayed")
        .env("DBUS_SESSION_BUS_ADDRESS", &d.bus)
        .output()
        .unwrap();
    let displayed: u32 = String::from_utf8_lossy(&listed.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(
        displayed >= 1 || h.contains("Build done"),
        "dunst shows it: displayed {displayed}, history {h}"
    );
}

/// Through the real binary, what a person reads is what was sent: notification text loses
/// terminal escapes, control characters and direction overrides and gets the sender in front;
/// sizes and recipients are capped with reason codes; the confirmation (an `elicitation/create`
/// the host answers) shows the whole message up to its cap and says how much is not shown.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn messages_are_shown_as_sent_and_capped() {
    use crate::harness::Proc;
    let Some(smtp) = Smtp::start() else { return };
    let Some(h) = Hooks::start() else { return };
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "comms:\n  confirm_max_chars: 1000\n  rate_limits:\n    send_email: {{max: 100, per_secs: 1}}\n    send_push: {{max: 100, per_secs: 1}}\n  email:\n    allow: [\"*@example.com\"]\n    accounts:\n      relay: {{host: 127.0.0.1, port: {}, security: plain, from: \"Bot <bot@example.com>\"}}\n  ntfy: {{server: \"http://127.0.0.1:{}/ntfy\", topic: phone, token: \"env:SB_NTFY_TOKEN\"}}\nweb:\n  allow: [\"127.0.0.1:{}\"]\n",
            smtp.port, h.port, h.port
        ),
    )
    .unwrap();
    let mut proc = Proc::spawn_env(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--root",
            p.root.to_str().unwrap(),
        ],
        &[("SB_NTFY_TOKEN", "tk_test")],
    );
    let r = proc.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
               "clientInfo": {"name": "e2e", "version": "1"}}),
    );
    assert!(r.get("result").is_some(), "{r}");
    proc.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
    // Calls a tool, answering the confirmation with "send"; returns the result and the question.
    let mut call = |id: i64, name: &str, args: Value| -> (Value, Option<String>) {
        proc.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": args}})
                .to_string(),
        );
        let mut asked = None;
        loop {
            let v = proc.recv();
            if v["method"] == "elicitation/create" {
                asked = v["params"]["message"].as_str().map(str::to_owned);
                proc.send(
                    &json!({"jsonrpc": "2.0", "id": v["id"], "result": {"action": "accept", "content": {"send": true}}})
                        .to_string(),
                );
            } else if v["id"] == id {
                return (v, asked);
            }
        }
    };
    let reason = |r: &Value| r["result"]["_meta"]["switchboard/reason"].clone();
    let (r, _) = call(
        2,
        "send_push",
        json!({"title": "CI \u{202e}lia\u{1b}[2J", "message": "done\u{1b}]0;pwned\u{7}\u{0} ok"}),
    );
    assert_ne!(r["result"]["isError"], true, "{r}");
    let got = h.next();
    assert_eq!(got["body"]["title"], "switchboard: CI lia", "{got}");
    assert_eq!(got["body"]["message"], "done ok", "{got}");
    let (big, _) = call(3, "send_push", json!({"message": "x".repeat(1 << 20)}));
    assert_eq!(reason(&big), "message_too_large", "{big}");
    assert!(big.to_string().contains("comms.max_notification_bytes"));
    let many: Vec<String> = (0..25).map(|i| format!("u{i}@example.com")).collect();
    let (r, _) = call(
        4,
        "send_email",
        json!({"to": many, "subject": "s", "text": "t"}),
    );
    assert_eq!(reason(&r), "too_many_recipients", "{r}");
    assert!(r.to_string().contains("comms.email.max_recipients"));
    smtp.nothing_more();
    // A long body: the question holds all of what it can show and says what it leaves out.
    let body = format!("{}TAIL", "a".repeat(1500));
    let (r, asked) = call(
        5,
        "send_email",
        json!({"to": ["ann@example.com"], "subject": "s", "text": body}),
    );
    assert_ne!(r["result"]["isError"], true, "{r}");
    smtp.next();
    let q = asked.expect("the user was asked");
    assert!(q.contains(&"a".repeat(1000)), "{q}");
    assert!(!q.contains("TAIL"), "{q}");
    assert!(
        q.contains("504 more characters of the 1504 are not shown"),
        "{q}"
    );
}
