//! Relays sharing one PostgreSQL database tell each other which register moved: each stored
//! chunk is announced with NOTIFY in the transaction that stores it (PostgreSQL delivers it
//! only once that commits), and every relay LISTENs on a connection of its own and hands
//! each notice to the register's actor, which reads the chunk and passes it to its peers.

use crate::db::{MOVED_CHANNEL, connect};
use postgres::fallible_iterator::FallibleIterator;
use shared::protocol::DocumentId;
use std::time::Duration;
use tokio::sync::mpsc;

/// What the listener hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Another relay (or this one) stored chunk `.1` of register `.0`.
    Stored(DocumentId, i64),
    /// The listener (re)connected: notices sent while it was not listening are lost, so
    /// every register in memory reads what is stored again.
    Missed,
}

/// `register:chunk`, as `Storage::append_all` sends it.
pub fn parse(payload: &str) -> Option<Notice> {
    let (doc, chunk) = payload.rsplit_once(':')?;
    Some(Notice::Stored(doc.parse().ok()?, chunk.parse().ok()?))
}

/// Listens on a connection of its own, on a thread of its own (the blocking client waits
/// there), reconnecting after a second whenever the connection is lost. Stops when the
/// receiver is dropped.
pub fn listen(url: String) -> mpsc::UnboundedReceiver<Notice> {
    let (tx, rx) = mpsc::unbounded_channel();
    let spawned = std::thread::Builder::new().name("postgres-listen".into()).spawn(move || {
        while !tx.is_closed() {
            match connect(&url).and_then(|mut client| {
                client.batch_execute(&format!("LISTEN {MOVED_CHANNEL}"))?;
                Ok(client)
            }) {
                Ok(mut client) => {
                    tracing::info!("listening for the other relays' changes");
                    if tx.send(Notice::Missed).is_err() {
                        return;
                    }
                    loop {
                        // A new wait each time: the iterator's own timer is not reset after
                        // it fires, and would then stop waiting at all.
                        match client.notifications().timeout_iter(Duration::from_secs(1)).next() {
                            Ok(Some(n)) => match parse(n.payload()) {
                                Some(notice) => {
                                    if tx.send(notice).is_err() {
                                        return;
                                    }
                                }
                                None => tracing::warn!(payload = n.payload(), "a notice that names no register"),
                            },
                            Ok(None) if tx.is_closed() => return,
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the connection that listens for other relays; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for the other relays' changes; trying again"),
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the thread that listens for other relays");
    }
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_a_register_and_a_chunk() {
        let doc = DocumentId([7; 16]);
        assert_eq!(parse(&format!("{doc}:42")), Some(Notice::Stored(doc, 42)));
        assert_eq!(parse("junk"), None);
        assert_eq!(parse(&format!("{doc}:x")), None);
    }
}
