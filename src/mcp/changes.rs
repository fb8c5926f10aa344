//! The change bus: whatever changes a list the client sees (folders reloaded, a child's list
//! changed) or a subscribed resource publishes here once, and each session delivers it the way
//! its protocol generation defines: `notifications/*` to an `initialize`-era client, or through
//! the `subscriptions/listen` streams of a 2026-07-28 client.

use tokio::sync::broadcast;

/// One change a client may be told about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Tools,
    Prompts,
    Resources,
    /// A resource some subscription watches changed.
    Updated(String),
}

/// How many changes wait for a slow listener before it skips ahead (it is then told that
/// every list changed, which is always safe).
const BACKLOG: usize = 64;

/// A cheap handle on the bus: clones publish to and listen on the same channel.
#[derive(Clone)]
pub struct Changes(broadcast::Sender<Change>);

impl Default for Changes {
    fn default() -> Self {
        Self(broadcast::channel(BACKLOG).0)
    }
}

impl Changes {
    pub fn publish(&self, change: Change) {
        // No listener yet is normal (nobody subscribed, or the session has not started).
        let _ = self.0.send(change);
    }

    pub fn listen(&self) -> broadcast::Receiver<Change> {
        self.0.subscribe()
    }
}

/// The next change for a listener; a listener that fell behind gets every list change, and
/// `None` means the bus is gone.
pub async fn next(rx: &mut broadcast::Receiver<Change>) -> Option<Vec<Change>> {
    match rx.recv().await {
        Ok(c) => Some(vec![c]),
        Err(broadcast::error::RecvError::Lagged(n)) => {
            tracing::warn!(
                skipped = n,
                "a change listener fell behind; telling it every list changed"
            );
            Some(vec![Change::Tools, Change::Prompts, Change::Resources])
        }
        Err(broadcast::error::RecvError::Closed) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listeners_get_changes_and_a_lagging_one_gets_every_list() {
        let bus = Changes::default();
        let mut rx = bus.listen();
        bus.publish(Change::Updated("file:///a".into()));
        assert_eq!(
            next(&mut rx).await,
            Some(vec![Change::Updated("file:///a".into())])
        );
        for _ in 0..BACKLOG + 5 {
            bus.publish(Change::Tools);
        }
        let got = next(&mut rx).await.unwrap();
        assert_eq!(got, vec![Change::Tools, Change::Prompts, Change::Resources]);
    }
}
