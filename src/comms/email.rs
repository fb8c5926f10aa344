//! Email for `send_email`: building a
//! correct MIME message (RFC 2047 for non-ASCII subjects and names, text and/or HTML,
//! attachments, reply threading) with `lettre`, refusing what could smuggle a header or a
//! recipient, checking recipients against an allowlist, rendering the exact bytes for a dry
//! run, and sending over SMTP (STARTTLS, implicit TLS, or plain for local relays).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// A refusal or failure, worded for the model.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{0} is not an allowed recipient (comms.email.allow); send only to allowed addresses, or ask the user to add it"
    )]
    NotAllowed(String),
    #[error("the mail server refused or failed: {0}")]
    Send(String),
    #[error(
        "the message has {count} recipients, over the {max} one message may have (comms.email.max_recipients); send fewer, or ask the user to raise the limit"
    )]
    TooManyRecipients { count: usize, max: usize },
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this machine or a trusted network.
    Plain,
}

/// One account's server and identity.
#[derive(Debug, Clone)]
pub struct Account {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Username and password (from the environment), when the server wants a login.
    pub login: Option<(String, String)>,
    pub from: Mailbox,
    pub timeout: Duration,
    /// A PEM certificate trusted for this server besides the system's roots (a private CA).
    pub ca_pem: Option<Vec<u8>>,
}

/// A file to attach, already read through the path policy.
#[derive(Debug, Clone)]
pub struct FileAttachment {
    pub name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// What the caller wants sent.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub attachments: Vec<FileAttachment>,
    /// The Message-ID being answered (threading).
    pub in_reply_to: Option<String>,
    /// The thread's Message-IDs, oldest first.
    pub references: Vec<String>,
}

/// Who may receive mail: `*@example.com` (a whole domain) or exact addresses (an empty list
/// allows only the account's own address), and how many one message may have.
#[derive(Debug, Clone)]
pub struct Allow {
    patterns: Vec<String>,
    /// Recipients of one message, To, Cc and Bcc together (`comms.email.max_recipients`).
    max: usize,
}

impl Default for Allow {
    fn default() -> Self {
        Self::new(&[])
    }
}

/// Recipients one message may have unless the config says otherwise.
pub const MAX_RECIPIENTS: usize = 20;

impl Allow {
    pub fn new(patterns: &[String]) -> Self {
        Self {
            patterns: patterns.iter().map(|p| p.trim().to_lowercase()).collect(),
            max: MAX_RECIPIENTS,
        }
    }

    /// At most `max` recipients per message.
    pub fn at_most(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    pub fn admits(&self, address: &str, own: &str) -> bool {
        let a = address.to_lowercase();
        if self.patterns.is_empty() {
            return a == own.to_lowercase();
        }
        self.patterns.iter().any(|p| match p.strip_prefix("*@") {
            Some(domain) => a.rsplit_once('@').is_some_and(|(_, d)| d == domain),
            None => *p == a,
        })
    }
}

/// A header value must not hold CR, LF or NUL: each could start a header of its own (a `Bcc:`
/// smuggled into a subject) or end the message early.
pub fn check_header(what: &str, value: &str) -> Result<(), EmailError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(EmailError::Invalid(format!(
            "{what} contains a line break or NUL, which a header cannot hold; put it on one line"
        )));
    }
    Ok(())
}

fn mailbox(what: &str, s: &str) -> Result<Mailbox, EmailError> {
    check_header(what, s)?;
    s.trim().parse::<Mailbox>().map_err(|e| {
        EmailError::Invalid(format!(
            "{what} `{s}` is not an address ({e}); write `name@example.com` or `Name <name@example.com>`"
        ))
    })
}

fn message_id(id: &str, what: &str) -> Result<String, EmailError> {
    check_header(what, id)?;
    let id = id.trim();
    let bare = id.trim_start_matches('<').trim_end_matches('>');
    if bare.is_empty() || !bare.contains('@') || bare.contains(['<', '>', ' ']) {
        return Err(EmailError::Invalid(format!(
            "{what} `{id}` is not a Message-ID; give it as `<id@host>`"
        )));
    }
    Ok(format!("<{bare}>"))
}

