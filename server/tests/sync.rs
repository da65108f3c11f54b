//! Rust clients syncing one register through the relay over real sockets on 127.0.0.1.

mod support;

use shared::*;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(300);

fn risk(title: &str) -> Risk {
    Risk {
        title: title.into(),
        inherent_likelihood: 3,
        inherent_impact: 3,
        residual_likelihood: 2,
        residual_impact: 2,
        target_score: 4,
        ..Default::default()
    }
}

#[tokio::test]
async fn two_clients_editing_concurrently_converge() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let url = relay.url(&relay.member("Amara", "editor", &[id]));

    let mut a = Client::creating(id, "Shared register");
    a.change(|d| d.create("r1", risk("Regional outage"), T0)).unwrap();
    a.connect(&url).await.unwrap();
    a.settle(QUIET).await.unwrap();

    let mut b = Client::joining(id);
    b.connect(&relay.url(&relay.member("Tom", "editor", &[id]))).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert!(!b.unavailable);
    assert_eq!(b.register().risks["r1"].title, "Regional outage");

    // Both edit the same record, different fields, at the same time; then more records.
    for n in 0..10 {
        a.change(|d| d.update::<Risk>("r1", T0 + n, |r| r.controls = format!("a{n}"))).unwrap();
        b.change(|d| d.update::<Risk>("r1", T0 + n, |r| r.description = format!("b{n}"))).unwrap();
        a.change(|d| d.create(&format!("a-{n}"), risk("from a"), T0 + n)).unwrap();
        b.change(|d| d.create(&format!("b-{n}"), risk("from b"), T0 + n)).unwrap();
        a.push().await.unwrap();
        b.push().await.unwrap();
    }
    for _ in 0..3 {
        a.settle(QUIET).await.unwrap();
        b.settle(QUIET).await.unwrap();
    }
    assert_eq!(a.heads(), b.heads());
    let register = a.register();
    assert_eq!(register, b.register());
    assert_eq!(register.risks["r1"].controls, "a9");
    assert_eq!(register.risks["r1"].description, "b9");
    assert_eq!(register.risks.len(), 21);
}

#[tokio::test]
async fn ten_clients_converge_to_identical_heads() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let url = relay.url(&relay.member("Team", "editor", &[id]));
    let mut first = Client::creating(id, "Ten devices");
    first.connect(&url).await.unwrap();
    first.settle(QUIET).await.unwrap();

    let mut tasks = Vec::new();
    for device in 0..10 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::joining(id);
            client.connect(&url).await.unwrap();
            client.settle(QUIET).await.unwrap();
            for n in 0..10 {
                let rid = format!("d{device}-{n}");
                client.change(|d| d.create(&rid, risk(&rid), T0 + n)).unwrap();
                client.push().await.unwrap();
                client.settle(Duration::from_millis(20)).await.unwrap();
            }
            client
        }));
    }
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.unwrap());
    }
    clients.push(first);
    // Everyone keeps listening until the relay has nothing more to say to anyone.
    for _ in 0..4 {
        for c in clients.iter_mut() {
            c.push().await.unwrap();
            c.settle(QUIET).await.unwrap();
        }
    }
    let heads = clients[0].heads();
    for c in clients.iter_mut() {
        assert_eq!(c.heads(), heads);
    }
    assert_eq!(clients[0].register().risks.len(), 100);
}

#[tokio::test]
async fn a_register_the_relay_does_not_have_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let mut c = Client::joining(id);
    c.connect(&relay.url(&relay.member("Amara", "editor", &[id]))).await.unwrap();
    c.settle(QUIET).await.unwrap();
    assert!(c.unavailable);
}

