//! The outbox: every send attempt, its outcome, and (only with `comms.keep_bodies`) its body, in
//! a SQLite file of the profile. It is also what rate limits count, so a limit holds across
//! restarts and across several switchboard processes of one profile: a send takes its slot in
//! one `BEGIN IMMEDIATE` transaction that counts and inserts together.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends(
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    recipients TEXT NOT NULL DEFAULT '[]',
    subject TEXT,
    status TEXT NOT NULL,
    detail TEXT,
    body TEXT
);
CREATE INDEX IF NOT EXISTS sends_tool_at ON sends(tool, at_ms);
";

/// Statuses that took a rate-limit slot: the message went out, or may have.
const COUNTED: &str = "status IN ('pending', 'sent', 'failed')";

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(
        "{tool} reached its rate limit ({max} sends per {per}); the next slot frees in {wait_secs} s. Wait, or combine messages into fewer sends"
    )]
    RateLimited {
        tool: String,
        max: u32,
        per: String,
        wait_secs: u64,
    },
    #[error("the outbox database failed: {0}")]
    Db(#[from] rusqlite::Error),
}

/// What a send was, as the outbox records it.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub tool: String,
    /// The account, webhook, ntfy topic, or `desktop`.
    pub target: String,
    pub recipients: Vec<String>,
    pub subject: Option<String>,
    /// The message text; the send path drops it unless `comms.keep_bodies` is set.
    pub body: Option<String>,
}

/// One row as `comms_outbox` shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Entry {
    pub id: i64,
    /// When it was attempted (RFC 3339, UTC).
    pub at: String,
    pub tool: String,
    pub target: String,
    pub recipients: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `pending` (under way, or the process stopped meanwhile), `sent`, `failed` or `declined`
    /// (the user said no).
    pub status: String,
    /// The Message-ID, HTTP status, ntfy id or error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

