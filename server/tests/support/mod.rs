//! Test support: the relay binary started on 127.0.0.1 with port 0 and a temporary data
//! directory, members added with its own subcommand; the sync client is `continuity_tests::client`.
#![allow(dead_code, unused_imports)] // each test file uses its own part of this

pub use continuity_tests::client::{Client, Socket, T0, new_document_id, risk};
use shared::protocol::DocumentId;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Relay {
    pub child: Child,
    pub addr: String,
    pub data: PathBuf,
    /// `--database`, when the relay keeps its registers in PostgreSQL.
    pub database: Option<String>,
}

impl Relay {
    /// Starts the relay on a free port with `data` as its data directory.
    pub fn start(dist: &Path, data: &Path) -> Relay {
        Relay::start_with(dist, data, &[])
    }

    /// Starts the relay with extra flags (limits, for example).
    pub fn start_with(dist: &Path, data: &Path, flags: &[&str]) -> Relay {
        std::fs::write(dist.join("index.html"), "<title>Continuity Register</title>").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
            .args(["--listen", "127.0.0.1:0", "--dist"])
            .arg(dist)
            .arg("--data")
            .arg(data)
            .args(flags)
            // RELAY_LOG=debug shows what the relays did, for debugging a test.
            .env("RUST_LOG", std::env::var("RELAY_LOG").unwrap_or_else(|_| "warn,automerge=off".into()))
            .stdout(Stdio::piped())
            .spawn()
            .expect("relay starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().trim_end_matches('/').to_string();
        assert!(!addr.is_empty(), "the relay printed its address");
        let database = flags.iter().position(|f| *f == "--database").map(|i| flags[i + 1].to_string());
        Relay { child, addr, data: data.to_path_buf(), database }
    }

    /// The sync URL with a member's token.
    pub fn url(&self, token: &str) -> String {
        format!("ws://{}/sync?token={token}", self.addr)
    }

    /// Adds a member with the relay's own subcommand and returns their token.
    pub fn member(&self, name: &str, role: &str, registers: &[DocumentId]) -> String {
        match &self.database {
            Some(url) => add_member_with(&["--database", url], name, role, registers),
            None => add_member(&self.data, name, role, registers),
        }
    }

    /// Kills the relay with SIGKILL: no shutdown, no flushing.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Adds a member to a data directory (the relay may be running) and returns their token.
pub fn add_member(data: &Path, name: &str, role: &str, registers: &[DocumentId]) -> String {
    add_member_with(&["--data", &data.to_string_lossy()], name, role, registers)
}

/// Adds a member to the database the flags name (`--data` or `--database`).
pub fn add_member_with(flags: &[&str], name: &str, role: &str, registers: &[DocumentId]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_continuity-relay"));
    command.args(flags).args(["member", "add", "--name", name, "--role", role]);
    for r in registers {
        command.arg("--register").arg(r.to_string());
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().find(|l| l.starts_with("cr_")).expect("a token is printed").to_string()
}

/// A plain HTTP/1.0 GET returning the whole response: enough for a test, and keeps an HTTP
/// client out of the build.
pub fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A plain HTTP/1.0 POST of a JSON body with extra header lines (each ending `\r\n`),
/// returning the status and the body.
pub fn http_post(addr: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// Opens a raw socket as peer `peer`, joins, and returns it.
pub async fn joined(url: &str, peer: &str) -> Socket {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{Message, decode, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let join =
        Message::Join { sender_id: peer.into(), supported_protocol_versions: vec!["1".into()], peer_metadata: None };
    socket.send(Frame::Binary(encode(&join).into())).await.unwrap();
    let reply = socket.next().await.unwrap().unwrap();
    assert!(matches!(decode(&reply.into_data()).unwrap(), Message::Peer { .. }));
    socket
}
