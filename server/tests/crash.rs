//! Crash test: the relay is killed with SIGKILL at random moments while several clients
//! stream edits, then restarted on the same data. Every change the relay acknowledged
//! before a kill must be there afterwards, and the clients must converge. Many rounds run
//! in one test.

mod support;

use automerge::ChangeHash;
use shared::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

const ROUNDS: usize = 12;
const CLIENTS: usize = 3;

/// A small deterministic generator, so a failing run can be repeated from its seed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn risk(title: String) -> Risk {
    Risk {
        title,
        inherent_likelihood: 2,
        inherent_impact: 2,
        residual_likelihood: 1,
        residual_impact: 1,
        target_score: 1,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill() {
    let seed = 0x5eed_u64;
    eprintln!("crash test seed {seed:#x}");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let relay = Relay::start(dir.path(), &data);
    let id = new_document_id();
    let token = relay.member("Crash tester", "editor", &[id]);
    let url = Arc::new(Mutex::new(relay.url(&token)));
    let relay = Arc::new(Mutex::new(relay));

    let mut origin = Client::creating(id, "Crash test");
    let first_url = url.lock().unwrap().clone();
    origin.connect(&first_url).await.unwrap();
    origin.settle(Duration::from_millis(200)).await.unwrap();
    let base = origin.save();

    // Every set of heads any client saw the relay acknowledge.
    let acknowledged: Arc<Mutex<Vec<Vec<ChangeHash>>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for device in 0..CLIENTS {
        let (url, acknowledged, stop) = (url.clone(), acknowledged.clone(), stop.clone());
        let doc = RegisterDoc::load(&base).unwrap();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::with_doc(id, doc);
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let current = url.lock().unwrap().clone();
                if client.connect(&current).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    continue;
                }
                // Edit until the connection breaks.
                loop {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    n += 1;
                    client.change(|d| d.create(&format!("d{device}-{n}"), risk(format!("edit {n}")), T0 + n)).unwrap();
                    let alive = client.push().await.is_ok() && client.settle(Duration::from_millis(15)).await.is_ok();
                    if let Some(heads) = client.relay_heads() {
                        acknowledged.lock().unwrap().push(heads);
                    }
                    if !alive {
                        break;
                    }
                }
                client.close().await;
            }
            client
        }));
    }

    let mut rng = Lcg(seed);
    for round in 0..ROUNDS {
        tokio::time::sleep(Duration::from_millis(150 + rng.next(350))).await;
        let mut r = relay.lock().unwrap();
        r.kill();
        *r = Relay::start(dir.path(), &data);
        *url.lock().unwrap() = r.url(&token);
        eprintln!("round {round}: killed and restarted at {}", r.addr);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut clients = Vec::new();
    for task in tasks {
        clients.push(task.await.unwrap());
    }

    // Everything ever acknowledged is on the relay's disk.
    let url = url.lock().unwrap().clone();
    let mut fresh = Client::joining(id);
    fresh.connect(&url).await.unwrap();
    fresh.settle(Duration::from_millis(400)).await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > ROUNDS, "the clients made progress between kills");
    let mut checked = 0;
    let mut held = automerge::AutoCommit::load(&fresh.save()).unwrap();
    for heads in &acknowledged {
        for hash in heads {
            assert!(held.get_change_by_hash(hash).is_some(), "acknowledged change {hash} was lost");
            checked += 1;
        }
    }
    eprintln!("{} acknowledgements, {checked} head hashes checked", acknowledged.len());

    // And once they reconnect, everyone converges, with every edit any client made.
    clients.push(fresh);
    for _ in 0..4 {
        for c in clients.iter_mut() {
            c.connect(&url).await.unwrap();
            c.settle(Duration::from_millis(150)).await.unwrap();
        }
    }
    let heads = clients[0].heads();
    for c in clients.iter_mut() {
        assert_eq!(c.heads(), heads);
    }
    let total: usize = clients[..CLIENTS].iter().map(|c| c.register().risks.len()).max().unwrap();
    assert!(total > 0);
    let everyone = clients[0].register();
    for c in &clients[..CLIENTS] {
        for id in c.register().risks.keys() {
            assert!(everyone.risks.contains_key(id), "{id} missing after convergence");
        }
    }
}
