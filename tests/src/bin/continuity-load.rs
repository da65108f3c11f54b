//! Load generator: N clients on each of M registers, every client editing its own record
//! at a steady rate through a sync server, measuring changes per second and the time from
//! an edit to its arrival at the other clients of the register (p50, p99).
//! `cargo xtask load` runs it against our relay and the reference JavaScript server;
//! `seed` stores a generated register for `cargo xtask measure`. A client that fails is
//! counted with its reason, not the end of the run; the generator reports its own CPU time,
//! since on two cores hundreds of Automerge clients can be the bottleneck themselves.

use anyhow::Result;
use clap::{Parser, Subcommand};
use continuity_tests::client::{Client, T0, risk};
use continuity_tests::lean::Lean;
use shared::protocol::DocumentId;
use shared::{RegisterDoc, Risk};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the register ids a run with this seed uses, one per line (to grant them).
    Ids {
        #[arg(long)]
        registers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the load and print one line of results.
    Run {
        /// The sync endpoint, with `?token=` where the server needs one. Given more than
        /// once (several relays on one database), each register's clients take them in turn,
        /// and the edits that crossed from one relay to another are reported on a line of
        /// their own.
        #[arg(long, required = true)]
        url: Vec<String>,
        #[arg(long)]
        registers: usize,
        /// Clients per register.
        #[arg(long)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Milliseconds between one client's edits.
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A name for the line of results.
        #[arg(long, default_value = "server")]
        label: String,
        /// Idle clients beside the busy ones, each on a quiet register of its own (those
        /// after the busy ones in `ids --registers <registers + idle>`): connected before
        /// the run, reading what comes, editing nothing.
        #[arg(long, default_value_t = 0)]
        idle: usize,
    },
    /// A reconnect storm: every client of every register, after an outage, comes back at once
    /// with `edits` offline edits each. Prints how long until the last edit was at every
    /// client, and whether the server then held every register whole.
    Storm {
        #[arg(long)]
        url: String,
        #[arg(long)]
        registers: usize,
        #[arg(long)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        edits: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value = "server")]
        label: String,
    },
    /// Memory over time: stores `registers` registers, waits `settle` seconds (the server may
    /// drop idle ones), then keeps `connected` of them open with one client each (an edit a
    /// minute) for `seconds`. Prints each phase with the time it was reached, for a sampler
    /// of the server's memory to line up with.
    Hold {
        #[arg(long)]
        url: String,
        #[arg(long)]
        registers: usize,
        #[arg(long)]
        connected: usize,
        #[arg(long, default_value_t = 70)]
        settle: u64,
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Store a generated register of `records` records on the server under `register`, for
    /// measuring the app at size.
    Seed {
        #[arg(long)]
        url: String,
        #[arg(long)]
        register: DocumentId,
        #[arg(long)]
        records: usize,
    },
}

fn ids(registers: usize, seed: u64) -> Vec<DocumentId> {
    (0..registers as u64)
        .map(|i| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&seed.to_be_bytes());
            bytes[8..].copy_from_slice(&i.to_be_bytes());
            DocumentId(bytes)
        })
        .collect()
}

struct Outcome {
    edits: u64,
    latencies_us: Vec<u64>,
    /// Of those, the edits made by a client on another relay.
    across_us: Vec<u64>,
}

/// One client: edits its record every `interval`, and notes when other clients' edits arrive.
/// The edit carries its send time (microseconds since `base`, one clock for the whole run).
/// What every client of a run shares.
#[derive(Clone, Copy)]
struct Plan {
    clients: usize,
    /// How many relays the clients are spread over (client `n` is on relay `n % relays`).
    relays: usize,
    /// Clients in the whole run, across registers.
    total: usize,
    base: Instant,
    /// When the edits begin: every client has connected and synced by then, so the figures
    /// are the steady state (the reconnect storm is measured on its own).
    start: Instant,
    run_for: Duration,
    interval: Duration,
}

