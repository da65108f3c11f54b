//! A device reduced to what a sync server sees: an Automerge document and its sync state
//! over a WebSocket, without the register model. The load generator runs hundreds of these
//! on the same two cores as the server; the full replica (`client::Client`) reads every
//! change into the register, which costs the generator more CPU per message than the server
//! spends, and the generator would be what is measured.

use crate::client::Socket;
use anyhow::{Context, Result, bail};
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, Value};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::{DocumentId, Message, decode, encode};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as Frame;

pub struct Lean {
    id: DocumentId,
    peer: String,
    /// The server's peer id, from its answer to the join.
    server: String,
    doc: AutoCommit,
    state: sync::State,
    socket: Socket,
}

impl Lean {
    /// Connects and joins as a new peer holding `saved`, and offers the server what it has.
    pub async fn connect(url: &str, id: DocumentId, saved: &[u8]) -> Result<Lean> {
        // Nagle's algorithm off, as a browser's WebSocket has it.
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(url, None, true).await.context("connecting")?;
        let peer = format!("load-{}", uuid::Uuid::new_v4());
        let join = Message::Join {
            sender_id: peer.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: None,
        };
        socket.send(Frame::Binary(encode(&join).into())).await?;
        let server = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .context("no answer to join within 10 s")?
                .context("the server closed the connection before answering the join")??;
            if let Frame::Binary(bytes) = frame {
                match decode(&bytes)? {
                    Message::Peer { sender_id, .. } => break sender_id,
                    Message::Error { message, .. } => bail!("the server refused the join: {message}"),
                    _ => {}
                }
            }
        };
        let mut lean = Lean { id, peer, server, doc: AutoCommit::load(saved)?, state: sync::State::new(), socket };
        lean.offer().await?;
        Ok(lean)
    }

    /// Whether the server has said it holds everything this device has.
    pub fn confirmed(&mut self) -> bool {
        self.state.their_heads.as_ref() == Some(&self.doc.get_heads())
    }

    /// Sends a sync message if the sync state says there is anything to say.
    async fn offer(&mut self) -> Result<()> {
        if let Some(message) = self.doc.sync().generate_sync_message(&mut self.state) {
            let sync = Message::Sync {
                document_id: self.id.to_string(),
                sender_id: self.peer.clone(),
                target_id: self.server.clone(),
                data: message.encode(),
            };
            self.socket.send(Frame::Binary(encode(&sync).into())).await?;
        }
        Ok(())
    }

    /// The map of one record (`risks/<key>`).
    fn record(&self, key: &str) -> Option<ObjId> {
        let Ok(Some((Value::Object(ObjType::Map), risks))) = self.doc.get(automerge::ROOT, "risks") else {
            return None;
        };
        match self.doc.get(&risks, key) {
            Ok(Some((Value::Object(ObjType::Map), record))) => Some(record),
            _ => None,
        }
    }

    /// Sets one field of one record, as one change, and sends it.
    pub async fn edit(&mut self, key: &str, field: &str, value: &str) -> Result<()> {
        let record = self.record(key).with_context(|| format!("no record {key}"))?;
        self.doc.put(&record, field, value)?;
        self.doc.commit();
        self.offer().await
    }

    /// A text field of one record, however it is stored (a string or a text object).
    pub fn field(&self, key: &str, field: &str) -> Option<String> {
        let record = self.record(key)?;
        match self.doc.get(&record, field).ok()?? {
            (Value::Scalar(s), _) => s.as_str().map(str::to_string),
            (Value::Object(ObjType::Text), text) => self.doc.text(&text).ok(),
            _ => None,
        }
    }

    /// Handles one message; false when none came within `wait`.
    pub async fn receive_one(&mut self, wait: Duration) -> Result<bool> {
        let frame = match tokio::time::timeout(wait, self.socket.next()).await {
            Err(_) => return Ok(false),
            Ok(None) => bail!("the server closed the connection"),
            Ok(Some(frame)) => frame?,
        };
        let bytes = match frame {
            Frame::Binary(bytes) => bytes,
            Frame::Close(close) => bail!("the server closed the connection ({close:?})"),
            _ => return Ok(true),
        };
        match decode(&bytes)? {
            Message::Sync { data, .. } => {
                let message = sync::Message::decode(&data)?;
                self.doc.sync().receive_sync_message(&mut self.state, message)?;
                self.offer().await?;
            }
            Message::Error { message, .. } => bail!("the server said: {message}"),
            Message::DocUnavailable { .. } => bail!("the server does not have register {}", self.id),
            _ => {}
        }
        Ok(true)
    }

    pub async fn close(mut self) {
        // The server may already be gone.
        let _ = self.socket.close(None).await;
    }
}
