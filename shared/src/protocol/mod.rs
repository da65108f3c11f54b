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
