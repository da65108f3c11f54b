//! A Rust sync client driving `shared::protocol` over a real WebSocket: what the relay's
//! tests and the load generator use to play a device.

use futures_util::{SinkExt, StreamExt};
use shared::protocol::{ClientConnection, DocumentId, Incoming, Message, decode, encode};
use shared::{Register, RegisterDoc};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The time every test edit claims (17 Nov 2026), so runs are reproducible.
pub const T0: i64 = 1_795_000_000;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A device syncing one register through the relay.
pub struct Client {
    pub doc: RegisterDoc,
    pub id: DocumentId,
    connection: ClientConnection,
    socket: Option<Socket>,
    pub refused: Option<String>,
    pub unavailable: bool,
}

impl Client {
    /// A device that starts the register.
    pub fn creating(id: DocumentId, name: &str) -> Client {
        Client::with_doc(id, RegisterDoc::new(name, T0).unwrap())
    }

    /// A device that only knows the register's id and asks the relay for it.
    pub fn joining(id: DocumentId) -> Client {
        Client::with_doc(id, RegisterDoc::empty())
    }

    pub fn with_doc(id: DocumentId, doc: RegisterDoc) -> Client {
        let peer = format!("test-{}", uuid::Uuid::new_v4());
        Client { doc, id, connection: ClientConnection::new(peer), socket: None, refused: None, unavailable: false }
    }

    /// Connects, joins and opens the register. Sync state starts afresh on every connection.
    pub async fn connect(&mut self, url: &str) -> Result<(), String> {
        let (socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
        self.socket = Some(socket);
        self.connection = ClientConnection::new(self.connection.peer_id().to_string());
        let join = self.connection.join(None);
        self.send(join).await?;
        while !self.connection.connected() {
            if !self.receive_one(Duration::from_secs(5)).await? {
                return Err("no answer to join".into());
            }
        }
        self.push().await
    }

    async fn send(&mut self, message: Message) -> Result<(), String> {
        let socket = self.socket.as_mut().ok_or("not connected")?;
        socket.send(Frame::Binary(encode(&message).into())).await.map_err(|e| e.to_string())
    }

    /// Sends whatever local changes the relay has not had.
    pub async fn push(&mut self) -> Result<(), String> {
        if let Some(message) = self.connection.sync(self.id, self.doc.automerge()) {
            self.send(message).await?;
        }
        Ok(())
    }

    /// Handles one message; false when none came within `wait`.
    pub async fn receive_one(&mut self, wait: Duration) -> Result<bool, String> {
        let socket = self.socket.as_mut().ok_or("not connected")?;
        let frame = match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => return Ok(false),
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(frame)) => frame.map_err(|e| e.to_string())?,
        };
        let Frame::Binary(bytes) = frame else { return Ok(true) };
        let message = decode(&bytes).map_err(|e| e.to_string())?;
        // TRACE_SYNC=1 prints every message a test client receives, for debugging a test.
        if std::env::var_os("TRACE_SYNC").is_some() {
            eprintln!("{} <- {}", self.connection.peer_id(), message.kind());
        }
        match self.connection.accept(message).map_err(|e| e.to_string())? {
            Incoming::Sync { document, data } => {
                let reply = self.connection.apply(document, self.doc.automerge(), &data).map_err(|e| e.to_string())?;
                if let Some(reply) = reply {
                    self.send(reply).await?;
                }
            }
            Incoming::Refused(reason) => {
                self.refused = Some(reason.clone());
                return Err(format!("refused: {reason}"));
            }
            Incoming::Unavailable(_) => self.unavailable = true,
            Incoming::Connected { .. } | Incoming::Ignored => {}
        }
        Ok(true)
    }

    /// Handles messages until none arrives for `quiet`.
    pub async fn settle(&mut self, quiet: Duration) -> Result<(), String> {
        while self.receive_one(quiet).await? {}
        Ok(())
    }

    /// The heads the relay last said it has, as this client's sync state records them.
    pub fn relay_heads(&self) -> Option<Vec<automerge::ChangeHash>> {
        self.connection.their_heads(&self.id)
    }

    pub fn register(&self) -> Register {
        self.doc.register().unwrap()
    }

    pub async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
    }
}

pub fn new_document_id() -> DocumentId {
    DocumentId(*uuid::Uuid::new_v4().as_bytes())
}
