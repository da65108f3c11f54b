//! One WebSocket connection: a `Handler` (the mini-redis shape) reads frames, answers the
//! handshake and hands sync messages to the relay with the connection's `Session`; replies
//! are written back by a writer task. Anything wrong ends the connection through one exit:
//! an `error` to the peer with the reason, then close. Only this connection is affected.

use crate::Limits;
use crate::members::AccessMap;
use crate::members::{Access, Directory, Member};
use crate::relay::{ConnectionId, Outbox, Relay, RelayError, Session};
use axum::extract::ws::CloseFrame;
use axum::extract::ws::{Message as Frame, WebSocket};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::{CLOSE_REFUSED, CLOSE_RETRY, DocumentId, Message, answer_join, decode, encode};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

/// Why a connection ends early: the reason is sent to the peer as an `error`, and the close
/// code says whether reconnecting can help (`CLOSE_RETRY`) or not (`CLOSE_REFUSED`).
struct Refusal {
    reason: String,
    code: u16,
}

impl Refusal {
    /// Reconnecting will not mend this (access revoked, a viewer sending changes).
    fn final_(reason: impl ToString) -> Refusal {
        Refusal { reason: reason.to_string(), code: CLOSE_REFUSED }
    }
}

impl<T: ToString> From<T> for Refusal {
    fn from(reason: T) -> Self {
        Refusal { reason: reason.to_string(), code: CLOSE_RETRY }
    }
}

/// What happens after one frame.
enum Next {
    Continue,
    /// The peer said goodbye (a close frame, `leave`, or the connection dropped).
    Stop,
}

struct Handler {
    relay: Arc<Relay>,
    members: Arc<Directory>,
    limits: Limits,
    connection: ConnectionId,
    member: Member,
    outbox: Outbox,
    /// Set by the handshake.
    session: Option<Session>,
    documents: HashSet<DocumentId>,
    /// Messages in the current one-second window, for the rate limit.
    window: (Instant, u32),
    /// Ephemeral messages in the current one-second window.
    ephemeral_window: (Instant, u32),
    /// Every member's access as last read (the same map `Watch` closes connections by).
    access: tokio::sync::watch::Receiver<Option<AccessMap>>,
}

/// What a connection watches besides its socket: the limits (with the ping interval) and
/// every member's access, which closes it the moment its member is revoked or changed.
pub struct Watch {
    pub access: tokio::sync::watch::Receiver<Option<crate::members::AccessMap>>,
    pub limits: Limits,
}

