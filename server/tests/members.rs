//! The member matrix: no token, a wrong token, a revoked token, a register not granted, and
//! a viewer sending changes. None of them reads or writes anything.

mod support;

use shared::*;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(300);

/// Starts a relay holding one register with one risk, written by an editor.
async fn relay_with_register() -> (tempfile::TempDir, Relay, protocol::DocumentId, RegisterDoc) {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let mut editor = Client::creating(id, "Confidential register");
    editor.change(|d| d.create("r1", risk("Secret risk"), T0)).unwrap();
    editor.connect(&relay.url(&relay.member("Editor", "editor", &[id]))).await.unwrap();
    editor.settle(QUIET).await.unwrap();
    // A second device of the same register: a copy that edits as another actor.
    let doc = RegisterDoc::load(&editor.save()).unwrap();
    (dir, relay, id, doc)
}

async fn refused_before_upgrade(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("{url} was upgraded"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("unexpected {other}"),
    }
}

/// A token that is not valid: the socket opens only to carry the reason and a final close
/// code, since a browser cannot read the status of a refused upgrade.
async fn refused_on_the_socket(url: &str) -> (String, u16) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message as Frame;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.expect("upgraded");
    let mut reason = String::new();
    while let Some(Ok(frame)) = socket.next().await {
        match frame {
            Frame::Binary(bytes) => {
                if let Ok(protocol::Message::Error { message, .. }) = protocol::decode(&bytes) {
                    reason = message;
                }
            }
            Frame::Close(Some(close)) => return (reason, u16::from(close.code)),
            _ => {}
        }
    }
    panic!("no close frame from {url}")
}