async fn client(
    url: String,
    saved: Arc<Vec<u8>>,
    id: DocumentId,
    me: usize,
    global: usize,
    plan: Plan,
) -> Result<Outcome> {
    let Plan { clients, relays, total, base, start, run_for, interval } = plan;
    let mut client = Lean::connect(&url, id, &saved).await?;
    while Instant::now() < start {
        client.receive_one(start.saturating_duration_since(Instant::now())).await?;
    }
    let mine = format!("c{me}");
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut outcome = Outcome { edits: 0, latencies_us: Vec::new(), across_us: Vec::new() };
    let started = start;
    // The clients' edits are spread over the interval, as a team's are, not all at once.
    let mut next_edit = started + interval.mul_f64(global as f64 / total as f64);
    while started.elapsed() < run_for {
        if Instant::now() >= next_edit {
            let sent = base.elapsed().as_micros().to_string();
            client.edit(&mine, "controls", &sent).await?;
            outcome.edits += 1;
            next_edit += interval;
        }
        let wait = next_edit.saturating_duration_since(Instant::now());
        if client.receive_one(wait).await? {
            let now = base.elapsed().as_micros() as u64;
            for other in (0..clients).filter(|c| *c != me) {
                let key = format!("c{other}");
                let Some(controls) = client.field(&key, "controls") else { continue };
                if seen.get(&key) != Some(&controls) {
                    if let Ok(sent) = controls.parse::<u64>() {
                        outcome.latencies_us.push(now.saturating_sub(sent));
                        if other % relays != me % relays {
                            outcome.across_us.push(now.saturating_sub(sent));
                        }
                    }
                    seen.insert(key, controls);
                }
            }
        }
    }
    client.close().await;
    Ok(outcome)
}

/// Idle clients, each holding one quiet register open until `stop`.
struct Idlers {
    stop: Arc<std::sync::atomic::AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Result<()>>>,
}

/// A client on register `id` (starting from `saved`) once the server has confirmed it holds
/// the register.
async fn stored(url: &str, id: DocumentId, saved: &[u8]) -> Result<Lean> {
    let mut device = Lean::connect(url, id, saved).await?;
    while !device.confirmed() {
        anyhow::ensure!(device.receive_one(Duration::from_secs(10)).await?, "the server did not confirm {id}");
    }
    Ok(device)
}

/// Connects one client to each register (50 at a time, each confirmed by the server), then
/// keeps every one reading (answering pings) until told to stop.
async fn hold_idle(url: &str, registers: Vec<DocumentId>) -> Result<Idlers> {
    let saved = Arc::new(origin(1)?);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for group in registers.chunks(50) {
        let mut connecting = Vec::new();
        for id in group.iter().copied() {
            let (url, saved) = (url.to_string(), saved.clone());
            connecting.push(tokio::spawn(async move { stored(&url, id, &saved).await }));
        }
        for device in connecting {
            let mut device = device.await??;
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    device.receive_one(Duration::from_millis(500)).await?;
                }
                device.close().await;
                Ok(())
            }));
        }
    }
    Ok(Idlers { stop, tasks })
}

/// This process's CPU time so far (user and system), in seconds, from /proc/self/stat.
/// Linux reports it in USER_HZ ticks, 100 a second on every architecture it runs on.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces; the fields after its closing bracket do not.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Connects, trying again as a browser would when the server is busy or resets.
async fn connect(client: &mut Client, url: &str) -> Result<()> {
    let mut attempt = 0;
    loop {
        match client.connect(url).await {
            Ok(()) => return Ok(()),
            Err(_) if attempt < 10 => {
                attempt += 1;
                // 100 ms, 200 ms, ... up to a second between attempts.
                tokio::time::sleep(Duration::from_millis((100 * attempt).min(1000))).await;
            }
            Err(e) => anyhow::bail!("could not connect after {attempt} attempts: {e}"),
        }
    }
}

/// One device of the storm: reconnects with its offline edits and reads until every client's
/// last edit is here and the server has confirmed its own. Returns how long that took.
async fn storm_client(
    url: String,
    mut client: Client,
    clients: usize,
    last: String,
    started: Instant,
) -> Result<Duration> {
    connect(&mut client, &url).await?;
    loop {
        let everyone =
            (0..clients).all(|c| client.register().risks.get(&format!("c{c}")).is_some_and(|r| r.controls == last));
        if everyone && client.relay_heads() == Some(client.heads()) {
            let took = started.elapsed();
            client.close().await;
            return Ok(took);
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(300), "not everything arrived within 300 s");
        if client.receive_one(Duration::from_millis(500)).await.is_err() {
            connect(&mut client, &url).await?;
        }
    }
}