pub async fn serve(
    socket: WebSocket,
    relay: Arc<Relay>,
    members: Arc<Directory>,
    watch: Watch,
    member: Member,
    connection: ConnectionId,
) {
    let Watch { mut access, limits } = watch;
    // "Last seen" in the owners' Members view; a failure to note it costs nothing else.
    let (seen, id) = (members.clone(), member.id);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = seen.seen(id, chrono::Utc::now().timestamp()) {
            tracing::warn!(error = %e, "cannot note when a member was last seen");
        }
    });
    let ping_every = limits.ping_interval;
    let metrics = relay.metrics.clone();
    metrics.connections.inc();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = crate::outbox::outbox(limits.outbox);
    let sent = metrics.clone();
    let stalled = outgoing.overflow();
    // The code the writer closes with after an `error`: passing unless the handler says
    // otherwise (the relay's own errors to other peers, after a storage failure, are passing).
    let close_code = Arc::new(AtomicU16::new(CLOSE_RETRY));
    let closing = close_code.clone();
    let writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        loop {
            let message = tokio::select! {
                biased;
                // The peer stopped reading and its queue filled: it is told why if its socket
                // still takes anything, and closed; it resyncs when it comes back.
                _ = stalled.overflowed() => {
                    sent.slow_peers_closed.inc();
                    let reason = Message::error("this connection stopped reading and its queue of messages filled; reconnect to resync");
                    let goodbye = async {
                        sink.send(Frame::Binary(encode(&reason).into())).await?;
                        sink.send(Frame::Close(Some(CloseFrame { code: CLOSE_RETRY, reason: "".into() }))).await
                    };
                    // The peer may never read again: it gets a second to take the reason.
                    let _ = tokio::time::timeout(Duration::from_secs(1), goodbye).await;
                    return;
                }
                message = outgoing.recv() => match message {
                    Some(message) => message,
                    None => break,
                },
                _ = ping.tick() => {
                    // A peer that is gone without a word answers nothing; the reader sees it.
                    if sink.send(Frame::Ping(Default::default())).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            let last = matches!(message, Message::Error { .. });
            let bytes = encode(&message);
            sent.messages_sent.inc();
            sent.bytes_sent.inc_by(bytes.len() as u64);
            // A send the peer never takes would wait for ever: the queue filling ends it.
            tokio::select! {
                biased;
                _ = stalled.overflowed() => continue,
                written = sink.send(Frame::Binary(bytes.into())) => if written.is_err() {
                    break;
                },
            }
            if last {
                let code = closing.load(Ordering::SeqCst);
                // The peer may already be gone; there is nobody left to tell.
                let _ = sink.send(Frame::Close(Some(CloseFrame { code, reason: "".into() }))).await;
                return;
            }
        }
        // The peer may already be gone; there is nobody left to tell.
        let _ = sink.close().await;
    });
    let mut handler = Handler {
        relay: relay.clone(),
        members,
        limits,
        connection,
        member,
        outbox: outbox.clone(),
        session: None,
        documents: HashSet::new(),
        window: (Instant::now(), 0),
        ephemeral_window: (Instant::now(), 0),
        access: access.clone(),
    };
    let mut stalled = false;
    let mut last_heard = Instant::now();
    let mut check = tokio::time::interval(ping_every);
    loop {
        let outcome = tokio::select! {
            frame = stream.next() => match frame {
                Some(frame) => {
                    last_heard = Instant::now();
                    handler.frame(frame).await
                }
                None => break,
            },
            // A member revoked while connected is cut off now, not at their next message,
            // and is sent nothing more.
            Ok(()) = access.changed() => {
                let now = access.borrow_and_update().as_ref().and_then(|all| all.get(&handler.member.id).copied());
                match now {
                    Some(Access { revoked: true, .. }) => Err(Refusal::final_("this member's access has been revoked")),
                    // A new token or role: reconnecting says which (refused, or the new role).
                    Some(Access { epoch, .. }) if epoch != handler.member.epoch => {
                        Err(Refusal::from("this member's token or role was changed; reconnect"))
                    }
                    // Not read yet, unchanged, or a member added since the last read (one
                    // removed outright is refused at its next message).
                    _ => continue,
                }
            }
            _ = outbox.overflowed() => {
                tracing::warn!(connection, "closing a connection that stopped reading: its queue is full");
                stalled = true;
                break;
            }
            _ = check.tick() => {
                if last_heard.elapsed() > ping_every * 2 {
                    tracing::info!(connection, "no answer to pings; closing a dead connection");
                    break;
                }
                continue;
            }
        };
        match outcome {
            Ok(Next::Continue) => {}
            Ok(Next::Stop) => break,
            Err(Refusal { reason, code }) => {
                let peer = handler.session.as_ref().map(|s| s.peer.as_str()).unwrap_or("(not joined)");
                tracing::warn!(connection, peer, reason = %reason, code, "closing connection");
                close_code.store(code, Ordering::SeqCst);
                // The writer sends this last, then closes; if it is gone the peer is too.
                let _ = outbox.send(Message::error(reason));
                break;
            }
        }
    }
    relay.disconnect(connection, handler.documents).await;
    drop(handler.session);
    drop(handler.outbox);
    drop(outbox);
    if stalled {
        // The writer tells the peer why if it can; a peer that takes nothing is cut off.
        let mut writer = writer;
        if tokio::time::timeout(Duration::from_secs(2), &mut writer).await.is_err() {
            writer.abort();
        }
    } else {
        // A writer that panicked has nothing left to flush.
        let _ = writer.await;
    }
    metrics.connections.dec();
}

/// Tells a peer whose token is not valid why, and closes with `CLOSE_REFUSED`; nothing it
/// sends is read.
pub async fn refuse(socket: WebSocket, reason: &str) {
    refuse_with(socket, reason.to_string(), CLOSE_REFUSED).await
}

/// Tells a peer why it is not taken, and closes with `code`.
pub async fn refuse_with(socket: WebSocket, reason: String, code: u16) {
    let (mut sink, _) = socket.split();
    // The peer may already be gone; there is nobody left to tell.
    let _ = sink.send(Frame::Binary(encode(&Message::error(reason)).into())).await;
    let _ = sink.send(Frame::Close(Some(CloseFrame { code, reason: "".into() }))).await;
}

