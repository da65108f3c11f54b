//! Per-connection protocol state: one Automerge sync state per document, the handshake,
//! and the client's side of a connection. The relay and the browser feed bytes in and send
//! what comes out; neither re-implements any of this.

use super::{DocumentId, Message, PROTOCOL_VERSION, PeerMetadata, ProtocolError};
use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use std::collections::HashMap;

/// The Automerge sync state of each document shared over one connection.
#[derive(Default, Debug)]
pub struct SyncStates {
    states: HashMap<DocumentId, sync::State>,
}

impl SyncStates {
    /// Applies a sync message from the other side to `doc`. Bytes that are not a sync message
    /// are refused before anything is applied.
    pub fn receive(&mut self, id: DocumentId, doc: &mut AutoCommit, data: &[u8]) -> Result<(), ProtocolError> {
        let bad = |reason: String| ProtocolError::BadSync { document: id.to_string(), reason };
        let message = sync::Message::decode(data).map_err(|e| bad(e.to_string()))?;
        let state = self.states.entry(id).or_default();
        doc.sync().receive_sync_message(state, message).map_err(|e| bad(e.to_string()))
    }

    /// The next sync message for the other side, if it is missing anything or has not yet
    /// heard what this side has.
    pub fn generate(&mut self, id: DocumentId, doc: &mut AutoCommit) -> Option<Vec<u8>> {
        let state = self.states.entry(id).or_default();
        doc.sync().generate_sync_message(state).map(|m| m.encode())
    }

    /// The heads the other side last said it has: everything up to them is acknowledged.
    pub fn their_heads(&self, id: &DocumentId) -> Option<Vec<automerge::ChangeHash>> {
        self.states.get(id).and_then(|s| s.their_heads.clone())
    }

    pub fn knows(&self, id: &DocumentId) -> bool {
        self.states.contains_key(id)
    }

    /// Starts afresh with a document, as after a reconnect: Automerge's sync state must not
    /// outlive the connection it was made on.
    pub fn forget(&mut self, id: &DocumentId) {
        self.states.remove(id);
    }

    pub fn documents(&self) -> impl Iterator<Item = &DocumentId> {
        self.states.keys()
    }
}

/// The receiving side's answer to a `join`: the peer id of the joining side and the `peer`
/// message to send back.
pub fn answer_join(
    message: Message,
    own_id: &str,
    metadata: Option<PeerMetadata>,
) -> Result<(String, Message), ProtocolError> {
    match message {
        Message::Join { sender_id, supported_protocol_versions, .. } => {
            if !supported_protocol_versions.iter().any(|v| v == PROTOCOL_VERSION) {
                return Err(ProtocolError::Unexpected(format!(
                    "unsupported protocol versions {supported_protocol_versions:?}; this relay speaks \"1\""
                )));
            }
            let reply = Message::Peer {
                sender_id: own_id.to_string(),
                selected_protocol_version: PROTOCOL_VERSION.to_string(),
                target_id: sender_id.clone(),
                // Always present: the reference implementation reads it unconditionally.
                peer_metadata: Some(metadata.unwrap_or_default()),
            };
            Ok((sender_id, reply))
        }
        other => Err(ProtocolError::Unexpected(format!("expected join, got {}", other.kind()))),
    }
}

/// What a message from the relay means to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// The handshake finished: documents can now be synced.
    Connected { relay: String },
    /// A sync message for a document; hand it to `ClientConnection::apply`.
    Sync { document: DocumentId, data: Vec<u8> },
    /// The relay does not have the document or will not share it.
    Unavailable(DocumentId),
    /// The relay refused something and will close the connection.
    Refused(String),
    /// Nothing to do (ephemeral messages, remote heads and the like).
    Ignored,
}

/// The initiating (client) side of one connection.
#[derive(Debug)]
pub struct ClientConnection {
    peer_id: String,
    relay: Option<String>,
    states: SyncStates,
}

impl ClientConnection {
    pub fn new(peer_id: impl Into<String>) -> Self {
        ClientConnection { peer_id: peer_id.into(), relay: None, states: SyncStates::default() }
    }

    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    pub fn connected(&self) -> bool {
        self.relay.is_some()
    }

