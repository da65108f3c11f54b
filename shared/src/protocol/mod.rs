//! The automerge-repo sync protocol, version "1", without any IO: the messages and their
//! CBOR encoding, document ids, and the per-connection state of each side. The browser
//! client and the relay both drive these types; they only add the sockets and the storage.

mod docid;
mod message;
mod peer;

pub use docid::DocumentId;
pub use message::{Message, PeerMetadata, ProtocolError, decode, encode};
pub use peer::{ClientConnection, Incoming, SyncStates, answer_join};

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// The WebSocket close code the relay ends a connection with after an `error` that
/// reconnecting will not mend (access revoked, a viewer sending changes). Not part of the
/// automerge-repo protocol, which says nothing about closing: a peer that does not know it
/// sees an ordinary close.
pub const CLOSE_REFUSED: u16 = 4403;
/// The close code after an `error` that is passing (the relay could not store a change,
/// too many messages, a message it could not read): reconnect later, with backoff.
pub const CLOSE_RETRY: u16 = 4503;
