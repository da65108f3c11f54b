//! Faults in the relay's own storage, injected for real in its SQLite file: a corrupt chunk
//! and a corrupt snapshot load around (the bad rows kept aside and reported, the register
//! healed by a browser that holds the history), and a backup taken while a client writes
//! restores to a relay that syncs.

mod support;

use shared::*;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(300);

fn risk(title: &str) -> Risk {
    Risk {
        title: title.into(),
        inherent_likelihood: 2,
        inherent_impact: 3,
        residual_likelihood: 1,
        residual_impact: 2,
        target_score: 2,
        ..Default::default()
    }
}

/// The bytes with one in the middle flipped, as a bad sector or a torn write leaves them.
fn damaged(mut bytes: Vec<u8>) -> Vec<u8> {
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    bytes
}

fn database(data: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("registers.sqlite3")).unwrap()
}

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

/// A register written as three chunks on the relay, each with one risk.
async fn register_in_chunks(relay: &Relay, id: protocol::DocumentId, token: &str) -> Client {
    let mut writer = Client::creating(id, "Register with a bad row");
    writer.connect(&relay.url(token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    for n in 1..=3 {
        writer.change(|d| d.create(&format!("r{n}"), risk(&format!("Risk {n}")), T0 + n)).unwrap();
        writer.push().await.unwrap();
        writer.settle(QUIET).await.unwrap();
    }
    writer
}

#[tokio::test]
async fn a_corrupt_chunk_is_kept_aside_reported_and_healed_by_a_browser_with_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut relay = Relay::start(dir.path(), &data);
    let id = new_document_id();
    let token = relay.member("Writer", "editor", &[id]);
    let mut writer = register_in_chunks(&relay, id, &token).await;
    writer.close().await;
    relay.kill();

    // Damage the newest chunk's bytes in place (a bad sector, a torn write).
    let (bad_id, original): (i64, Vec<u8>) = database(&data)
        .query_row("SELECT id, data FROM chunks ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let bad = damaged(original);
    database(&data).execute("UPDATE chunks SET data = ?1 WHERE id = ?2", rusqlite::params![bad, bad_id]).unwrap();

    let relay = Relay::start(dir.path(), &data);
    let mut reader = Client::joining(id);
    reader.connect(&relay.url(&relay.member("Reader", "editor", &[id]))).await.unwrap();
    reader.settle(QUIET).await.unwrap();
    assert_eq!(reader.register().name, "Register with a bad row", "the readable rest loads");
    assert!(reader.register().risks.contains_key("r1") && reader.register().risks.contains_key("r2"));
    assert!(!reader.register().risks.contains_key("r3"), "the damaged chunk held risk 3");

    let health = http_get(&relay.addr, "/healthz");
    assert!(health.contains("degraded: 1 stored part"), "{health}");
    let metrics = http_get(&relay.addr, "/metrics");
    assert!(metrics.contains("continuity_relay_unreadable_parts_total 1"), "{metrics}");
    let kept: (String, Vec<u8>) =
        database(&data).query_row("SELECT part, data FROM quarantine", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(kept, (format!("chunk {bad_id}"), bad), "the bad bytes are kept, as they were");

    // The writer's browser holds the whole history: syncing puts risk 3 back on the relay.
    writer.connect(&relay.url(&token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    reader.settle(QUIET).await.unwrap();
    assert_eq!(reader.register().risks["r3"].title, "Risk 3", "healed and passed on");
    let mut late = Client::joining(id);
    late.connect(&relay.url(&relay.member("Late", "editor", &[id]))).await.unwrap();
    late.settle(QUIET).await.unwrap();
    assert_eq!(late.register().risks.len(), 3);
}

#[tokio::test]
async fn a_corrupt_snapshot_loads_the_chunks_after_it_once_a_browser_brings_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut relay = Relay::start(dir.path(), &data);
    let id = new_document_id();
    let token = relay.member("Writer", "editor", &[id]);
    let mut writer = register_in_chunks(&relay, id, &token).await;
    writer.close().await;
    relay.kill();

    // Fold the first chunk into a snapshot as compaction would, then damage the snapshot.
    let c = database(&data);
    let (first, bytes): (i64, Vec<u8>) =
        c.query_row("SELECT id, data FROM chunks ORDER BY id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let bad = damaged(bytes);
    c.execute(
        "INSERT INTO snapshots (doc, data) SELECT doc, ?1 FROM chunks WHERE id = ?2",
        rusqlite::params![bad, first],
    )
    .unwrap();
    c.execute("DELETE FROM chunks WHERE id = ?1", [first]).unwrap();
    drop(c);

    let relay = Relay::start(dir.path(), &data);
    // Registers are loaded when first opened: the damage is found then.
    assert!(http_get(&relay.addr, "/healthz").ends_with("ok"));
    writer.connect(&relay.url(&token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    assert!(http_get(&relay.addr, "/healthz").contains("degraded: 1 stored part"));
    let mut reader = Client::joining(id);
    reader.connect(&relay.url(&relay.member("Reader", "editor", &[id]))).await.unwrap();
    reader.settle(QUIET).await.unwrap();
    assert_eq!(reader.register().name, "Register with a bad row");
    assert_eq!(reader.register().risks.len(), 3, "everything is back after the writer synced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_client_writes_restores_to_a_relay_that_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut relay = Relay::start(dir.path(), &data);
    let id = new_document_id();
    let token = relay.member("Writer", "editor", &[id]);
    let mut writer = Client::creating(id, "Backed-up register");
    writer.connect(&relay.url(&token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    writer.change(|d| d.create("before", risk("Written before the backup"), T0)).unwrap();
    writer.push().await.unwrap();
    writer.settle(QUIET).await.unwrap();

    // The backup runs while the writer keeps editing.
    let backup = dir.path().join("backup.sqlite3");
    let (backup_path, data_path) = (backup.clone(), data.clone());
    let taking = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        run(&data_path, &["backup", backup_path.to_str().unwrap()])
    });
    for n in 0..40 {
        writer.change(|d| d.create(&format!("during-{n}"), risk(&format!("Written during {n}")), T0 + n)).unwrap();
        writer.push().await.unwrap();
        writer.settle(Duration::from_millis(10)).await.unwrap();
    }
    let out = taking.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity check passed"));
    let again = run(&data, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success(), "an existing file is never overwritten");
    writer.close().await;
    relay.kill();

    // Restore as the README says: the copy in place of the database, the WAL files gone.
    let restored = dir.path().join("restored");
    std::fs::create_dir_all(&restored).unwrap();
    std::fs::copy(&backup, restored.join("registers.sqlite3")).unwrap();
    let relay = Relay::start(dir.path(), &restored);
    assert!(http_get(&relay.addr, "/healthz").ends_with("ok"));
    // The members came back too: the writer's token still works.
    let mut reader = Client::joining(id);
    reader.connect(&relay.url(&token)).await.unwrap();
    reader.settle(QUIET).await.unwrap();
    assert_eq!(reader.register().risks["before"].title, "Written before the backup");
    let had = reader.register().risks.len();
    // The writer's browser brings back whatever came after the backup.
    writer.connect(&relay.url(&token)).await.unwrap();
    writer.settle(QUIET).await.unwrap();
    reader.settle(QUIET).await.unwrap();
    assert_eq!(reader.register().risks.len(), 41, "the backup held {had}; syncing brought the rest");
}
