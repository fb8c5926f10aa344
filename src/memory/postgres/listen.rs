//! Changes to a PostgreSQL memory, from any process on any machine: one connection per
//! switchboard process `LISTEN`s on the profile schema's channel (the store's triggers
//! `NOTIFY` there at commit) and passes each payload on: `graph` when the knowledge graph
//! changed, `note:ID` for a note. When the connection drops it is made again with a growing
//! pause, and an empty payload tells holders that changes may have been missed meanwhile.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::CancellationToken;

use super::ident;

/// What a holder gets when it may have missed changes (the connection was remade).
pub const LAPSE: &str = "";

const FIRST_PAUSE: Duration = Duration::from_millis(250);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// Starts listening (needs the runtime); the sender's receivers get the payloads until
/// `stop` is cancelled.
pub fn start(url: String, channel: String, stop: CancellationToken) -> broadcast::Sender<String> {
    let (tx, _) = broadcast::channel(1024);
    let out = tx.clone();
    tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        loop {
            let outcome = tokio::select! {
                o = listen(&url, &channel, &tx) => o,
                _ = stop.cancelled() => return,
            };
            match outcome {
                Ok(()) => {
                    tracing::info!(channel, "the memory change connection closed; reconnecting")
                }
                Err(e) => {
                    tracing::warn!(channel, error = %super::describe(&e), "the memory change connection failed; reconnecting")
                }
            }
            let _ = tx.send(LAPSE.to_owned());
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return,
            }
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    });
    out
}

/// One connection's life: listen, then forward notifications until it ends.
async fn listen(
    url: &str,
    channel: &str,
    tx: &broadcast::Sender<String>,
) -> Result<(), tokio_postgres::Error> {
    let mut config: tokio_postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(10));
    config.application_name("switchboard memory changes");
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let statement = format!("LISTEN {}", ident(channel));
    let listening = client.batch_execute(&statement);
    let mut listening = std::pin::pin!(listening);
    // The connection must be driven while LISTEN runs, and after it, for notifications.
    let mut listened = false;
    loop {
        tokio::select! {
            done = &mut listening, if !listened => {
                done?;
                listened = true;
                // Anything that changed before the LISTEN took effect is not announced.
                let _ = tx.send(LAPSE.to_owned());
            }
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let _ = tx.send(n.payload().to_owned());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
        }
    }
}
