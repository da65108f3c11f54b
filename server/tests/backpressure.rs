//! The relay under pressure, through real sockets: a peer that stops reading is closed once
//! its queue fills while the others carry on, a register nobody syncs is dropped from memory
//! and loaded again for the next peer, and connections past the limit are told to come back.

mod support;

use futures_util::{SinkExt, StreamExt};
use shared::protocol::{Message, decode, encode};
use std::time::{Duration, Instant};
use support::*;
use tokio_tungstenite::tungstenite::Message as Frame;

/// The value of one of the relay's metrics.
fn metric(relay: &Relay, name: &str) -> f64 {
    let text = http_get(&relay.addr, "/metrics");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("continuity_relay_{name} ")).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A sync message with no changes: how a peer says which register it syncs.
fn hello(id: shared::protocol::DocumentId, peer: &str) -> Vec<u8> {
    let mut doc = automerge::AutoCommit::new();
    let mut state = automerge::sync::State::new();
    use automerge::sync::SyncDoc;
    let data = doc.sync().generate_sync_message(&mut state).unwrap().encode();
    encode(&Message::Request { document_id: id.to_string(), sender_id: peer.into(), target_id: "relay".into(), data })
}

#[tokio::test]
async fn a_peer_that_never_reads_is_closed_once_its_queue_fills_and_the_others_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--outbox-messages", "64", "--max-ephemeral-per-second", "1000", "--max-messages-per-second", "5000"];
    let relay = Relay::start_with(dir.path(), &dir.path().join("data"), &flags);
    let id = new_document_id();
    let url = relay.url(&relay.member("Load", "editor", &[id]));
    let mut writer = Client::creating(id, "Busy register");
    writer.connect(&url).await.unwrap();
    writer.settle(Duration::from_millis(300)).await.unwrap();
    writer.close().await;
    // A peer that reads throughout, flood and all, until the edit made after it arrives.
    let mut reader = Client::joining(id);
    reader.connect(&url).await.unwrap();
    let reading = tokio::spawn(async move {
        let started = Instant::now();
        while !reader.register().risks.contains_key("r-after") {
            assert!(started.elapsed() < Duration::from_secs(30), "the edit reached the reader");
            reader.receive_one(Duration::from_millis(200)).await.unwrap();
        }
    });

    // The sleeper joins the register and then never reads its socket again.
    let mut sleeper = joined(&url, "sleeper").await;
    sleeper.send(Frame::Binary(hello(id, "sleeper").into())).await.unwrap();
    let mut broadcaster = joined(&url, "broadcaster").await;
    broadcaster.send(Frame::Binary(hello(id, "broadcaster").into())).await.unwrap();
    // 600 messages of 60 KB is far more than the socket buffers and a queue of 64 hold; a
    // peer that reads has room to spare.
    for count in 0..600 {
        let presence = Message::Ephemeral {
            sender_id: "broadcaster".into(),
            target_id: "relay".into(),
            count,
            session_id: "s".into(),
            document_id: id.to_string(),
            data: vec![7; 60 * 1024],
        };
        if broadcaster.send(Frame::Binary(encode(&presence).into())).await.is_err() {
            break;
        }
        // The broadcaster reads its own socket (the relay answers its request).
        while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, broadcaster.next()).await {}
    }
    eventually("the sleeper to be closed", || metric(&relay, "slow_peers_closed_total") >= 1.0).await;

    // The others were not held up: an edit still reaches the reader.
    writer.connect(&url).await.unwrap();
    writer.change(|d| d.create("r-after", risk("After the flood"), 2)).unwrap();
    writer.push().await.unwrap();
    // The writer reads too (the tail of the flood may still be passing through), until the
    // relay confirms the edit.
    let started = Instant::now();
    while writer.relay_heads() != Some(writer.heads()) {
        assert!(started.elapsed() < Duration::from_secs(30), "the relay confirmed the edit");
        writer.receive_one(Duration::from_millis(200)).await.unwrap();
    }
    reading.await.unwrap();

    // What the sleeper finds when it reads at last: the buffered messages, then the end
    // (the reason if its socket had room for it, else the connection reset).
    let mut closed = false;
    while let Ok(frame) = tokio::time::timeout(Duration::from_secs(5), sleeper.next()).await {
        match frame {
            Some(Ok(Frame::Binary(bytes))) => {
                if let Ok(Message::Error { message, .. }) = decode(&bytes) {
                    assert!(message.contains("stopped reading"), "{message}");
                }
            }
            Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => {
                closed = true;
                break;
            }
            Some(Ok(_)) => {}
        }
    }
    assert!(closed, "the sleeper's connection was ended");
}

#[tokio::test]
async fn a_register_nobody_syncs_is_dropped_from_memory_and_loaded_again_for_the_next_peer() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(dir.path(), &dir.path().join("data"), &["--register-idle-secs", "1"]);
    let id = new_document_id();
    let url = relay.url(&relay.member("Amara", "editor", &[id]));
    let mut first = Client::creating(id, "Dropped and back");
    first.connect(&url).await.unwrap();
    first.settle(Duration::from_millis(300)).await.unwrap();
    assert_eq!(first.relay_heads(), Some(first.heads()), "stored");
    first.close().await;
    eventually("the register to leave memory", || metric(&relay, "documents") == 0.0).await;

    let mut next = Client::joining(id);
    next.connect(&url).await.unwrap();
    next.settle(Duration::from_millis(500)).await.unwrap();
    assert_eq!(next.register().name, "Dropped and back");
    assert_eq!(next.heads(), first.heads());
    assert_eq!(metric(&relay, "documents"), 1.0);
}

#[tokio::test]
async fn a_connection_past_the_limit_is_told_to_come_back_later() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(dir.path(), &dir.path().join("data"), &["--max-connections", "2"]);
    let id = new_document_id();
    let url = relay.url(&relay.member("Amara", "editor", &[id]));
    let _one = joined(&url, "one").await;
    let _two = joined(&url, "two").await;
    let (mut third, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let mut said = None;
    let mut code = None;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(5), third.next()).await {
        match frame {
            Frame::Binary(bytes) => {
                if let Ok(Message::Error { message, .. }) = decode(&bytes) {
                    said = Some(message);
                }
            }
            Frame::Close(close) => {
                code = close.map(|c| u16::from(c.code));
                break;
            }
            _ => {}
        }
    }
    let said = said.expect("the relay says why");
    assert!(said.contains("limit of 2 open connections"), "{said}");
    assert_eq!(code, Some(shared::protocol::CLOSE_RETRY), "reconnecting later can help");
    assert_eq!(metric(&relay, "over_capacity_total"), 1.0);
}