#[tokio::test]
async fn no_token_wrong_token_and_revoked_token_are_refused_and_told_why() {
    let (_dir, relay, id, _) = relay_with_register().await;
    assert_eq!(refused_before_upgrade(&format!("ws://{}/sync", relay.addr)).await, 401);
    let token = relay.member("Tom", "editor", &[id]);
    let mut wrong = token.clone();
    wrong.push('0');
    for bad in [wrong.as_str(), "cr_1_00"] {
        let (reason, code) = refused_on_the_socket(&relay.url(bad)).await;
        assert!(reason.contains("not valid or has been revoked"), "{reason}");
        assert_eq!(code, protocol::CLOSE_REFUSED);
    }
    let metrics = http_get(&relay.addr, "/metrics");
    assert!(
        metrics.contains("continuity_relay_refused_connections_total 3"),
        "no token and two wrong ones:\n{metrics}"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(&relay.data)
        .args(["member", "revoke", "--name", "Tom"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(refused_on_the_socket(&relay.url(&token)).await.1, protocol::CLOSE_REFUSED);
}

#[tokio::test]
async fn a_register_not_granted_is_unavailable_exactly_like_a_missing_one() {
    let (_dir, relay, id, _) = relay_with_register().await;
    let other = new_document_id();
    let token = relay.member("Outsider", "editor", &[other]);

    let mut c = Client::joining(id);
    c.connect(&relay.url(&token)).await.unwrap();
    c.settle(QUIET).await.unwrap();
    assert!(c.unavailable);
    assert!(c.register().risks.is_empty(), "nothing was read");

    // Writing to it is refused the same way, and nothing is stored.
    let mut writer = Client::with_doc(id, RegisterDoc::new("Intruder", T0).unwrap());
    writer.connect(&relay.url(&token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    let mut check = Client::joining(id);
    check.connect(&relay.url(&relay.member("Checker", "editor", &[id]))).await.unwrap();
    check.settle(QUIET).await.unwrap();
    assert_eq!(check.register().name, "Confidential register");
}

#[tokio::test]
async fn a_viewer_reads_but_cannot_change_anything() {
    let (_dir, relay, id, _) = relay_with_register().await;
    let viewer_token = relay.member("Viewer", "viewer", &[id]);
    let mut viewer = Client::joining(id);
    viewer.connect(&relay.url(&viewer_token)).await.unwrap();
    viewer.settle(QUIET).await.unwrap();
    assert_eq!(viewer.register().risks["r1"].title, "Secret risk", "a viewer can read");

    viewer.change(|d| d.update::<Risk>("r1", T0 + 1, |r| r.title = "Changed by a viewer".into())).unwrap();
    viewer.push().await.unwrap();
    let result = viewer.settle(QUIET).await;
    assert!(result.is_err(), "the connection is closed");
    assert!(viewer.refused.as_deref().unwrap_or_default().contains("may read this register but not change it"));
    assert_eq!(viewer.close_code, Some(protocol::CLOSE_REFUSED), "final: reconnecting will not help");

    let mut check = Client::joining(id);
    check.connect(&relay.url(&relay.member("Checker", "editor", &[id]))).await.unwrap();
    check.settle(QUIET).await.unwrap();
    assert_eq!(check.register().risks["r1"].title, "Secret risk", "nothing was applied or relayed");

    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(&relay.data)
        .arg("audit")
        .output()
        .unwrap();
    let audit = String::from_utf8(audit.stdout).unwrap();
    assert!(audit.starts_with("time,member,register,change"));
    assert!(audit.lines().skip(1).all(|l| l.contains(",Editor,")), "only the editor's changes: {audit}");
    assert!(audit.lines().count() > 1);
}

#[tokio::test]
async fn the_token_can_come_as_a_subprotocol_as_browsers_send_it() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (_dir, relay, id, _) = relay_with_register().await;
    let token = relay.member("Browser", "editor", &[id]);
    let mut request = format!("ws://{}/sync", relay.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", token.parse().unwrap());
    let (_, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers().get("sec-websocket-protocol").unwrap(), token.as_str());
}

#[tokio::test]
async fn revoking_a_member_closes_their_open_connection_within_a_second_and_they_receive_nothing_after() {
    let (_dir, relay, id, _) = relay_with_register().await;
    let token = relay.member("Leaver", "editor", &[id]);
    let mut leaver = Client::joining(id);
    leaver.connect(&relay.url(&token)).await.unwrap();
    leaver.settle(QUIET).await.unwrap();
    assert_eq!(leaver.register().risks["r1"].title, "Secret risk");

    // The leaver only listens: they send nothing that would give the relay a chance to check.
    let revoked_at = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(&relay.data)
        .args(["member", "revoke", "--name", "Leaver"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let closed = leaver.settle(Duration::from_secs(3)).await;
    let took = revoked_at.elapsed();
    assert!(closed.is_err(), "the connection was closed");
    assert!(took < Duration::from_secs(1) + Duration::from_millis(300), "closed {took:?} after the revocation");
    assert_eq!(leaver.close_code, Some(protocol::CLOSE_REFUSED), "final: reconnecting will not help");
    assert!(leaver.refused.as_deref().unwrap_or_default().contains("revoked"), "{:?}", leaver.refused);

    // A change made after the revocation never reaches them.
    let mut editor = Client::joining(id);
    editor.connect(&relay.url(&relay.member("Stayer", "editor", &[id]))).await.unwrap();
    editor.settle(QUIET).await.unwrap();
    editor.change(|d| d.update::<Risk>("r1", T0 + 5, |r| r.title = "Made after the revocation".into())).unwrap();
    editor.push().await.unwrap();
    editor.settle(QUIET).await.unwrap();
    assert!(leaver.receive_one(QUIET).await.is_err(), "nothing more arrives");
    assert_eq!(leaver.register().risks["r1"].title, "Secret risk");
    assert_eq!(refused_on_the_socket(&relay.url(&token)).await.1, protocol::CLOSE_REFUSED);
}

#[tokio::test]
async fn a_connection_that_answers_no_pings_is_closed() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start_with(dir.path(), &dir.path().join("data"), &["--ping-interval-ms", "200"]);
    let id = new_document_id();
    let token = relay.member("Sleeper", "editor", &[id]);
    let (mut socket, _) = tokio_tungstenite::connect_async(relay.url(&token)).await.unwrap();
    // A peer that is gone without closing: it never reads, so it never answers a ping.
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Whatever was queued for it (pings), then the end: the relay has hung up.
    let mut pings = 0;
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(tokio_tungstenite::tungstenite::Message::Ping(_)) => pings += 1,
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return true,
                Ok(_) => {}
            }
        }
        true
    })
    .await
    .unwrap_or(false);
    assert!(ended, "the relay closed a connection silent for {:?}", started.elapsed());
    assert!(pings >= 1, "it was pinged first");
}

#[tokio::test]
async fn an_editor_cannot_replace_a_collection_and_hide_its_records_from_everyone() {
    use automerge::transaction::Transactable;
    let (_dir, relay, id, doc) = relay_with_register().await;
    let token = relay.member("Careless", "editor", &[id]);
    let mut careless = Client::with_doc(id, doc);
    careless.connect(&relay.url(&token)).await.unwrap();
    careless.settle(QUIET).await.unwrap();
    // What another client could do with one line: `doc.risks = {}`.
    careless
        .change(|d| {
            d.automerge().put_object(automerge::ROOT, "risks", automerge::ObjType::Map)?;
            Ok(())
        })
        .unwrap();
    careless.push().await.unwrap();
    assert!(careless.settle(QUIET).await.is_err(), "the connection is closed");
    let refused = careless.refused.clone().unwrap_or_default();
    assert!(refused.contains("would replace the register's risks"), "{refused}");
    assert_eq!(careless.close_code, Some(protocol::CLOSE_REFUSED));

    let mut check = Client::joining(id);
    check.connect(&relay.url(&relay.member("Checker", "editor", &[id]))).await.unwrap();
    check.settle(QUIET).await.unwrap();
    assert_eq!(check.register().risks["r1"].title, "Secret risk", "nothing was stored or relayed");
    // The same editor's ordinary edits still go through on a fresh copy.
    let mut fresh = Client::joining(id);
    fresh.connect(&relay.url(&token)).await.unwrap();
    fresh.settle(QUIET).await.unwrap();
    fresh.change(|d| d.update::<Risk>("r1", T0 + 9, |r| r.title = "Still editable".into())).unwrap();
    fresh.push().await.unwrap();
    fresh.settle(QUIET).await.unwrap();
    check.settle(QUIET).await.unwrap();
    assert_eq!(check.register().risks["r1"].title, "Still editable");
}

fn relay_cli(relay: &Relay, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(&relay.data)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn rotating_a_token_ends_the_old_one_and_its_open_connection() {
    let (_dir, relay, id, _) = relay_with_register().await;
    let old = relay.member("Rotator", "editor", &[id]);
    let mut device = Client::joining(id);
    device.connect(&relay.url(&old)).await.unwrap();
    device.settle(QUIET).await.unwrap();
    let printed = relay_cli(&relay, &["member", "rotate", "--name", "Rotator"]);
    let new = printed.lines().find(|l| l.starts_with("cr_")).expect("a new token is printed").to_string();
    assert_ne!(new, old);
    assert!(printed.contains("Invite link: "), "{printed}");
    assert!(device.settle(Duration::from_secs(2)).await.is_err(), "the connection made with the old token closed");
    assert_eq!(refused_on_the_socket(&relay.url(&old)).await.1, protocol::CLOSE_REFUSED, "the old token is dead");
    let mut again = Client::joining(id);
    again.connect(&relay.url(&new)).await.unwrap();
    again.settle(QUIET).await.unwrap();
    assert_eq!(again.register().risks["r1"].title, "Secret risk");
}

#[tokio::test]
async fn a_role_changed_while_connected_applies_at_once_with_the_same_token() {
    let (_dir, relay, id, _) = relay_with_register().await;
    let token = relay.member("Changer", "editor", &[id]);
    let mut device = Client::joining(id);
    device.connect(&relay.url(&token)).await.unwrap();
    device.settle(QUIET).await.unwrap();
    relay_cli(&relay, &["member", "role", "--name", "Changer", "--role", "viewer"]);
    assert!(device.settle(Duration::from_secs(2)).await.is_err(), "the editor's connection closed");
    assert_eq!(device.close_code, Some(protocol::CLOSE_RETRY), "passing: reconnecting gives the new role");
    let mut viewer = Client::joining(id);
    viewer.connect(&relay.url(&token)).await.unwrap();
    viewer.settle(QUIET).await.unwrap();
    viewer.change(|d| d.update::<Risk>("r1", T0 + 3, |r| r.title = "Changed as a viewer".into())).unwrap();
    viewer.push().await.unwrap();
    assert!(viewer.settle(QUIET).await.is_err());
    assert!(viewer.refused.as_deref().unwrap_or_default().contains("may read this register but not change it"));
    let listed = relay_cli(&relay, &["member", "list"]);
    assert!(listed.contains("Changer\tviewer"), "{listed}");
}