/// A new Message-ID on the sender's domain.
fn new_message_id(from: &Mailbox) -> String {
    let domain = from.email.domain();
    format!("<{}.switchboard@{domain}>", crate::support::unique_hex())
}

/// Builds the message after every check: headers free of line breaks, addresses valid and
/// allowed, a body given. Returns it with its Message-ID.
pub fn build(
    account: &Account,
    allow: &Allow,
    out: &Outgoing,
) -> Result<(Message, String), EmailError> {
    check_header("the subject", &out.subject)?;
    if out.to.is_empty() && out.cc.is_empty() && out.bcc.is_empty() {
        return Err(EmailError::Invalid(
            "no recipient: give at least one address in to, cc or bcc".into(),
        ));
    }
    let count = out.to.len() + out.cc.len() + out.bcc.len();
    if count > allow.max {
        return Err(EmailError::TooManyRecipients {
            count,
            max: allow.max,
        });
    }
    if out.text.is_none() && out.html.is_none() {
        return Err(EmailError::Invalid(
            "no body: give text, html or both".into(),
        ));
    }
    let own = account.from.email.to_string();
    let mut b = Message::builder().from(account.from.clone());
    let mut lists: [(&str, Mailboxes); 3] = [
        ("to", Mailboxes::new()),
        ("cc", Mailboxes::new()),
        ("bcc", Mailboxes::new()),
    ];
    for ((what, list), given) in lists.iter_mut().zip([&out.to, &out.cc, &out.bcc]) {
        for s in given {
            let m = mailbox(&format!("the {what} address"), s)?;
            if !allow.admits(m.email.as_ref(), &own) {
                return Err(EmailError::NotAllowed(m.email.to_string()));
            }
            *list = std::mem::take(list).with(m);
        }
    }
    let [(_, to), (_, cc), (_, bcc)] = lists;
    for m in to {
        b = b.to(m);
    }
    for m in cc {
        b = b.cc(m);
    }
    for m in bcc {
        b = b.bcc(m);
    }
    let id = new_message_id(&account.from);
    b = b.subject(out.subject.clone()).message_id(Some(id.clone()));
    if let Some(r) = &out.in_reply_to {
        b = b.in_reply_to(message_id(r, "in_reply_to")?);
    }
    if !out.references.is_empty() {
        let refs = out
            .references
            .iter()
            .map(|r| message_id(r, "references"))
            .collect::<Result<Vec<_>, _>>()?;
        b = b.references(refs.join(" "));
    }
    // One part when there is one body, an alternative when there are two; attachments wrap
    // either in one mixed part (never a mixed part inside another).
    let alternative = match (&out.text, &out.html) {
        (Some(t), Some(h)) => Ok(MultiPart::alternative_plain_html(t.clone(), h.clone())),
        (Some(t), None) => Err(SinglePart::plain(t.clone())),
        (None, Some(h)) => Err(SinglePart::html(h.clone())),
        (None, None) => unreachable!("checked above"),
    };
    let built = if out.attachments.is_empty() {
        match alternative {
            Ok(m) => b.multipart(m),
            Err(s) => b.singlepart(s),
        }
    } else {
        let mut mixed = match alternative {
            Ok(m) => MultiPart::mixed().multipart(m),
            Err(s) => MultiPart::mixed().singlepart(s),
        };
        for a in &out.attachments {
            check_header("an attachment's name", &a.name)?;
            let ct = ContentType::parse(&a.mime)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").unwrap());
            mixed = mixed.singlepart(Attachment::new(a.name.clone()).body(a.bytes.clone(), ct));
        }
        b.multipart(mixed)
    };
    let msg =
        built.map_err(|e| EmailError::Invalid(format!("the message cannot be built: {e}")))?;
    Ok((msg, id))
}

/// The exact bytes that would be sent (a dry run shows these).
pub fn render(msg: &Message) -> String {
    String::from_utf8_lossy(&msg.formatted()).into_owned()
}