/// The register a run uses: a record per client, as every device last saw it.
fn origin(clients: usize) -> Result<Vec<u8>> {
    let mut origin = RegisterDoc::new("Load", T0)?;
    for c in 0..clients {
        origin.create(&format!("c{c}"), risk(&format!("client {c}")), T0)?;
    }
    Ok(origin.save())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Ids { registers, seed } => {
            for id in ids(registers, seed) {
                println!("{id}");
            }
        }
        Command::Storm { url, registers, clients, edits, seed, label } => {
            anyhow::ensure!(edits > 0, "--edits must be at least 1");
            let saved = origin(clients)?;
            // Before the outage the server holds every register as the devices last saw it.
            for id in ids(registers, seed) {
                let mut device = Client::with_doc(id, RegisterDoc::load(&saved)?);
                connect(&mut device, &url).await?;
                while device.relay_heads() != Some(device.heads()) {
                    anyhow::ensure!(
                        device.receive_one(Duration::from_secs(10)).await.map_err(anyhow::Error::msg)?,
                        "the server did not confirm register {id}"
                    );
                }
                device.close().await;
            }
            // Offline, every device makes its edits to its own record.
            let last = format!("offline edit {}", edits - 1);
            let mut devices = Vec::new();
            for id in ids(registers, seed) {
                for me in 0..clients {
                    let mut device = Client::with_doc(id, RegisterDoc::load(&saved)?);
                    for k in 0..edits {
                        let text = format!("offline edit {k}");
                        device
                            .change(|d| d.update::<Risk>(&format!("c{me}"), T0, |r| r.controls = text))
                            .map_err(anyhow::Error::msg)?;
                    }
                    devices.push(device);
                }
            }
            let cpu_before = own_cpu_seconds();
            let started = Instant::now();
            let tasks: Vec<_> = devices
                .into_iter()
                .map(|device| tokio::spawn(storm_client(url.clone(), device, clients, last.clone(), started)))
                .collect();
            let (mut took, mut failed) = (Vec::new(), Vec::<String>::new());
            for task in tasks {
                match task.await {
                    Ok(Ok(t)) => took.push(t.as_micros() as u64),
                    Ok(Err(e)) => failed.push(format!("{e:#}")),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            let cpu = (own_cpu_seconds() - cpu_before) / started.elapsed().as_secs_f64() * 100.0;
            took.sort_unstable();
            // Then a device that was never there fetches each register: all of it is stored.
            let mut whole = 0;
            for id in ids(registers, seed) {
                let mut fresh = Client::joining(id);
                if connect(&mut fresh, &url).await.is_err() {
                    continue;
                }
                let started = Instant::now();
                while started.elapsed() < Duration::from_secs(10) {
                    let done = (0..clients)
                        .all(|c| fresh.register().risks.get(&format!("c{c}")).is_some_and(|r| r.controls == last));
                    if done {
                        whole += 1;
                        break;
                    }
                    if fresh.receive_one(Duration::from_millis(500)).await.is_err() {
                        break;
                    }
                }
                fresh.close().await;
            }
            let why = failed.first().map(|e| format!(" (first: {e})")).unwrap_or_default();
            println!(
                "| {label} | {registers} x {clients} | {edits} | {:.2} | {:.2} | {}{why} | {whole} of {registers} | {cpu:.0} |",
                took.last().copied().unwrap_or(0) as f64 / 1e6,
                percentile(&took, 0.5) / 1000.0,
                failed.len(),
            );
        }
        Command::Hold { url, registers, connected, settle, seconds, seed } => {
            let saved = Arc::new(origin(1)?);
            let t0 = Instant::now();
            let all = ids(registers, seed);
            // Stored 50 at a time: each device hands its register over and leaves.
            for group in all.chunks(50) {
                let mut stores = Vec::new();
                for id in group.iter().copied() {
                    let (url, saved) = (url.clone(), saved.clone());
                    stores.push(tokio::spawn(async move {
                        stored(&url, id, &saved).await?.close().await;
                        anyhow::Ok(())
                    }));
                }
                for store in stores {
                    store.await??;
                }
            }
            println!("{:.0} s: {registers} registers stored", t0.elapsed().as_secs_f64());
            tokio::time::sleep(Duration::from_secs(settle)).await;
            println!("{:.0} s: settled, nobody connected", t0.elapsed().as_secs_f64());
            let mut devices = Vec::new();
            for id in all.iter().take(connected).copied() {
                devices.push(Lean::connect(&url, id, &saved).await?);
            }
            println!("{:.0} s: {connected} clients connected", t0.elapsed().as_secs_f64());
            let until = Instant::now() + Duration::from_secs(seconds);
            let tasks: Vec<_> = devices
                .into_iter()
                .enumerate()
                .map(|(i, mut device)| {
                    tokio::spawn(async move {
                        // An edit a minute each, spread over the minute.
                        let mut next = Instant::now() + Duration::from_millis((i as u64 * 60_000) / connected as u64);
                        let mut edits = 0u64;
                        while Instant::now() < until {
                            if Instant::now() >= next {
                                edits += 1;
                                device.edit("c0", "controls", &format!("edit {edits}")).await?;
                                next += Duration::from_secs(60);
                            }
                            let wait = next.min(until).saturating_duration_since(Instant::now());
                            device.receive_one(wait).await?;
                        }
                        device.close().await;
                        anyhow::Ok(edits)
                    })
                })
                .collect();
            let (mut edits, mut failed) = (0, 0);
            for task in tasks {
                match task.await {
                    Ok(Ok(n)) => edits += n,
                    _ => failed += 1,
                }
            }
            println!("{:.0} s: done, {edits} edits, {failed} clients failed", t0.elapsed().as_secs_f64());
        }
        Command::Seed { url, register, records } => {
            let doc = shared::sample::generated(records, T0)?;
            let mut client = Client::with_doc(register, doc);
            client.connect(&url).await.map_err(anyhow::Error::msg)?;
            client.settle(Duration::from_secs(2)).await.map_err(anyhow::Error::msg)?;
            let stored = client.relay_heads().unwrap_or_default();
            anyhow::ensure!(stored == client.heads(), "the server did not confirm the whole register");
            client.close().await;
            println!("stored {records} records under {}", register.url());
        }
        Command::Run { url, registers, clients, seconds, interval_ms, seed, label, idle } => {
            let quiet = ids(registers + idle, seed).split_off(registers);
            let idlers = hold_idle(&url[0], quiet).await?;
            let total = registers * clients;
            let base = Instant::now();
            let plan = Plan {
                clients,
                relays: url.len(),
                total,
                base,
                start: base + Duration::from_millis(2000 + 10 * total as u64),
                run_for: Duration::from_secs(seconds),
                interval: Duration::from_millis(interval_ms),
            };
            let mut tasks = Vec::new();
            for id in ids(registers, seed) {
                // Every device starts from one copy, as devices that had already synced once
                // would.
                let saved = Arc::new(origin(clients)?);
                for me in 0..clients {
                    let url = url[me % url.len()].clone();
                    tasks.push(tokio::spawn(client(url, saved.clone(), id, me, tasks.len(), plan)));
                }
            }
            let (mut edits, mut latencies, mut across, mut failed) = (0, Vec::new(), Vec::new(), Vec::<String>::new());
            let cpu_before = own_cpu_seconds();
            for task in tasks {
                match task.await {
                    Ok(Ok(outcome)) => {
                        edits += outcome.edits;
                        latencies.extend(outcome.latencies_us);
                        across.extend(outcome.across_us);
                    }
                    Ok(Err(e)) => failed.push(format!("{e:#}")),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            let cpu = (own_cpu_seconds() - cpu_before) / plan.base.elapsed().as_secs_f64() * 100.0;
            idlers.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            for task in idlers.tasks {
                if !matches!(task.await, Ok(Ok(()))) {
                    failed.push("an idle client lost its connection".into());
                }
            }
            latencies.sort_unstable();
            let why = failed.first().map(|e| format!(" (first: {e})")).unwrap_or_default();
            println!(
                "| {label} | {registers} x {clients} | {interval_ms} | {:.0} | {:.1} | {:.1} | {} | {}{why} | {cpu:.0} |",
                edits as f64 / seconds as f64,
                percentile(&latencies, 0.5),
                percentile(&latencies, 0.99),
                latencies.len(),
                failed.len(),
            );
            if url.len() > 1 {
                across.sort_unstable();
                println!(
                    "| {label}, edits that crossed relays | {registers} x {clients} | {interval_ms} | | {:.1} | {:.1} | {} | | |",
                    percentile(&across, 0.5),
                    percentile(&across, 0.99),
                    across.len(),
                );
            }
        }
    }
    Ok(())
}
