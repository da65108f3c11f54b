//! One WebSocket connection: the handshake, then sync messages handed to the relay, with
//! replies written back by a writer task. Any malformed input gets an `error` and closes this
//! connection only.

use crate::Limits;
use crate::members::{Directory, Member};
use crate::relay::{ConnectionId, Relay};
use axum::extract::ws::{Message as Frame, WebSocket};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::{DocumentId, Message, answer_join, decode, encode};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;

pub async fn serve(
    socket: WebSocket,
    relay: Arc<Relay>,
    members: Arc<Directory>,
    limits: Limits,
    member: Member,
    connection: ConnectionId,
) {
    let metrics = relay.metrics.clone();
    metrics.connections.inc();
    let (mut sink, mut stream) = socket.split();
    let (outbox, mut outgoing) = mpsc::unbounded_channel::<Message>();
    let sent = metrics.clone();
    let writer = tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let last = matches!(message, Message::Error { .. });
            let bytes = encode(&message);
            sent.messages_sent.inc();
            sent.bytes_sent.inc_by(bytes.len() as u64);
            if sink.send(Frame::Binary(bytes.into())).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    });
    // Messages in the current one-second window, for the rate limit.
    let mut window = (std::time::Instant::now(), 0u32);

    let mut peer: Option<String> = None;
    let mut documents: HashSet<DocumentId> = HashSet::new();
    while let Some(frame) = stream.next().await {
        let bytes = match frame {
            Ok(Frame::Binary(bytes)) => bytes,
            Ok(Frame::Close(_)) => break,
            Ok(Frame::Text(_)) => {
                let _ =
                    outbox.send(Message::error("text frames are not part of the protocol: send CBOR in binary frames"));
                break;
            }
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(connection, error = %e, "connection dropped");
                break;
            }
        };
        metrics.messages_received.inc();
        metrics.bytes_received.inc_by(bytes.len() as u64);
        if window.0.elapsed() >= std::time::Duration::from_secs(1) {
            window = (std::time::Instant::now(), 0);
        }
        window.1 += 1;
        if window.1 > limits.max_messages_per_second {
            let _ = outbox.send(Message::error(format!(
                "more than {} messages in a second; slow down and reconnect",
                limits.max_messages_per_second
            )));
            break;
        }
        let message = match decode(&bytes) {
            Ok(message) => message,
            Err(e) => {
                let _ = outbox.send(Message::error(e.to_string()));
                break;
            }
        };
        let Some(peer_id) = &peer else {
            match answer_join(message, &relay.peer_id, None) {
                Ok((joined, reply)) => {
                    tracing::info!(connection, peer = %joined, member = %member.name, "peer joined");
                    peer = Some(joined);
                    let _ = outbox.send(reply);
                    continue;
                }
                Err(e) => {
                    let _ = outbox.send(Message::error(e.to_string()));
                    break;
                }
            }
        };
        let sender = match &message {
            Message::Sync { sender_id, .. }
            | Message::Request { sender_id, .. }
            | Message::Ephemeral { sender_id, .. }
            | Message::RemoteSubscriptionChange { sender_id, .. }
            | Message::RemoteHeadsChanged { sender_id, .. } => sender_id.clone(),
            Message::Leave { .. } => break,
            Message::Join { .. } => {
                let _ = outbox.send(Message::error("already joined"));
                break;
            }
            // `peer`, `doc-unavailable` and `error` answer things the relay never asks.
            _ => continue,
        };
        if &sender != peer_id {
            let _ = outbox.send(Message::error(format!("senderId {sender:?} is not the peer that joined")));
            break;
        }
        // A token revoked while connected stops working at the next message.
        if members.is_revoked(member.id).unwrap_or(true) {
            let _ = outbox.send(Message::error("this member's access has been revoked"));
            break;
        }
        let (document_id, data, request) = match message {
            Message::Sync { document_id, data, .. } => (document_id, data, false),
            Message::Request { document_id, data, .. } => (document_id, data, true),
            ephemeral @ Message::Ephemeral { .. } => {
                if let Err(e) = relay.ephemeral(connection, &member, ephemeral) {
                    let _ = outbox.send(Message::error(e.to_string()));
                    break;
                }
                continue;
            }
            // The relay keeps no storage ids to gossip heads about (each member's own
            // device holds its copy), so subscriptions to remote heads have nothing to do.
            _ => continue,
        };
        if let Ok(id) = document_id.parse() {
            documents.insert(id);
            if documents.len() > limits.max_documents_per_connection {
                let _ = outbox.send(Message::error(format!(
                    "one connection may sync at most {} registers",
                    limits.max_documents_per_connection
                )));
                break;
            }
        }
        if let Err(e) = relay.sync(connection, &member, peer_id, &outbox, &document_id, &data, request).await {
            tracing::warn!(connection, peer = %peer_id, error = %e, "closing connection");
            let _ = outbox.send(Message::error(e.to_string()));
            break;
        }
    }
    relay.disconnect(connection, documents).await;
    drop(outbox);
    let _ = writer.await;
    metrics.connections.dec();
}
