//! A Rust device: `shared::replica::Replica` (the same replica the browser's register worker
//! runs) over a real WebSocket, with a storage that takes every write at once. The relay's
//! tests and the load generator use it to play a device.

use futures_util::{SinkExt, StreamExt};
use shared::protocol::DocumentId;
use shared::replica::{ChunkKey, Config, Effect, Event, Now, Replica, SyncStatus};
use shared::{Date, DocError, Register, RegisterDoc};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The time every test edit claims (17 Nov 2026), so runs are reproducible.
pub const T0: i64 = 1_795_000_000;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The moment a test device says everything happens at.
fn moment() -> Now {
    Now { seconds: T0, today: Date::ymd(2026, 11, 17).expect("a real date") }
}

/// A device syncing one register through the relay.
pub struct Client {
    replica: Replica,
    pub id: DocumentId,
    socket: Option<Socket>,
    /// Bytes the replica asked to send and not yet sent.
    outbox: VecDeque<Vec<u8>>,
    /// Chunks "stored" so far: the device's storage takes every write at once.
    chunks: u64,
    pub refused: Option<String>,
    /// The last message handled was the relay's refusal.
    just_refused: bool,
    /// The close code the relay last ended the connection with.
    pub close_code: Option<u16>,
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
        let config = Config { register: id, relay: true, viewer: false, peer, sample: false };
        let mut client = Client {
            replica: Replica::with_doc(config, doc, moment()),
            id,
            socket: None,
            outbox: VecDeque::new(),
            chunks: 0,
            refused: None,
            just_refused: false,
            close_code: None,
            unavailable: false,
        };
        client.carry_out();
        // Opening asks to connect; this device connects when `connect` is called, so the
        // replica hears of the first (failed) attempt and waits for the next.
        client.feed(Event::RelayClosed(None));
        client
    }

    fn feed(&mut self, event: Event) {
        let effects = self.replica.handle(moment(), event);
        self.run(effects);
    }

    fn carry_out(&mut self) {
        let effects = self.replica.effects();
        self.run(effects);
    }

    fn run(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Send(bytes) => self.outbox.push_back(bytes),
                Effect::Write { write, .. } => {
                    self.chunks += 1;
                    let result = Ok(ChunkKey(self.chunks));
                    queue.extend(self.replica.handle(moment(), Event::Written { write, result }));
                }
                Effect::Status(status) => {
                    match status.sync {
                        SyncStatus::Refused(reason) => {
                            self.refused = Some(reason);
                            self.just_refused = true;
                        }
                        SyncStatus::Unavailable => self.unavailable = true,
                        _ => {}
                    }
                    // TRACE_SYNC=1 prints what a test device's replica reports, for debugging a test.
                    if std::env::var_os("TRACE_SYNC").is_some() && status.problem.is_some() {
                        eprintln!("{:?}", status.problem);
                    }
                }
                // One device, one tab: no other tabs to tell, no timers (tests reconnect by hand).
                Effect::Announce(_)
                | Effect::SaveView(_)
                | Effect::Read(_)
                | Effect::Connect
                | Effect::Patch(_)
                | Effect::Stored { .. }
                | Effect::After { .. } => {}
            }
        }
    }

    /// Connects, joins and opens the register. Sync state starts afresh on every connection.
    pub async fn connect(&mut self, url: &str) -> Result<(), String> {
        // Nagle's algorithm off, as a browser's WebSocket has it.
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(url, None, true).await.map_err(|e| e.to_string())?;
        self.socket = Some(socket);
        self.outbox.clear();
        self.feed(Event::Fired(shared::replica::Timer::Reconnect));
        self.feed(Event::RelayOpened);
        self.flush().await?;
        while !self.replica.joined() {
            if !self.receive_one(Duration::from_secs(5)).await? {
                return Err("no answer to join".into());
            }
        }
        self.flush().await
    }

    async fn flush(&mut self) -> Result<(), String> {
        let socket = self.socket.as_mut().ok_or("not connected")?;
        while let Some(bytes) = self.outbox.pop_front() {
            socket.send(Frame::Binary(bytes.into())).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Changes the register with the document's own methods, as an edit on this device.
    pub fn change<T>(&mut self, change: impl FnOnce(&mut RegisterDoc) -> Result<T, DocError>) -> Result<T, DocError> {
        let made = self.replica.change(moment(), |doc, _| change(doc));
        self.carry_out();
        made
    }

    /// Sends whatever local changes the relay has not had.
    pub async fn push(&mut self) -> Result<(), String> {
        self.flush().await
    }

    /// Handles one message; false when none came within `wait`.
    pub async fn receive_one(&mut self, wait: Duration) -> Result<bool, String> {
        let socket = self.socket.as_mut().ok_or("not connected")?;
        let frame = match tokio::time::timeout(wait, socket.next()).await {
            Err(_) => return Ok(false),
            Ok(None) => {
                self.socket = None;
                self.feed(Event::RelayClosed(None));
                return Err("connection closed".into());
            }
            Ok(Some(frame)) => frame.map_err(|e| e.to_string())?,
        };
        if let Frame::Close(close) = &frame {
            // The relay says with the close code whether its last error was final.
            let code = close.as_ref().map(|c| u16::from(c.code));
            self.close_code = code;
            self.socket = None;
            self.feed(Event::RelayClosed(code));
            return Err(match &self.refused {
                Some(reason) if std::mem::take(&mut self.just_refused) => format!("refused: {reason}"),
                _ => "connection closed".into(),
            });
        }
        let Frame::Binary(bytes) = frame else { return Ok(true) };
        // TRACE_SYNC=1 prints every message a test client receives, for debugging a test.
        if std::env::var_os("TRACE_SYNC").is_some()
            && let Ok(message) = shared::protocol::decode(&bytes)
        {
            eprintln!("{} <- {}", self.id, message.kind());
        }
        self.feed(Event::RelayMessage(bytes.to_vec()));
        self.flush().await?;
        if std::mem::take(&mut self.just_refused) {
            return Err(format!("refused: {}", self.refused.clone().unwrap_or_default()));
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
        self.replica.relay_heads()
    }

    pub fn heads(&mut self) -> Vec<automerge::ChangeHash> {
        self.replica.heads()
    }

    /// The register as this device reads it, kept up to date record by record.
    pub fn register(&self) -> &Register {
        self.replica.register()
    }

    /// The whole document with its history, for a test to load and inspect.
    pub fn save(&mut self) -> Vec<u8> {
        self.replica.save()
    }

    pub async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
            self.feed(Event::RelayClosed(None));
        }
    }
}

/// A risk with every score at its lowest: what a scenario needs when the scores do not matter.
pub fn risk(title: &str) -> shared::Risk {
    shared::Risk {
        title: title.into(),
        inherent_likelihood: 1,
        inherent_impact: 1,
        residual_likelihood: 1,
        residual_impact: 1,
        target_score: 1,
        ..Default::default()
    }
}

pub fn new_document_id() -> DocumentId {
    DocumentId(*uuid::Uuid::new_v4().as_bytes())
}