    /// The first message on a new connection. The metadata is optional in the protocol's
    /// description, but the reference implementation fails without it, so a peer that has no
    /// storage of its own says it is ephemeral.
    pub fn join(&self, metadata: Option<PeerMetadata>) -> Message {
        Message::Join {
            sender_id: self.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.to_string()],
            peer_metadata: Some(metadata.unwrap_or(PeerMetadata { storage_id: None, is_ephemeral: true })),
        }
    }

    /// Reads one message from the relay.
    pub fn accept(&mut self, message: Message) -> Result<Incoming, ProtocolError> {
        match (&self.relay, message) {
            (_, Message::Error { message, .. }) => Ok(Incoming::Refused(message)),
            (None, Message::Peer { sender_id, selected_protocol_version, .. }) => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return Err(ProtocolError::Unexpected(format!(
                        "the relay chose protocol version {selected_protocol_version:?}"
                    )));
                }
                self.relay = Some(sender_id.clone());
                Ok(Incoming::Connected { relay: sender_id })
            }
            (None, other) => Err(ProtocolError::Unexpected(format!("expected peer, got {}", other.kind()))),
            (Some(_), Message::Sync { document_id, data, .. } | Message::Request { document_id, data, .. }) => {
                Ok(Incoming::Sync { document: document_id.parse()?, data })
            }
            (Some(_), Message::DocUnavailable { document_id, .. }) => Ok(Incoming::Unavailable(document_id.parse()?)),
            (Some(_), _) => Ok(Incoming::Ignored),
        }
    }

    /// The heads the relay last said it has for a document.
    pub fn their_heads(&self, id: &DocumentId) -> Option<Vec<automerge::ChangeHash>> {
        self.states.their_heads(id)
    }

    /// Applies a sync message to the document and returns the reply, if one is due.
    pub fn apply(
        &mut self,
        id: DocumentId,
        doc: &mut AutoCommit,
        data: &[u8],
    ) -> Result<Option<Message>, ProtocolError> {
        self.states.receive(id, doc, data)?;
        Ok(self.sync(id, doc))
    }

    /// The message that tells the relay about local changes (or opens the document), if any
    /// is due. The first message for a document that has no changes yet is a `request`, so
    /// the relay answers `doc-unavailable` rather than nothing when it does not have it.
    pub fn sync(&mut self, id: DocumentId, doc: &mut AutoCommit) -> Option<Message> {
        let relay = self.relay.clone()?;
        let first = !self.states.knows(&id);
        let data = self.states.generate(id, doc)?;
        let (document_id, sender_id, target_id) = (id.to_string(), self.peer_id.clone(), relay);
        Some(if first && doc.get_heads().is_empty() {
            Message::Request { document_id, sender_id, target_id, data }
        } else {
            Message::Sync { document_id, sender_id, target_id, data }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    /// A relay in miniature: answers the join and syncs one document, using only this module.
    struct MiniRelay {
        doc: AutoCommit,
        states: SyncStates,
    }

    impl MiniRelay {
        fn handle(&mut self, message: Message) -> Vec<Message> {
            match message {
                join @ Message::Join { .. } => vec![answer_join(join, "relay", None).unwrap().1],
                Message::Sync { document_id, data, sender_id, .. }
                | Message::Request { document_id, data, sender_id, .. } => {
                    let id: DocumentId = document_id.parse().unwrap();
                    self.states.receive(id, &mut self.doc, &data).unwrap();
                    self.states
                        .generate(id, &mut self.doc)
                        .map(|data| Message::Sync {
                            document_id,
                            sender_id: "relay".into(),
                            target_id: sender_id,
                            data,
                        })
                        .into_iter()
                        .collect()
                }
                _ => vec![],
            }
        }
    }

    /// Runs messages between the client and the relay until neither has anything to say.
    fn settle(client: &mut ClientConnection, doc: &mut AutoCommit, relay: &mut MiniRelay, first: Vec<Message>) {
        let mut to_relay = first;
        for _ in 0..20 {
            let mut to_client = Vec::new();
            for m in to_relay.drain(..) {
                to_client.extend(relay.handle(decode_encode(m)));
            }
            if to_client.is_empty() {
                return;
            }
            for m in to_client {
                match client.accept(decode_encode(m)).unwrap() {
                    Incoming::Sync { document, data } => to_relay.extend(client.apply(document, doc, &data).unwrap()),
                    Incoming::Connected { .. } => to_relay.extend(client.sync(DocumentId([1; 16]), doc)),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        panic!("did not settle");
    }

    fn decode_encode(m: Message) -> Message {
        super::super::decode(&super::super::encode(&m)).unwrap()
    }

    #[test]
    fn a_client_and_a_relay_converge_through_the_wire_format() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "name", "client's register").unwrap();
        let mut relay = MiniRelay { doc: AutoCommit::new(), states: SyncStates::default() };
        relay.doc.put(automerge::ROOT, "relay", true).unwrap();
        let mut client = ClientConnection::new("browser-1");
        let join = client.join(None);
        settle(&mut client, &mut doc, &mut relay, vec![join]);
        assert!(client.connected());
        assert_eq!(doc.get_heads(), relay.doc.get_heads());

        doc.put(automerge::ROOT, "later", 2).unwrap();
        let id = DocumentId([1; 16]);
        let msg = client.sync(id, &mut doc).unwrap();
        settle(&mut client, &mut doc, &mut relay, vec![msg]);
        assert_eq!(doc.get_heads(), relay.doc.get_heads());
    }

    #[test]
    fn handshake_errors() {
        let mut client = ClientConnection::new("c");
        let sync = Message::Sync {
            document_id: DocumentId([1; 16]).to_string(),
            sender_id: "r".into(),
            target_id: "c".into(),
            data: vec![],
        };
        assert!(client.accept(sync).is_err(), "nothing before the peer message");
        let err = answer_join(
            Message::Join { sender_id: "c".into(), supported_protocol_versions: vec!["2".into()], peer_metadata: None },
            "relay",
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unsupported protocol versions"));
        assert!(answer_join(Message::Leave { sender_id: "c".into() }, "relay", None).is_err());
        assert_eq!(client.accept(Message::error("token refused")).unwrap(), Incoming::Refused("token refused".into()));
    }

    #[test]
    fn garbage_sync_bytes_are_refused_and_change_nothing() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "x", 1).unwrap();
        let heads = doc.get_heads();
        let mut states = SyncStates::default();
        let err = states.receive(DocumentId([2; 16]), &mut doc, b"\x42garbage").unwrap_err();
        assert!(matches!(err, ProtocolError::BadSync { .. }));
        assert_eq!(doc.get_heads(), heads);
    }
}
