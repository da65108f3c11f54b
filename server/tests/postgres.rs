//! Several relay processes on one PostgreSQL database (the server the test command starts):
//! clients on different relays converge, a relay killed mid-stream loses nothing its
//! clients were told was stored, a revocation on one closes the member's connection on
//! another, and `migrate` copies a SQLite relay into PostgreSQL with every register and
//! token intact.

mod support;

use automerge::ChangeHash;
use continuity_tests::postgres::Database;
use std::path::Path;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(400);

fn on(database: &Database, dir: &Path, name: &str) -> Relay {
    let dist = dir.join(name);
    std::fs::create_dir_all(&dist).unwrap();
    Relay::start_with(&dist, &dir.join(format!("{name}-data")), &["--database", database.url()])
}

/// Every change named is in the document saved as `saved`.
fn holds(saved: &[u8], heads: &[ChangeHash]) -> bool {
    let mut doc = automerge::AutoCommit::load(saved).unwrap();
    heads.iter().all(|h| doc.get_change_by_hash(h).is_some())
}

async fn settle_all(clients: &mut [&mut Client]) {
    for _ in 0..4 {
        for c in clients.iter_mut() {
            c.settle(QUIET).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_two_relays_converge_and_a_killed_relay_loses_nothing() {
    let Some(database) = Database::fresh() else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = on(&database, dir.path(), "first");
    let mut second = on(&database, dir.path(), "second");
    let id = new_document_id();
    let token = first.member("Amara", "editor", &[id]);

    let mut a = Client::creating(id, "Shared register");
    a.connect(&first.url(&token)).await.unwrap();
    a.settle(QUIET).await.unwrap();
    let mut b = Client::joining(id);
    b.connect(&second.url(&token)).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert!(!b.unavailable, "the second relay finds the register the first stored");

    // Both edit the register at once, each through its own relay.
    for n in 0..10 {
        a.change(|d| d.create(&format!("a-{n}"), risk("from a"), T0 + n)).unwrap();
        b.change(|d| d.create(&format!("b-{n}"), risk("from b"), T0 + n)).unwrap();
        a.push().await.unwrap();
        b.push().await.unwrap();
    }
    settle_all(&mut [&mut a, &mut b]).await;
    assert_eq!(a.heads(), b.heads(), "clients on different relays converge");
    assert_eq!(a.register().risks.len(), 20);

    // A third client streams edits to the second relay, which is killed part-way.
    let mut c = Client::joining(id);
    c.connect(&second.url(&token)).await.unwrap();
    c.settle(QUIET).await.unwrap();
    let mut acknowledged = Vec::new();
    for n in 0..30 {
        c.change(|d| d.create(&format!("c-{n}"), risk("from c"), T0 + n)).unwrap();
        // Once the relay is gone the edits stay on the device, unsent.
        let _ = c.push().await;
        let _ = c.receive_one(Duration::from_millis(5)).await;
        if n == 15 {
            // Killed with edits in flight: what it had said it stored is the promise.
            acknowledged = c.relay_heads().unwrap_or_default();
            second.kill();
        }
    }
    assert!(!acknowledged.is_empty());
    // What the killed relay acknowledged is in the database: a newcomer on the first relay
    // gets it without the third client's help.
    let mut newcomer = Client::joining(id);
    newcomer.connect(&first.url(&token)).await.unwrap();
    newcomer.settle(QUIET).await.unwrap();
    assert!(holds(&newcomer.save(), &acknowledged), "every change the killed relay acknowledged was stored");
    // The third client reconnects to the first relay and delivers the rest.
    c.connect(&first.url(&token)).await.unwrap();
    settle_all(&mut [&mut c, &mut a, &mut newcomer]).await;
    assert_eq!(c.heads(), a.heads());
    assert_eq!(a.heads(), newcomer.heads());
    assert_eq!(a.register().risks.len(), 50, "nothing made on any relay was lost");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_relay_closes_the_connection_on_another() {
    let Some(database) = Database::fresh() else { return };
    let dir = tempfile::tempdir().unwrap();
    let first = on(&database, dir.path(), "first");
    let second = on(&database, dir.path(), "second");
    let id = new_document_id();
    let owner = first.member("Priya", "owner", &[id]);
    let tom = first.member("Tom", "editor", &[id]);
    let mut register = Client::creating(id, "Acme Ltd");
    register.connect(&first.url(&owner)).await.unwrap();
    register.settle(QUIET).await.unwrap();

    let mut toms_device = Client::joining(id);
    toms_device.connect(&second.url(&tom)).await.unwrap();
    toms_device.settle(QUIET).await.unwrap();
    // The owner revokes Tom through the first relay; his connection is on the second.
    let (status, body) = http_post(
        &first.addr,
        "/members/revoke",
        &format!("Authorization: Bearer {owner}\r\n"),
        &serde_json::json!({"register": id.to_string(), "name": "Tom"}).to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(toms_device.settle(Duration::from_secs(3)).await.is_err(), "the second relay closed his connection");
    assert!(toms_device.refused.as_deref().unwrap_or_default().contains("revoked"), "{:?}", toms_device.refused);
    let mut again = Client::joining(id);
    assert!(again.connect(&second.url(&tom)).await.is_err(), "his token opens nothing on either relay");
}

fn relay(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_a_sqlite_relay_into_postgres_with_every_token_working() {
    let Some(database) = Database::fresh() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = new_document_id();
    let (token, heads) = {
        let relay = Relay::start(dir.path(), &data);
        let token = relay.member("Amara", "editor", &[id]);
        let mut a = Client::creating(id, "Migrated Ltd");
        a.connect(&relay.url(&token)).await.unwrap();
        // Enough chunks for the relay to have compacted some into a snapshot.
        for n in 0..80 {
            a.change(|d| d.create(&format!("r-{n}"), risk("before the move"), T0 + n)).unwrap();
            a.push().await.unwrap();
            let _ = a.receive_one(Duration::from_millis(5)).await;
        }
        a.settle(QUIET).await.unwrap();
        (token, a.heads())
    };
    let data_s = data.to_string_lossy().to_string();
    let (ok, out) = relay(&["migrate", "--from", &data_s, "--to", database.url()]);
    assert!(ok, "{out}");
    assert!(out.contains("Copied 1 registers") && out.contains("1 members"), "{out}");
    // Into a database that holds something already: refused, nothing changed.
    let (ok, out) = relay(&["migrate", "--from", &data_s, "--to", database.url()]);
    assert!(!ok && out.contains("migrate into an empty one"), "{out}");

    // The same token opens the same register from PostgreSQL, and new changes are numbered
    // after the copied ones.
    let dist = dir.path().join("pg");
    std::fs::create_dir_all(&dist).unwrap();
    let relay = Relay::start_with(&dist, &dir.path().join("unused"), &["--database", database.url()]);
    let mut b = Client::joining(id);
    b.connect(&relay.url(&token)).await.unwrap();
    b.settle(QUIET).await.unwrap();
    assert_eq!(b.heads(), heads);
    assert_eq!(b.register().risks.len(), 80);
    b.change(|d| d.create("after", risk("after the move"), T0)).unwrap();
    b.push().await.unwrap();
    b.settle(QUIET).await.unwrap();
    let (ok, audit) = relay_audit(database.url());
    assert!(ok, "{audit}");
    assert!(audit.lines().count() > 81, "the audit was copied and goes on: {audit}");
}

fn relay_audit(url: &str) -> (bool, String) {
    relay(&["--database", url, "audit"])
}
