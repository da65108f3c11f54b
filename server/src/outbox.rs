//! A connection's outgoing queue, bounded: a peer that stops reading its socket fills it, and
//! is then closed (it resyncs when it comes back) instead of growing the relay's memory.
//! Sending never waits, so one slow peer never holds up a register's other peers.

use shared::protocol::Message;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::{Notify, mpsc};

/// How much may wait for one connection's writer.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub messages: usize,
    pub bytes: usize,
}

impl Default for Bound {
    fn default() -> Self {
        // A browser that is reading keeps this near zero; a whole register's first sync is one
        // message, so the byte bound must hold the largest register a relay serves.
        Bound { messages: 1024, bytes: 32 * 1024 * 1024 }
    }
}

struct Queued {
    bound: Bound,
    messages: AtomicUsize,
    bytes: AtomicUsize,
    full: AtomicBool,
    overflowed: Notify,
}

/// Where a connection's messages go; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Message>,
    queued: Arc<Queued>,
}

/// The writer's end of an `Outbox`.
pub struct Outgoing {
    rx: mpsc::UnboundedReceiver<Message>,
    queued: Arc<Queued>,
}

/// Roughly what a message holds in memory: its payload and a little for the rest.
fn weight(message: &Message) -> usize {
    match message {
        Message::Sync { data, .. } | Message::Request { data, .. } | Message::Ephemeral { data, .. } => {
            data.len() + 128
        }
        _ => 128,
    }
}

pub fn outbox(bound: Bound) -> (Outbox, Outgoing) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queued = Arc::new(Queued {
        bound,
        messages: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
        full: AtomicBool::new(false),
        overflowed: Notify::new(),
    });
    (Outbox { tx, queued: queued.clone() }, Outgoing { rx, queued })
}

impl Outbox {
    /// Queues `message`; `false` when the connection is gone or its queue is full (the
    /// connection is then being closed, and nothing more is queued for it).
    pub fn send(&self, message: Message) -> bool {
        let q = &self.queued;
        if q.full.load(Ordering::Relaxed) {
            return false;
        }
        let weight = weight(&message);
        let messages = q.messages.fetch_add(1, Ordering::Relaxed) + 1;
        let bytes = q.bytes.fetch_add(weight, Ordering::Relaxed) + weight;
        // One message larger than the byte bound still goes to a peer whose queue is empty.
        if messages > q.bound.messages || (bytes > q.bound.bytes && messages > 1) {
            q.messages.fetch_sub(1, Ordering::Relaxed);
            q.bytes.fetch_sub(weight, Ordering::Relaxed);
            q.full.store(true, Ordering::Relaxed);
            q.overflowed.notify_waiters();
            return false;
        }
        if self.tx.send(message).is_err() {
            q.messages.fetch_sub(1, Ordering::Relaxed);
            q.bytes.fetch_sub(weight, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Whether the queue overflowed: the connection is closed for not reading.
    pub fn is_full(&self) -> bool {
        self.queued.full.load(Ordering::Relaxed)
    }

    /// Waits until the queue overflows.
    pub async fn overflowed(&self) {
        self.queued.overflowed().await
    }
}

/// Tells the writer its queue overflowed, without being a sender itself (the writer stops
/// when the last sender is gone).
pub struct Overflow(Arc<Queued>);

impl Overflow {
    pub async fn overflowed(&self) {
        self.0.overflowed().await
    }
}

impl Queued {
    async fn overflowed(&self) {
        loop {
            let notified = self.overflowed.notified();
            if self.full.load(Ordering::Relaxed) {
                return;
            }
            notified.await;
        }
    }
}

impl Outgoing {
    pub fn overflow(&self) -> Overflow {
        Overflow(self.queued.clone())
    }

    pub async fn recv(&mut self) -> Option<Message> {
        let message = self.rx.recv().await?;
        Some(self.taken(message))
    }

    /// What is waiting, for tests.
    pub fn try_recv(&mut self) -> Option<Message> {
        let message = self.rx.try_recv().ok()?;
        Some(self.taken(message))
    }

    /// Takes a message off the queue's count.
    fn taken(&self, message: Message) -> Message {
        self.queued.messages.fetch_sub(1, Ordering::Relaxed);
        self.queued.bytes.fetch_sub(weight(&message), Ordering::Relaxed);
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(bytes: usize) -> Message {
        Message::Sync { document_id: "d".into(), sender_id: "s".into(), target_id: "t".into(), data: vec![0; bytes] }
    }

    #[test]
    fn a_queue_that_is_not_drained_overflows_once_and_takes_nothing_more() {
        let (outbox, mut outgoing) = outbox(Bound { messages: 3, bytes: 10_000 });
        assert!(outbox.send(sync(10)) && outbox.send(sync(10)) && outbox.send(sync(10)));
        assert!(!outbox.send(sync(10)), "the fourth is over the bound");
        assert!(outbox.is_full());
        assert!(outgoing.try_recv().is_some());
        assert!(!outbox.send(sync(10)), "a full queue stays closed: the connection is being closed");
    }

    #[test]
    fn bytes_are_bounded_but_one_large_message_still_goes_to_an_empty_queue() {
        let (outbox, mut outgoing) = outbox(Bound { messages: 100, bytes: 1_000 });
        assert!(outbox.send(sync(5_000)), "a large first sync to a peer that is reading");
        assert!(outgoing.try_recv().is_some());
        assert!(outbox.send(sync(600)));
        assert!(!outbox.send(sync(600)), "two together are over the byte bound");
    }
}