#[tokio::test]
async fn what_the_relay_acknowledged_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut relay = Relay::start(dir.path(), &data);
    let id = new_document_id();
    let token = relay.member("Amara", "editor", &[id]);
    let mut a = Client::creating(id, "Durable");
    a.connect(&relay.url(&token)).await.unwrap();
    for n in 0..100 {
        a.change(|d| d.create(&format!("r{n}"), risk("kept"), T0 + n)).unwrap();
        a.push().await.unwrap();
        a.settle(Duration::from_millis(5)).await.unwrap();
    }
    a.settle(QUIET).await.unwrap();
    assert_eq!(a.relay_heads(), Some(a.heads()), "the relay acknowledged everything");
    relay.kill();

    let relay = Relay::start(dir.path(), &data);
    let mut b = Client::joining(id);
    b.connect(&relay.url(&token)).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert_eq!(b.heads(), a.heads());
    assert_eq!(b.register().risks.len(), 100);
}

/// Presence messages reach the other peers of the same register, and only those.
#[tokio::test]
async fn ephemeral_messages_reach_the_other_peers_of_the_register() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::{DocumentId, Message, decode, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let (id, elsewhere) = (new_document_id(), new_document_id());
    let mut owner = Client::creating(id, "Presence");
    owner.connect(&relay.url(&relay.member("Owner", "editor", &[id]))).await.unwrap();
    owner.settle(QUIET).await.unwrap();

    // Three raw peers: two open the register, one opens another register.
    let opening = |doc: DocumentId, peer: &str| {
        let mut state = automerge::sync::State::new();
        let data = automerge::AutoCommit::new().sync().generate_sync_message(&mut state).unwrap().encode();
        Message::Request { document_id: doc.to_string(), sender_id: peer.into(), target_id: "relay".into(), data }
    };
    use automerge::sync::SyncDoc;
    let viewer = relay.member("Viewer", "viewer", &[id]);
    let mut sockets = Vec::new();
    for (peer, doc) in [("alice", id), ("bob", id), ("carol", elsewhere)] {
        let token = if doc == id { viewer.clone() } else { relay.member(peer, "editor", &[doc]) };
        let mut socket = joined(&relay.url(&token), peer).await;
        socket.send(Frame::Binary(encode(&opening(doc, peer)).into())).await.unwrap();
        sockets.push(socket);
    }
    // Drain the initial sync replies.
    async fn drain(socket: &mut Socket) -> Vec<Message> {
        let mut got = Vec::new();
        while let Ok(Some(Ok(frame))) = tokio::time::timeout(QUIET, socket.next()).await {
            if let Frame::Binary(bytes) = frame {
                got.push(decode(&bytes).unwrap());
            }
        }
        got
    }
    for socket in &mut sockets {
        drain(socket).await;
    }

    let presence = Message::Ephemeral {
        sender_id: "alice".into(),
        target_id: "relay".into(),
        count: 1,
        session_id: "s1".into(),
        document_id: id.to_string(),
        data: b"looking at R-001".to_vec(),
    };
    sockets[0].send(Frame::Binary(encode(&presence).into())).await.unwrap();

    let bob = drain(&mut sockets[1]).await;
    assert!(
        bob.iter().any(|m| matches!(m, Message::Ephemeral { sender_id, target_id, data, .. }
            if sender_id == "alice" && target_id == "bob" && data == b"looking at R-001")),
        "{bob:?}"
    );
    assert!(drain(&mut sockets[0]).await.is_empty(), "not echoed to the sender");
    assert!(drain(&mut sockets[2]).await.is_empty(), "not sent to a peer of another register");
    owner.settle(QUIET).await.unwrap();

    // An ephemeral message claiming another sender closes the connection.
    let forged = Message::Ephemeral {
        sender_id: "bob".into(),
        target_id: "relay".into(),
        count: 2,
        session_id: "s1".into(),
        document_id: id.to_string(),
        data: vec![],
    };
    sockets[0].send(Frame::Binary(encode(&forged).into())).await.unwrap();
    let reply = drain(&mut sockets[0]).await;
    assert!(reply.iter().any(|m| matches!(m, Message::Error { message, .. } if message.contains("senderId"))));
    assert!(drain(&mut sockets[1]).await.is_empty());
}
