//! Hostile input to the protocol decoder and the sync state machine: random bytes and
//! mutations of valid messages never panic, and a refused sync message changes nothing.
//! (A stable-toolchain complement to a cargo-fuzz target; see docs/BENCHMARKS.md.)
#![cfg(not(target_arch = "wasm32"))]

use automerge::AutoCommit;
use automerge::transaction::Transactable;
use proptest::prelude::*;
use shared::protocol::{DocumentId, Message, SyncStates, decode, encode};

fn valid_messages() -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "name", "Register").unwrap();
    let mut states = SyncStates::default();
    let data = states.generate(DocumentId([1; 16]), &mut doc).unwrap();
    let id = DocumentId([1; 16]).to_string();
    [
        Message::Join { sender_id: "a".into(), supported_protocol_versions: vec!["1".into()], peer_metadata: None },
        Message::Sync { document_id: id.clone(), sender_id: "a".into(), target_id: "b".into(), data: data.clone() },
        Message::Request { document_id: id.clone(), sender_id: "a".into(), target_id: "b".into(), data },
        Message::DocUnavailable { document_id: id, sender_id: "a".into(), target_id: "b".into() },
    ]
    .iter()
    .map(encode)
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let mut doc = AutoCommit::new();
        let heads = doc.get_heads();
        if SyncStates::default().receive(DocumentId([2; 16]), &mut doc, &bytes).is_err() {
            prop_assert_eq!(doc.get_heads(), heads);
        }
    }

    #[test]
    fn mutated_messages_never_panic(which in 0usize..4, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = valid_messages()[which].clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(Message::Sync { data, .. } | Message::Request { data, .. }) = decode(&bytes) {
            let mut doc = AutoCommit::new();
            let _ = SyncStates::default().receive(DocumentId([3; 16]), &mut doc, &data);
        }
    }
}
