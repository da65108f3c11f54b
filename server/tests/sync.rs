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
    a.doc.create("r1", risk("Regional outage"), T0).unwrap();
    a.connect(&url).await.unwrap();
    a.settle(QUIET).await.unwrap();

    let mut b = Client::joining(id);
    b.connect(&relay.url(&relay.member("Tom", "editor", &[id]))).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert!(!b.unavailable);
    assert_eq!(b.register().risks["r1"].title, "Regional outage");

    // Both edit the same record, different fields, at the same time; then more records.
    for n in 0..10 {
        a.doc.update::<Risk>("r1", T0 + n, |r| r.controls = format!("a{n}")).unwrap();
        b.doc.update::<Risk>("r1", T0 + n, |r| r.description = format!("b{n}")).unwrap();
        a.doc.create(&format!("a-{n}"), risk("from a"), T0 + n).unwrap();
        b.doc.create(&format!("b-{n}"), risk("from b"), T0 + n).unwrap();
        a.push().await.unwrap();
        b.push().await.unwrap();
    }
    for _ in 0..3 {
        a.settle(QUIET).await.unwrap();
        b.settle(QUIET).await.unwrap();
    }
    assert_eq!(a.doc.heads(), b.doc.heads());
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
                client.doc.create(&rid, risk(&rid), T0 + n).unwrap();
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
    let heads = clients[0].doc.heads();
    for c in clients.iter_mut() {
        assert_eq!(c.doc.heads(), heads);
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
        a.doc.create(&format!("r{n}"), risk("kept"), T0 + n).unwrap();
        a.push().await.unwrap();
        a.settle(Duration::from_millis(5)).await.unwrap();
    }
    a.settle(QUIET).await.unwrap();
    assert_eq!(a.relay_heads(), Some(a.doc.heads()), "the relay acknowledged everything");
    relay.kill();

    let relay = Relay::start(dir.path(), &data);
    let mut b = Client::joining(id);
    b.connect(&relay.url(&token)).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert_eq!(b.doc.heads(), a.doc.heads());
    assert_eq!(b.register().risks.len(), 100);
}
