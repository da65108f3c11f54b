//! Fuzz target: the relay's message handler fed a stream of messages from an editor and a
//! viewer, mixing raw frames, arbitrary sync bytes and real changes. It must never panic,
//! what it stores must always load, and nothing a viewer sent is ever stored.
#![no_main]

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use continuity_server::members::{Member, Role};
use continuity_server::relay::{Relay, Session};
use continuity_server::storage::{Memory, Storage};
use libfuzzer_sys::fuzz_target;
use shared::protocol::{DocumentId, Message, decode};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

const REGISTER: DocumentId = DocumentId([7; 16]);

fn member(id: i64, role: Role) -> Member {
    Member { id, name: format!("{role:?}"), role, registers: vec![REGISTER], revoked: false }
}

fuzz_target!(|input: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(run(input));
});

/// Each step is `[kind, who, length, payload...]`; `who` picks the editor or the viewer
/// connection, `kind` what they send.
async fn run(mut input: &[u8]) {
    let storage = Arc::new(Memory::default());
    let relay = Relay::new(storage.clone(), "relay".into());
    let members = [member(1, Role::Editor), member(2, Role::Viewer)];
    let peers = ["editor-peer", "viewer-peer"];
    let (outbox, mut sent) = mpsc::unbounded_channel();
    // Each side's own copy, so real changes reach the relay too.
    let mut docs = [AutoCommit::new(), AutoCommit::new()];
    let mut states = [automerge::sync::State::new(), automerge::sync::State::new()];

    while input.len() >= 3 {
        let (kind, who, len) = (input[0] % 6, (input[1] % 2) as usize, input[2] as usize);
        let payload = &input[3..(3 + len).min(input.len())];
        input = &input[(3 + len).min(input.len())..];
        let session = Session {
            connection: who as u64,
            member: members[who].clone(),
            peer: peers[who].to_string(),
            outbox: outbox.clone(),
        };
        let doc = REGISTER.to_string();
        match kind {
            0 => {
                if let Ok(message) = decode(payload) {
                    match message {
                        Message::Sync { document_id, data, .. } => {
                            let _ = relay.sync(&session, &document_id, &data, false).await;
                        }
                        Message::Request { document_id, data, .. } => {
                            let _ = relay.sync(&session, &document_id, &data, true).await;
                        }
                        ephemeral @ Message::Ephemeral { .. } => {
                            let _ = relay.ephemeral(&session, ephemeral);
                        }
                        _ => {}
                    }
                }
            }
            1 | 2 => {
                let _ = relay.sync(&session, &doc, payload, kind == 2).await;
            }
            3 => {
                // A real edit, sent with the side's sync state.
                let key = String::from_utf8_lossy(payload).into_owned();
                let _ = docs[who].put(ROOT, key, payload.len() as i64);
                if let Some(message) = docs[who].sync().generate_sync_message(&mut states[who]) {
                    let _ = relay.sync(&session, &doc, &message.encode(), false).await;
                }
            }
            4 => {
                // Deliver what the relay sent to this side.
                while let Ok(message) = sent.try_recv() {
                    if let Message::Sync { target_id, data, .. } = message {
                        let to = peers.iter().position(|p| *p == target_id).unwrap_or(who);
                        if let Ok(data) = automerge::sync::Message::decode(&data) {
                            let _ = docs[to].sync().receive_sync_message(&mut states[to], data);
                        }
                    }
                }
            }
            _ => storage.fail_writes.store(payload.first().is_some_and(|b| b % 2 == 1), Ordering::SeqCst),
        }
    }

    // What the relay stored loads, and none of it came from the viewer.
    if let Some(stored) = storage.load(&REGISTER).unwrap() {
        let mut doc = match &stored.snapshot {
            Some(snapshot) => AutoCommit::load(snapshot).expect("a stored snapshot loads"),
            None => AutoCommit::new(),
        };
        for (_, chunk) in &stored.chunks {
            doc.load_incremental(chunk).expect("a stored chunk loads");
        }
    }
    assert!(storage.audit().unwrap().iter().all(|row| row.member != "Viewer"), "a viewer's change was stored");
}