pub struct Outbox {
    conn: Connection,
    keep: u64,
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 3600 == 0 && s >= 3600 => format!("{} h", s / 3600),
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

impl Outbox {
    pub fn open(path: &Path, keep: u64) -> Result<Self, OutboxError> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn, keep })
    }

    fn slot_check(
        conn: &Connection,
        tool: &str,
        max: u32,
        per: Duration,
        now: SystemTime,
    ) -> Result<(), OutboxError> {
        let since = ms(now) - per.as_millis() as i64;
        let used: i64 = conn.query_row(
            &format!("SELECT count(*) FROM sends WHERE tool = ?1 AND at_ms > ?2 AND {COUNTED}"),
            params![tool, since],
            |r| r.get(0),
        )?;
        if used < i64::from(max) {
            return Ok(());
        }
        // The slot frees when the oldest send still inside the window leaves it.
        let oldest: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT at_ms FROM sends WHERE tool = ?1 AND at_ms > ?2 AND {COUNTED} \
                     ORDER BY at_ms DESC LIMIT 1 OFFSET ?3"
                ),
                params![tool, since, i64::from(max) - 1],
                |r| r.get(0),
            )
            .optional()?;
        let frees_at = oldest.unwrap_or(ms(now)) + per.as_millis() as i64;
        Err(OutboxError::RateLimited {
            tool: tool.to_owned(),
            max,
            per: human(per),
            wait_secs: ((frees_at - ms(now)).max(0) as u64).div_ceil(1000).max(1),
        })
    }

    /// Whether `tool` has a free slot now (checked before asking the user, so nobody confirms
    /// a send that would be refused).
    pub fn check(
        &self,
        tool: &str,
        max: u32,
        per: Duration,
        now: SystemTime,
    ) -> Result<(), OutboxError> {
        Self::slot_check(&self.conn, tool, max, per, now)
    }

    /// Takes a slot and records the attempt as pending, in one transaction; returns its id.
    pub fn reserve(
        &mut self,
        a: &Attempt,
        max: u32,
        per: Duration,
        now: SystemTime,
    ) -> Result<i64, OutboxError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Self::slot_check(&tx, &a.tool, max, per, now)?;
        let id = Self::insert(&tx, a, "pending", None, now)?;
        tx.commit()?;
        Ok(id)
    }

    fn insert(
        conn: &Connection,
        a: &Attempt,
        status: &str,
        detail: Option<&str>,
        now: SystemTime,
    ) -> Result<i64, OutboxError> {
        conn.execute(
            "INSERT INTO sends(at_ms, tool, target, recipients, subject, status, detail, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                ms(now),
                a.tool,
                a.target,
                serde_json::to_string(&a.recipients).unwrap_or_else(|_| "[]".into()),
                a.subject,
                status,
                detail,
                a.body,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Records an attempt that took no slot (the user declined it).
    pub fn record(
        &mut self,
        a: &Attempt,
        status: &str,
        detail: Option<&str>,
    ) -> Result<(), OutboxError> {
        Self::insert(&self.conn, a, status, detail, SystemTime::now())?;
        self.prune()
    }

    /// Sets the outcome of a reserved attempt.
    pub fn finish(&mut self, id: i64, status: &str, detail: &str) -> Result<(), OutboxError> {
        self.conn.execute(
            "UPDATE sends SET status = ?2, detail = ?3 WHERE id = ?1",
            params![id, status, detail],
        )?;
        self.prune()
    }

    fn prune(&mut self) -> Result<(), OutboxError> {
        self.conn.execute(
            "DELETE FROM sends WHERE id <= (SELECT id FROM sends ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            params![self.keep as i64],
        )?;
        Ok(())
    }

    /// The most recent attempts first, optionally of one tool; with the total.
    pub fn recent(
        &self,
        tool: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Entry>, usize), OutboxError> {
        let total: i64 = self.conn.query_row(
            "SELECT count(*) FROM sends WHERE ?1 IS NULL OR tool = ?1",
            params![tool],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn.prepare(
            "SELECT id, at_ms, tool, target, recipients, subject, status, detail, body FROM sends \
             WHERE ?1 IS NULL OR tool = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(params![tool, limit as i64, offset as i64], |r| {
            let at: i64 = r.get(1)?;
            let recipients: String = r.get(4)?;
            Ok(Entry {
                id: r.get(0)?,
                at: crate::support::time::rfc3339(
                    SystemTime::UNIX_EPOCH + Duration::from_millis(at.max(0) as u64),
                ),
                tool: r.get(2)?,
                target: r.get(3)?,
                recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                subject: r.get(5)?,
                status: r.get(6)?,
                detail: r.get(7)?,
                body: r.get(8)?,
            })
        })?;
        Ok((rows.collect::<Result<_, _>>()?, total as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(tool: &str) -> Attempt {
        Attempt {
            tool: tool.into(),
            target: "work".into(),
            recipients: vec!["ann@example.com".into()],
            subject: Some("Hi".into()),
            body: None,
        }
    }

    #[test]
    fn slots_are_counted_per_tool_and_window_and_free_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::open(&dir.path().join("outbox.db"), 100).unwrap();
        let t0 = SystemTime::now();
        let per = Duration::from_secs(60);
        let a = o.reserve(&attempt("send_email"), 2, per, t0).unwrap();
        o.finish(a, "sent", "<id@x>").unwrap();
        let b = o
            .reserve(&attempt("send_email"), 2, per, t0 + Duration::from_secs(10))
            .unwrap();
        o.finish(b, "failed", "refused").unwrap();
        // A declined send took no slot.
        o.record(&attempt("send_email"), "declined", None).unwrap();
        let err = o
            .reserve(&attempt("send_email"), 2, per, t0 + Duration::from_secs(20))
            .unwrap_err();
        match err {
            OutboxError::RateLimited { wait_secs, .. } => assert_eq!(wait_secs, 40),
            e => panic!("{e}"),
        }
        // Another tool has its own slots; and the window slides.
        o.reserve(&attempt("send_push"), 2, per, t0 + Duration::from_secs(20))
            .unwrap();
        o.reserve(&attempt("send_email"), 2, per, t0 + Duration::from_secs(61))
            .unwrap();
        let (rows, total) = o.recent(Some("send_email"), 0, 10).unwrap();
        assert_eq!(total, 4);
        assert_eq!(rows[0].status, "pending");
        assert_eq!(rows[1].status, "declined");
        assert_eq!(rows[3].detail.as_deref(), Some("<id@x>"));
        assert_eq!(rows[3].recipients, vec!["ann@example.com".to_owned()]);
    }

    #[test]
    fn only_the_newest_rows_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::open(&dir.path().join("outbox.db"), 3).unwrap();
        for _ in 0..5 {
            o.record(&attempt("notify_desktop"), "declined", None)
                .unwrap();
        }
        let (rows, total) = o.recent(None, 0, 10).unwrap();
        assert_eq!(total, 3);
        assert_eq!(rows.len(), 3);
        assert!(rows[0].id > rows[2].id);
    }
}
