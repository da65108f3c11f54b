//! The protocol's messages and their CBOR encoding, field names exactly as automerge-repo
//! writes them. Decoding is strict about what it needs and ignores fields it does not know,
//! as a peer of a newer version may send them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("bad document id: {0}")]
    BadDocumentId(String),
    #[error("bad sync message for {document}: {reason}")]
    BadSync { document: String, reason: String },
    #[error("protocol error: {0}")]
    Unexpected(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    #[serde(default)]
    pub is_ephemeral: bool,
}

/// Heads a peer with a given storage id was seen at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadsAt {
    pub heads: Vec<String>,
    pub timestamp: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    #[serde(rename_all = "camelCase")]
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
        /// automerge-repo writes `peerMetadata`; its README says `metadata`. Both are read.
        #[serde(default, alias = "metadata", skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
    },
    #[serde(rename_all = "camelCase")]
    Peer {
        sender_id: String,
        selected_protocol_version: String,
        target_id: String,
        #[serde(default, alias = "metadata", skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
    },
    #[serde(rename_all = "camelCase")]
    Leave { sender_id: String },
    #[serde(rename_all = "camelCase")]
    Request {
        document_id: String,
        sender_id: String,
        target_id: String,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename_all = "camelCase")]
    Sync {
        document_id: String,
        sender_id: String,
        target_id: String,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename = "doc-unavailable", rename_all = "camelCase")]
    DocUnavailable { document_id: String, sender_id: String, target_id: String },
    #[serde(rename_all = "camelCase")]
    Ephemeral {
        sender_id: String,
        target_id: String,
        count: u64,
        session_id: String,
        document_id: String,
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename_all = "camelCase")]
    Error {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sender_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_id: Option<String>,
    },
    #[serde(rename = "remote-subscription-change", rename_all = "camelCase")]
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        add: Option<Vec<String>>,
        #[serde(default)]
        remove: Vec<String>,
    },
    #[serde(rename = "remote-heads-changed", rename_all = "camelCase")]
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: String,
        new_heads: BTreeMap<String, HeadsAt>,
    },
}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }

    /// An error to send before closing a connection.
    pub fn error(message: impl Into<String>) -> Message {
        Message::Error { message: message.into(), sender_id: None, target_id: None }
    }
}

pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(message, &mut out).expect("writing CBOR to memory cannot fail");
    out
}

/// Decodes one message; any bytes that are not a message we know give `Malformed`.
pub fn decode(bytes: &[u8]) -> Result<Message, ProtocolError> {
    ciborium::from_reader(bytes).map_err(|e| ProtocolError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Message> {
        let s = |t: &str| t.to_string();
        vec![
            Message::Join {
                sender_id: s("client"),
                supported_protocol_versions: vec![s("1")],
                peer_metadata: Some(PeerMetadata { storage_id: Some(s("store")), is_ephemeral: false }),
            },
            Message::Peer {
                sender_id: s("relay"),
                selected_protocol_version: s("1"),
                target_id: s("client"),
                peer_metadata: None,
            },
            Message::Leave { sender_id: s("client") },
            Message::Request { document_id: s("doc"), sender_id: s("a"), target_id: s("b"), data: vec![1, 2, 3] },
            Message::Sync { document_id: s("doc"), sender_id: s("a"), target_id: s("b"), data: vec![] },
            Message::DocUnavailable { document_id: s("doc"), sender_id: s("a"), target_id: s("b") },
            Message::Ephemeral {
                sender_id: s("a"),
                target_id: s("b"),
                count: 7,
                session_id: s("session"),
                document_id: s("doc"),
                data: vec![0xa0],
            },
            Message::error("bad"),
            Message::RemoteSubscriptionChange {
                sender_id: s("a"),
                target_id: s("b"),
                add: Some(vec![s("x")]),
                remove: vec![],
            },
            Message::RemoteHeadsChanged {
                sender_id: s("a"),
                target_id: s("b"),
                document_id: s("doc"),
                new_heads: BTreeMap::from([(s("x"), HeadsAt { heads: vec![s("h")], timestamp: 5 })]),
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for m in all() {
            assert_eq!(decode(&encode(&m)).unwrap(), m, "{}", m.kind());
        }
    }

    #[test]
    fn wire_names_match_automerge_repo() {
        let value: ciborium::Value = ciborium::from_reader(encode(&all()[3]).as_slice()).unwrap();
        let map = value.as_map().unwrap();
        let keys: Vec<&str> = map.iter().map(|(k, _)| k.as_text().unwrap()).collect();
        assert_eq!(keys, ["type", "documentId", "senderId", "targetId", "data"]);
        assert!(map.iter().any(|(k, v)| k.as_text() == Some("data") && v.is_bytes()), "data is a CBOR byte string");
        let value: ciborium::Value = ciborium::from_reader(encode(&all()[5]).as_slice()).unwrap();
        assert!(value.as_map().unwrap().iter().any(|(_, v)| v.as_text() == Some("doc-unavailable")));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(decode(&[]), Err(ProtocolError::Malformed(_))));
        assert!(matches!(decode(&[0xff, 0x00, 0x13]), Err(ProtocolError::Malformed(_))));
        let mut unknown = Vec::new();
        ciborium::into_writer(&BTreeMap::from([("type", "teleport"), ("senderId", "a")]), &mut unknown).unwrap();
        let err = decode(&unknown).unwrap_err();
        assert!(err.to_string().contains("teleport"), "{err}");
        let mut missing = Vec::new();
        ciborium::into_writer(&BTreeMap::from([("type", "sync"), ("senderId", "a")]), &mut missing).unwrap();
        assert!(decode(&missing).is_err());
    }

    #[test]
    fn the_readme_spelling_of_join_metadata_is_read_too() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ReadmeJoin<'a> {
            r#type: &'a str,
            sender_id: &'a str,
            supported_protocol_versions: [&'a str; 1],
            metadata: PeerMetadata,
        }
        let mut bytes = Vec::new();
        let join = ReadmeJoin {
            r#type: "join",
            sender_id: "c",
            supported_protocol_versions: ["1"],
            metadata: PeerMetadata { storage_id: None, is_ephemeral: true },
        };
        ciborium::into_writer(&join, &mut bytes).unwrap();
        let Message::Join { peer_metadata, .. } = decode(&bytes).unwrap() else { panic!("not a join") };
        assert!(peer_metadata.unwrap().is_ephemeral);
    }
}