impl Handler {
    async fn frame(&mut self, frame: Result<Frame, axum::Error>) -> Result<Next, Refusal> {
        let bytes = match frame {
            Ok(Frame::Binary(bytes)) => bytes,
            Ok(Frame::Close(_)) => return Ok(Next::Stop),
            Ok(Frame::Text(_)) => {
                return Err("text frames are not part of the protocol: send CBOR in binary frames".into());
            }
            Ok(_) => return Ok(Next::Continue),
            Err(e) => {
                tracing::debug!(connection = self.connection, error = %e, "connection dropped");
                return Ok(Next::Stop);
            }
        };
        let metrics = &self.relay.metrics;
        metrics.messages_received.inc();
        metrics.bytes_received.inc_by(bytes.len() as u64);
        self.count_against_the_rate_limit()?;
        let message = decode(&bytes)?;
        match &self.session {
            None => self.join(message),
            Some(_) => self.message(message).await,
        }
    }

    fn count_against_the_rate_limit(&mut self) -> Result<(), Refusal> {
        if self.window.0.elapsed() >= Duration::from_secs(1) {
            self.window = (Instant::now(), 0);
        }
        self.window.1 += 1;
        if self.window.1 > self.limits.max_messages_per_second {
            return Err(format!(
                "more than {} messages in a second; slow down and reconnect",
                self.limits.max_messages_per_second
            )
            .into());
        }
        Ok(())
    }

    fn join(&mut self, message: Message) -> Result<Next, Refusal> {
        let (peer, reply) = answer_join(message, &self.relay.peer_id, None)?;
        tracing::info!(connection = self.connection, peer = %peer, member = %self.member.name, "peer joined");
        // The writer ends only when the connection does.
        let _ = self.outbox.send(reply);
        self.session = Some(Session {
            connection: self.connection,
            member: self.member.clone(),
            peer,
            outbox: self.outbox.clone(),
        });
        Ok(Next::Continue)
    }

    async fn message(&mut self, message: Message) -> Result<Next, Refusal> {
        let session = self.session.as_ref().expect("joined before any other message");
        let sender = match &message {
            Message::Sync { sender_id, .. }
            | Message::Request { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => sender_id,
            Message::Leave { .. } => return Ok(Next::Stop),
            Message::Join { .. } => return Err("already joined".into()),
            // `peer`, `doc-unavailable` and `error` answer things the relay never asks.
            _ => return Ok(Next::Continue),
        };
        if *sender != session.peer {
            return Err(format!("senderId {sender:?} is not the peer that joined").into());
        }
        // A token revoked while connected stops working at the next message. The access map
        // answers without a query; a member not in it yet (added since it was read) is
        // looked up.
        let known = self.access.borrow().as_ref().and_then(|all| all.get(&self.member.id).copied());
        let revoked = match known {
            Some(access) => access.revoked,
            None => self.members.is_revoked(self.member.id).unwrap_or(true),
        };
        if revoked {
            return Err(Refusal::final_("this member's access has been revoked"));
        }
        let (document_id, data, request) = match message {
            Message::Sync { document_id, data, .. } => (document_id, data, false),
            Message::Request { document_id, data, .. } => (document_id, data, true),
            ephemeral @ Message::Ephemeral { .. } => {
                if let Message::Ephemeral { data, .. } = &ephemeral
                    && data.len() > self.limits.max_ephemeral_bytes
                {
                    return Err(format!(
                        "an ephemeral message of {} KB is over the limit of {} KB",
                        data.len() / 1024,
                        self.limits.max_ephemeral_bytes / 1024
                    )
                    .into());
                }
                if self.ephemeral_window.0.elapsed() >= Duration::from_secs(1) {
                    self.ephemeral_window = (Instant::now(), 0);
                }
                self.ephemeral_window.1 += 1;
                // Presence is best-effort: over the rate it is dropped, not an error.
                if self.ephemeral_window.1 > self.limits.max_ephemeral_per_second {
                    self.relay.metrics.ephemeral_dropped.inc();
                    return Ok(Next::Continue);
                }
                self.relay.ephemeral(session, ephemeral)?;
                return Ok(Next::Continue);
            }
            // The relay keeps no storage ids to gossip heads about (each member's own
            // device holds its copy), so subscriptions to remote heads have nothing to do.
            _ => return Ok(Next::Continue),
        };
        if let Ok(id) = document_id.parse() {
            self.documents.insert(id);
            if self.documents.len() > self.limits.max_documents_per_connection {
                return Err(format!(
                    "one connection may sync at most {} registers",
                    self.limits.max_documents_per_connection
                )
                .into());
            }
        }
        match self.relay.sync(session, &document_id, &data, request).await {
            Ok(()) => Ok(Next::Continue),
            Err(e @ (RelayError::ReadOnly(_) | RelayError::Replaces(_))) => Err(Refusal::final_(e)),
            Err(e) => Err(e.into()),
        }
    }
}
