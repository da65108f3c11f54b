//! Interop with the reference implementation, both halves, using npm's automerge-repo run
//! by Node (installed into tests/node_modules by `cargo xtask test`):
//! - JavaScript clients create, edit and read a document through our relay, and a Rust
//!   client receives it;
//! - Rust clients sync a register through the reference JavaScript sync server.

mod support;

use automerge::ReadDoc;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(400);

fn interop_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests");
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").is_dir(),
        "the npm packages are missing: run `npm install --prefix tests` (cargo xtask test does)"
    );
    dir.join("interop")
}

/// Runs the JavaScript client to the end and returns the JSON it printed.
fn js_peer(args: &[&str]) -> serde_json::Value {
    let out = Command::new("node").arg(interop_dir().join("peer.mjs")).args(args).output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "node peer.mjs {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn javascript_clients_sync_through_our_relay() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let js_url = relay.url(&relay.member("JavaScript client", "editor", &[id]));
    let id_text = id.to_string();

    let written = tokio::task::spawn_blocking({
        let (url, id) = (js_url.clone(), id_text.clone());
        move || js_peer(&["create", &url, &id])
    })
    .await
    .unwrap();
    assert_eq!(written["count"], 2);

    // A second JavaScript client reads it from the relay.
    let read = tokio::task::spawn_blocking({
        let (url, id) = (relay.url(&relay.member("Second JavaScript client", "viewer", &[id])), id_text.clone());
        move || js_peer(&["read", &url, &id, "count"])
    })
    .await
    .unwrap();
    assert_eq!(read, written);

    // And so does a Rust client.
    let mut rust = Client::joining(id);
    rust.connect(&relay.url(&relay.member("Rust client", "viewer", &[id]))).await.unwrap();
    rust.settle(QUIET).await.unwrap();
    let doc = automerge::AutoCommit::load(&rust.save()).unwrap();
    // JavaScript Automerge stores strings as text objects.
    let (_, title) = doc.get(automerge::ROOT, "title").unwrap().unwrap();
    assert_eq!(doc.text(&title).unwrap(), "Created in JavaScript");
    let (_, items) = doc.get(automerge::ROOT, "items").unwrap().unwrap();
    assert_eq!(doc.length(&items), 2);
}

#[tokio::test]
async fn our_client_syncs_through_the_reference_sync_server() {
    let store = tempfile::tempdir().unwrap();
    let mut server = KillOnDrop(
        Command::new("node")
            .arg(interop_dir().join("server.mjs"))
            .arg(store.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs"),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().rsplit(' ').next().unwrap().to_string();
    let url = format!("ws://127.0.0.1:{port}");

    let id = new_document_id();
    let mut a = Client::creating(id, "Through the reference server");
    a.change(|d| d.create("p1", shared::Person { name: "Amara Okafor".into(), ..Default::default() }, T0)).unwrap();
    a.connect(&url).await.unwrap();
    a.settle(QUIET).await.unwrap();

    let mut b = Client::joining(id);
    b.connect(&url).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert_eq!(b.heads(), a.heads());
    assert_eq!(b.register().people["p1"].name, "Amara Okafor");

    // Concurrent edits from both Rust clients meet through the JavaScript server.
    a.change(|d| d.update::<shared::Person>("p1", T0 + 1, |p| p.job_title = "Director".into())).unwrap();
    b.change(|d| d.update::<shared::Person>("p1", T0 + 1, |p| p.email = "amara@brightwater.example".into())).unwrap();
    a.push().await.unwrap();
    b.push().await.unwrap();
    for _ in 0..3 {
        a.settle(QUIET).await.unwrap();
        b.settle(QUIET).await.unwrap();
    }
    assert_eq!(a.heads(), b.heads());
    let person = &a.register().people["p1"];
    assert_eq!((person.job_title.as_str(), person.email.as_str()), ("Director", "amara@brightwater.example"));

    // And a JavaScript client reads what the Rust clients wrote.
    let read = tokio::task::spawn_blocking(move || js_peer(&["read", &url, &id.to_string(), "name"])).await.unwrap();
    assert_eq!(read["name"], "Through the reference server");
}

/// Stops the JavaScript server however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