/// Sends over SMTP as the account; one connection, one transaction.
pub async fn send(account: &Account, msg: Message) -> Result<(), EmailError> {
    let send_err = |e: lettre::transport::smtp::Error| EmailError::Send(e.to_string());
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&account.host)
        .port(account.port)
        .timeout(Some(account.timeout));
    if account.security != Security::Plain {
        let mut tls = TlsParameters::builder(account.host.clone());
        if let Some(pem) = &account.ca_pem {
            tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(send_err)?);
        }
        let tls = tls.build_rustls().map_err(send_err)?;
        // STARTTLS must succeed before anything else is said: no downgrade to plain text.
        builder = builder.tls(match account.security {
            Security::StartTls => Tls::Required(tls),
            _ => Tls::Wrapper(tls),
        });
    }
    if let Some((user, pass)) = &account.login {
        builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    let transport = builder.build();
    transport
        .send(msg)
        .await
        .map(|_| ())
        .map_err(|e| EmailError::Send(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            host: "127.0.0.1".into(),
            port: 25,
            security: Security::Plain,
            login: None,
            from: "Reports Bot <bot@example.com>".parse().unwrap(),
            timeout: Duration::from_secs(5),
            ca_pem: None,
        }
    }

    fn mail(to: &str) -> Outgoing {
        Outgoing {
            to: vec![to.into()],
            subject: "Weekly report".into(),
            text: Some("All good.".into()),
            ..Outgoing::default()
        }
    }

    #[test]
    fn the_allowlist_admits_domains_and_exact_addresses() {
        let allow = Allow::new(&["*@Example.com".into(), "me@x.org".into()]);
        assert!(allow.admits("Ann@example.COM", "bot@example.com"));
        assert!(allow.admits("me@x.org", "bot@example.com"));
        assert!(!allow.admits("me@evil-example.com", "bot@example.com"));
        assert!(!allow.admits("you@x.org", "bot@example.com"));
        let none = Allow::new(&[]);
        assert!(none.admits("BOT@example.com", "bot@example.com"));
        assert!(!none.admits("ann@example.com", "bot@example.com"));
    }

    #[test]
    fn injected_headers_and_unlisted_recipients_are_refused() {
        let allow = Allow::new(&["*@example.com".into()]);
        let mut m = mail("ann@example.com");
        m.subject = "hi\r\nBcc: spy@evil.test".into();
        assert!(matches!(
            build(&account(), &allow, &m),
            Err(EmailError::Invalid(_))
        ));
        let m = mail("ann@example.com\r\nBcc: spy@evil.test");
        assert!(build(&account(), &allow, &m).is_err());
        let m = mail("spy@evil.test");
        assert!(matches!(
            build(&account(), &allow, &m),
            Err(EmailError::NotAllowed(_))
        ));
        let mut m = mail("ann@example.com");
        m.bcc = vec!["spy@evil.test".into()];
        assert!(matches!(
            build(&account(), &allow, &m),
            Err(EmailError::NotAllowed(_))
        ));
        let mut m = mail("ann@example.com");
        m.in_reply_to = Some("<a@b>\r\nX-Evil: 1".into());
        assert!(build(&account(), &allow, &m).is_err());
    }

    #[test]
    fn the_rendered_message_encodes_and_threads() {
        let allow = Allow::new(&["*@example.com".into()]);
        let mut m = mail("Zoë Müller <zoe@example.com>");
        m.subject = "Rapport über Q3 ✓".into();
        m.in_reply_to = Some("orig@example.com".into());
        m.references = vec!["<first@example.com>".into(), "orig@example.com".into()];
        m.bcc = vec!["hidden@example.com".into()];
        let (msg, id) = build(&account(), &allow, &m).unwrap();
        let text = render(&msg);
        assert!(text.contains(&format!("Message-ID: {id}")), "{text}");
        assert!(text.contains("In-Reply-To: <orig@example.com>"), "{text}");
        assert!(
            text.contains("References: <first@example.com> <orig@example.com>"),
            "{text}"
        );
        let subject = text.lines().find(|l| l.starts_with("Subject: ")).unwrap();
        assert!(subject.contains("=?utf-8?b?"), "RFC 2047: {subject}");
        assert!(
            !text.contains("hidden@example.com"),
            "Bcc is not in the headers"
        );
        assert!(text.is_ascii(), "headers and bodies are encoded: {text}");
        let rcpt: Vec<String> = msg.envelope().to().iter().map(|a| a.to_string()).collect();
        assert!(rcpt.contains(&"hidden@example.com".to_owned()));
    }
}
