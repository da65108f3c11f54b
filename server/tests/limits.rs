//! Malformed and oversized input, and the configurable limits: each gets an `error` (where a
//! message can still be sent) and closes that connection, while another connection syncing
//! at the same time does not notice.

mod support;

use futures_util::{SinkExt, StreamExt};
use shared::protocol::{Message, decode, encode};
use std::time::Duration;
use support::*;
use tokio_tungstenite::tungstenite::Message as Frame;

const QUIET: Duration = Duration::from_millis(300);

/// Reads until the relay closes the socket; returns the error message it sent, if any.
async fn error_then_close(socket: &mut Socket) -> Option<String> {
    error_and_close_code(socket).await.0
}

/// The relay's `error`, and the close code it ended the connection with.
async fn error_and_close_code(socket: &mut Socket) -> (Option<String>, Option<u16>) {
    let mut error = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("the relay closes the socket") {
            Some(Ok(Frame::Binary(bytes))) => {
                if let Ok(Message::Error { message, .. }) = decode(&bytes) {
                    error = Some(message);
                }
            }
            Some(Ok(Frame::Close(close))) => return (error, close.map(|c| u16::from(c.code))),
            None | Some(Err(_)) => return (error, None),
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn bad_input_closes_only_the_connection_that_sent_it() {
    let dir = tempfile::tempdir().unwrap();
    let flags =
        ["--max-message-bytes", "65536", "--max-documents-per-connection", "2", "--max-messages-per-second", "50"];
    let relay = Relay::start_with(dir.path(), &dir.path().join("data"), &flags);
    let id = new_document_id();
    let others: Vec<_> = (0..3).map(|_| new_document_id()).collect();
    let mut grants = vec![id];
    grants.extend(&others);
    let url = relay.url(&relay.member("Tester", "editor", &grants));

    // A well-behaved client keeps syncing throughout.
    let mut good = Client::creating(id, "Still fine");
    good.connect(&url).await.unwrap();

    let cases: Vec<(&str, Frame, &str)> = vec![
        ("malformed CBOR", Frame::Binary(vec![0xff, 0x00, 0x13].into()), "malformed message"),
        ("unknown type", Frame::Binary(cbor(&[("type", "teleport"), ("senderId", "raw")]).into()), "teleport"),
        ("text frame", Frame::Text("hello".into()), "text frames are not part of the protocol"),
        (
            "bad sync bytes",
            Frame::Binary(
                encode(&Message::Sync {
                    document_id: id.to_string(),
                    sender_id: "raw".into(),
                    target_id: "relay".into(),
                    data: b"\x42not a sync message".to_vec(),
                })
                .into(),
            ),
            "bad sync message",
        ),
        (
            "bad document id",
            Frame::Binary(
                encode(&Message::Sync {
                    document_id: "not-an-id".into(),
                    sender_id: "raw".into(),
                    target_id: "relay".into(),
                    data: vec![],
                })
                .into(),
            ),
            "bad document id",
        ),
        (
            "someone else's senderId",
            Frame::Binary(
                encode(&Message::Sync {
                    document_id: id.to_string(),
                    sender_id: "impostor".into(),
                    target_id: "relay".into(),
                    data: vec![],
                })
                .into(),
            ),
            "is not the peer that joined",
        ),
    ];
    for (what, frame, expected) in cases {
        let mut socket = joined(&url, "raw").await;
        socket.send(frame).await.unwrap();
        let error = error_then_close(&mut socket).await;
        assert!(error.as_deref().unwrap_or_default().contains(expected), "{what}: {error:?}");
        good.push().await.unwrap();
        good.settle(Duration::from_millis(50)).await.unwrap();
    }

    // An oversized frame: the socket is closed.
    let mut socket = joined(&url, "raw").await;
    let _ = socket.send(Frame::Binary(vec![0u8; 70_000].into())).await;
    error_then_close(&mut socket).await;

    // More registers than a connection may sync.
    let mut socket = joined(&url, "raw").await;
    let mut error = None;
    for other in others.iter() {
        let mut doc = automerge::AutoCommit::new();
        let mut state = automerge::sync::State::new();
        use automerge::sync::SyncDoc;
        let data = doc.sync().generate_sync_message(&mut state).unwrap().encode();
        let m = Message::Request {
            document_id: other.to_string(),
            sender_id: "raw".into(),
            target_id: "relay".into(),
            data,
        };
        if socket.send(Frame::Binary(encode(&m).into())).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(QUIET, socket.next()).await {
        if let Ok(Message::Error { message, .. }) = decode(&frame.into_data()) {
            error = Some(message);
        }
    }
    assert!(error.unwrap_or_default().contains("at most 2 registers"));

    // Too many messages in a second.
    let mut socket = joined(&url, "raw").await;
    for _ in 0..60 {
        let leave_alone = Message::Ephemeral {
            sender_id: "raw".into(),
            target_id: "relay".into(),
            count: 1,
            session_id: "s".into(),
            document_id: id.to_string(),
            data: vec![],
        };
        if socket.send(Frame::Binary(encode(&leave_alone).into())).await.is_err() {
            break;
        }
    }
    let (error, code) = error_and_close_code(&mut socket).await;
    assert!(error.unwrap_or_default().contains("more than 50 messages in a second"));
    assert_eq!(code, Some(shared::protocol::CLOSE_RETRY), "passing: slow down and reconnect");

    // The good client never noticed, and the relay still answers new ones.
    good.change(|d| d.create("p1", shared::Person { name: "Still here".into(), ..Default::default() }, T0)).unwrap();
    good.push().await.unwrap();
    good.settle(QUIET).await.unwrap();
    let mut late = Client::joining(id);
    late.connect(&url).await.unwrap();
    late.settle(QUIET).await.unwrap();
    assert_eq!(late.register().people["p1"].name, "Still here");
}

#[tokio::test]
async fn metrics_and_cache_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app-15cdc80121826cc0.css"), "body{}").unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let mut c = Client::creating(id, "Measured");
    c.connect(&relay.url(&relay.member("Amara", "editor", &[id]))).await.unwrap();
    c.settle(QUIET).await.unwrap();

    let metrics = http_get(&relay.addr, "/metrics");
    assert!(metrics.contains("text/plain"), "{metrics}");
    for name in [
        "continuity_relay_connections 1",
        "continuity_relay_documents 1",
        "continuity_relay_messages_received_total",
        "continuity_relay_bytes_sent_total",
        "continuity_relay_storage_write_seconds_count 1",
    ] {
        assert!(metrics.contains(name), "no {name} in\n{metrics}");
    }
    let hashed = http_get(&relay.addr, "/app-15cdc80121826cc0.css").to_ascii_lowercase();
    assert!(hashed.contains("cache-control: public, max-age=31536000, immutable"), "{hashed}");
    let index = http_get(&relay.addr, "/").to_ascii_lowercase();
    assert!(index.contains("cache-control: no-cache"), "{index}");
}

fn cbor(pairs: &[(&str, &str)]) -> Vec<u8> {
    let map: std::collections::BTreeMap<&str, &str> = pairs.iter().copied().collect();
    let mut out = Vec::new();
    ciborium::into_writer(&map, &mut out).unwrap();
    out
}
