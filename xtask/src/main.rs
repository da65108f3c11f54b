//! The project's two commands: `cargo xtask run` (build the app, start the relay) and
//! `cargo xtask test` (every check CI runs). Both first install whatever is missing.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const TRUNK_VERSION: &str = "0.21.14";
/// Trunk only uses the wasm-opt on PATH when its version matches Trunk.toml's `wasm_opt`.
const BINARYEN_VERSION: &str = "132";

fn main() -> Result<()> {
    let root = root();
    std::env::set_current_dir(&root)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&root, &args[1..]),
        Some("test") => test(&root),
        Some("setup") => setup(&root, true),
        Some("load") => load(&root, &args[1..]),
        Some("storm") => storm(&root, &args[1..]),
        Some("hold") => hold(&root, &args[1..]),
        Some("fuzz") => fuzz(&root, &args[1..]),
        Some("measure") => measure(&root, &args[1..]),
        Some("load-postgres") => load_postgres(&root, &args[1..]),
        Some("with-postgres") if args.len() > 1 => {
            let _postgres = Postgres::start()?;
            let rest: Vec<&str> = args[2..].iter().map(String::as_str).collect();
            cmd(&args[1], &rest)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <run|test|setup|load|load-postgres|storm|hold|fuzz|measure|with-postgres>\n  run    build the app and start the relay with the sample register\n  test   formatting, clippy, native tests and browser tests\n  setup  install what the other two need\n  load [registers] [clients] [seconds] [interval-ms] [idle]  the load generator against our relay and the reference\n  storm [registers] [clients] [edits]  every client reconnecting at once with offline edits, against both\n  hold [registers] [connected] [seconds]  the servers' memory with many stored registers and idle clients\n  fuzz <decode|relay> [seconds]  a fuzz target under cargo fuzz (nightly)\n  measure [records]  the app's load and save times in Chromium, sample and generated register\n  load-postgres [registers] [clients] [seconds] [interval-ms]  the load on SQLite, on PostgreSQL, and on two relays sharing PostgreSQL\n  with-postgres <command...>  a command with a throwaway PostgreSQL server (CONTINUITY_TEST_POSTGRES)"
            );
            std::process::exit(2)
        }
    }
}

/// The workspace root. `cargo run` says at run time which manifest it ran; the path baked in
/// at compile time is only the fallback, since one target directory may serve two checkouts.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let manifest = manifest.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(root: &Path, extra: &[String]) -> Result<()> {
    setup(root, false)?;
    cmd("trunk", &["build", "--release"])?;
    let mut args = vec!["run", "--package", "continuity-server", "--", "--dist", "dist", "--with-sample"];
    args.extend(extra.iter().map(String::as_str));
    cmd("cargo", &args)
}

fn test(root: &Path) -> Result<()> {
    setup(root, true)?;
    cmd("cargo", &["fmt", "--all", "--check"])?;
    cmd("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    cmd(
        "cargo",
        &[
            "clippy",
            "--package",
            "continuity-app",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    // A throwaway PostgreSQL cluster for the storage tests and the relays sharing a
    // database; stopped and deleted when this returns, passed or not.
    let _postgres = Postgres::start()?;
    cmd("cargo", &["test", "--workspace", "--exclude", "continuity-app"])?;
    // The browser tests run the app and the shared model compiled to wasm in headless Chromium.
    let chromedriver = which("chromedriver").context("chromedriver is not on PATH")?;
    let status = Command::new("cargo")
        .args(["test", "--package", "continuity-app", "--target", "wasm32-unknown-unknown"])
        .env("CHROMEDRIVER", chromedriver)
        .status()?;
    if !status.success() {
        bail!("browser tests failed");
    }
    // The release build: what `cargo xtask run` serves and what the end-to-end tests drive,
    // in headless Chromium against the relay binary the native tests built.
    cmd("trunk", &["build", "--release"])?;
    check_page_has_no_automerge(&root.join("dist"))?;
    let target = target_dir(root);
    let screenshots = target.join("e2e-screenshots");
    // The helper that locks the relay's database, for the storage-failure test.
    cmd("cargo", &["build", "--package", "continuity-tests", "--bin", "continuity-fault"])?;
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1", "tests/e2e/"])
        .env("RELAY_BIN", target.join("debug/continuity-relay"))
        .env("FAULT_BIN", target.join("debug/continuity-fault"))
        .env("DIST", root.join("dist"))
        .env("SCREENSHOTS", &screenshots)
        .status()?;
    if !status.success() {
        bail!("end-to-end tests failed");
    }
    println!("screenshots of every view: {}", screenshots.display());
    println!("\nall checks passed");
    Ok(())
}

/// Where cargo puts what it builds.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// Builds the relay and the load generator with the bench profile (optimised, as they would
/// run for real) and returns the folder holding them.
fn build_bench_bins(root: &Path) -> Result<PathBuf> {
    cmd(
        "cargo",
        &["build", "--profile", "bench", "--package", "continuity-server", "--package", "continuity-tests", "--bins"],
    )?;
    // The bench profile inherits from release, so its binaries land in release/.
    Ok(target_dir(root).join("release"))
}

/// Measures the release build of the app in headless Chromium against the relay (the
/// sample register and a generated one of `[records]`, default 10,000) and prints a table
/// for docs/BENCHMARKS.md.
fn measure(root: &Path, args: &[String]) -> Result<()> {
    setup(root, true)?;
    let bin = build_bench_bins(root)?;
    cmd("trunk", &["build", "--release"])?;
    let records = args.first().map(String::as_str).unwrap_or("10000");
    let status = Command::new("node")
        .args(["tests/e2e/measure.mjs", records])
        .env("RELAY_BIN", bin.join("continuity-relay"))
        .env("LOAD_BIN", bin.join("continuity-load"))
        .env("DIST", root.join("dist"))
        .status()?;
    if !status.success() {
        bail!("the measurement failed");
    }
    Ok(())
}

/// Runs one cargo-fuzz target for a while. cargo fuzz needs a nightly compiler, so this
/// installs one (and cargo-fuzz) if missing; the rest of the project stays on stable.
fn fuzz(root: &Path, args: &[String]) -> Result<()> {
    let Some(target) = args.first() else { bail!("which target? cargo xtask fuzz <decode|relay> [seconds]") };
    let seconds = args.get(1).map(String::as_str).unwrap_or("600");
    if capture("rustup", &["run", "nightly", "rustc", "--version"]).is_none() {
        cmd("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"])?;
    }
    if capture("cargo", &["fuzz", "--version"]).is_none() {
        cmd("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }
    std::env::set_current_dir(root.join("server"))?;
    cmd(
        "cargo",
        &["+nightly", "fuzz", "run", target, "--", &format!("-max_total_time={seconds}"), "-print_final_stats=1"],
    )
}

/// Runs the load generator against our relay and then the reference JavaScript sync server,
/// both on 127.0.0.1 on this machine, and prints a table for docs/BENCHMARKS.md.
/// Arguments: `[registers] [clients per register] [seconds] [ms between one client's edits]
/// [idle clients beside]`, default 4 5 20 100 0. Beside each line: the server's CPU and its resident memory at the end
/// and at its peak, read from /proc.
fn load(root: &Path, args: &[String]) -> Result<()> {
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let (registers, clients, seconds, interval) = (arg(0, "4"), arg(1, "5"), arg(2, "20"), arg(3, "100"));
    let idle = arg(4, "0");
    let run = Run { registers: &registers, clients: &clients, seconds: &seconds, interval: &interval };
    // The idle clients' quiet registers are granted with the busy ones.
    let granted = (registers.parse::<usize>()? + idle.parse::<usize>()?).to_string();
    let lines = against_both(root, &granted, |bin, url, label, pid| {
        let label = if idle == "0" { label.to_string() } else { format!("{label}, {idle} idle clients beside") };
        let args = ["run", "--url", url, "--registers", run.registers, "--clients", run.clients, "--seconds"];
        let args =
            [&args[..], &[run.seconds, "--interval-ms", run.interval, "--label", &label, "--idle", &idle]].concat();
        measured(bin, &args, &label, pid)
    })?;
    print_load_table(&lines);
    Ok(())
}

/// A reconnect storm against both servers: every client of every register comes back at once
/// with offline edits. Arguments: `[registers] [clients per register] [edits each]`, default
/// 100 5 20.
fn storm(root: &Path, args: &[String]) -> Result<()> {
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let (registers, clients, edits) = (arg(0, "100"), arg(1, "5"), arg(2, "20"));
    let lines = against_both(root, &registers, |bin, url, label, pid| {
        let args = ["storm", "--url", url, "--registers", &registers, "--clients", &clients, "--edits", &edits];
        measured(bin, &[&args[..], &["--label", label]].concat(), label, pid)
    })?;
    println!(
        "| server | registers x clients | offline edits each | last edit everywhere (s) | a client's p50 (s) | clients failed | registers stored whole | generator CPU % | server CPU % | server RSS end / peak (MB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// The server's memory over a long quiet run: `[registers] [connected] [seconds]`, default
/// 10000 1000 600. The generator stores the registers, waits for idle ones to be dropped,
/// then holds `connected` clients open; the server's resident memory is sampled every 15 s.
fn hold(root: &Path, args: &[String]) -> Result<()> {
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let (registers, connected, seconds) = (arg(0, "10000"), arg(1, "1000"), arg(2, "600"));
    let lines = against_both(root, &registers, |bin, url, label, pid| {
        let mut child = Command::new(bin)
            .args(["hold", "--url", url, "--registers", &registers, "--connected", &connected])
            .args(["--seconds", &seconds])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let started = std::time::Instant::now();
        // A server that cannot get through the run in its length plus ten minutes is stopped,
        // and what it reached is reported.
        let limit = std::time::Duration::from_secs(seconds.parse::<u64>().unwrap_or(600) + 600);
        let mut samples = Vec::new();
        let mut stopped = false;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                stopped = true;
                break child.wait()?;
            }
            samples.push(format!(
                "{:.0} s {:.0} MB",
                started.elapsed().as_secs_f64(),
                memory_kb(pid, "VmRSS:") as f64 / 1024.0
            ));
            std::thread::sleep(std::time::Duration::from_secs(15));
        };
        let out = child.wait_with_output()?;
        let mut phases = String::from_utf8_lossy(&out.stdout).trim().replace('\n', "; ");
        if stopped {
            phases = format!("{phases}; stopped after {} s", limit.as_secs());
        } else if !status.success() {
            bail!("the hold run against {label} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(format!("| {label} | {phases} | {} |", samples.join(", ")))
    })?;
    println!("| server | phases | resident memory every 15 s |");
    println!("|---|---|---|");
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// The same load on one relay with SQLite, one with PostgreSQL, and two relays sharing one
/// PostgreSQL database (the clients of each register split between them), one after the
/// other in one run. Arguments as for `load`, default 50 10 20 1000.
fn load_postgres(root: &Path, args: &[String]) -> Result<()> {
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let (registers, clients, seconds, interval) = (arg(0, "50"), arg(1, "10"), arg(2, "20"), arg(3, "1000"));
    setup(root, false)?;
    let bin = build_bench_bins(root)?;
    let relay_bin = bin.join("continuity-relay").to_string_lossy().to_string();
    let load_bin = bin.join("continuity-load").to_string_lossy().to_string();
    let postgres = Postgres::start()?;
    let scratch = std::env::temp_dir().join(format!("continuity-load-pg-{}", std::process::id()));
    let dist = scratch.join("dist");
    std::fs::create_dir_all(&dist)?;
    std::fs::write(dist.join("index.html"), "load test")?;
    let dist_arg = dist.to_string_lossy().to_string();
    let ids = capture(&load_bin, &["ids", "--registers", &registers]).context("continuity-load ids")?;
    let mut lines = Vec::new();
    for (label, database, relays) in [
        ("our relay, SQLite", None, 1),
        ("our relay, PostgreSQL", Some("one"), 1),
        ("two relays, PostgreSQL", Some("two"), 2),
    ] {
        let store: Vec<String> = match database {
            Some(name) => {
                postgres.create_database(name)?;
                vec!["--database".into(), postgres.url_of(name)]
            }
            None => vec!["--data".into(), scratch.join("data").to_string_lossy().to_string()],
        };
        let store: Vec<&str> = store.iter().map(String::as_str).collect();
        let token = load_member(&relay_bin, &store, &ids)?;
        let mut servers = Vec::new();
        let mut urls = Vec::new();
        for _ in 0..relays {
            let (relay, url) = start_relay(&relay_bin, &store, &dist_arg, &token)?;
            urls.push(url);
            servers.push(relay);
        }
        let mut run = vec!["run", "--registers", &registers, "--clients", &clients, "--seconds", &seconds];
        run.extend(["--interval-ms", &interval, "--label", label]);
        for url in &urls {
            run.extend(["--url", url]);
        }
        // With two relays the CPU and memory are the first relay's.
        lines.push(measured(&load_bin, &run, label, servers[0].id()).unwrap_or_else(|e| format!("| {e:#} |")));
        for mut relay in servers {
            let _ = relay.kill();
            let _ = relay.wait();
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    print_load_table(&lines);
    Ok(())
}

/// The table the load runs print, for docs/BENCHMARKS.md.
fn print_load_table(lines: &[String]) {
    println!(
        "| server | registers x clients | ms between edits | changes/s | edit to peer p50 (ms) | p99 (ms) | samples | clients failed | generator CPU % | server CPU % | server RSS end / peak (MB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
}

/// Adds the load generator's member, granted every register in `ids` (one a line), to the
/// database `store` names (`--data <dir>` or `--database <url>`); its token.
fn load_member(relay_bin: &str, store: &[&str], ids: &str) -> Result<String> {
    let mut add = [store, &["member", "add", "--name", "load", "--role", "editor"]].concat();
    for id in ids.lines() {
        add.extend(["--register", id]);
    }
    capture(relay_bin, &add)
        .and_then(|out| out.lines().find(|l| l.starts_with("cr_")).map(str::to_string))
        .context("adding the load member")
}

/// Starts our relay on the database `store` names, on a free port; the process and its sync
/// address with `token`. The generator's clients run as fast as the machine lets them: no
/// rate limit of ours is what is measured.
fn start_relay(relay_bin: &str, store: &[&str], dist: &str, token: &str) -> Result<(std::process::Child, String)> {
    let mut relay = Command::new(relay_bin)
        .args(store)
        .args(["--dist", dist, "--listen", "127.0.0.1:0", "--max-messages-per-second", "100000"])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let addr = first_line(relay.stdout.as_mut().expect("piped"))?;
    let addr = addr.trim().rsplit("http://").next().unwrap_or_default().trim_end_matches('/').to_string();
    Ok((relay, format!("ws://{addr}/sync?token={token}")))
}

/// Starts our relay (a member granted every register of the run) and then the reference
/// server, each on a free port, and runs `job(generator, url, label, server pid)` against
/// each. A job that fails is reported in its line, and the other still runs.
fn against_both(
    root: &Path,
    registers: &str,
    job: impl Fn(&str, &str, &str, u32) -> Result<String>,
) -> Result<Vec<String>> {
    setup(root, true)?;
    let bin = build_bench_bins(root)?;
    let relay_bin = bin.join("continuity-relay").to_string_lossy().to_string();
    let load_bin = bin.join("continuity-load").to_string_lossy().to_string();
    let scratch = std::env::temp_dir().join(format!("continuity-load-{}", std::process::id()));
    let (data, dist) = (scratch.join("data"), scratch.join("dist"));
    std::fs::create_dir_all(&dist)?;
    std::fs::write(dist.join("index.html"), "load test")?;
    let data_arg = data.to_string_lossy().to_string();

    let ids = capture(&load_bin, &["ids", "--registers", registers]).context("continuity-load ids")?;
    let store = ["--data", data_arg.as_str()];
    let token = load_member(&relay_bin, &store, &ids)?;
    let dist_arg = dist.to_string_lossy().to_string();
    let (mut relay, url) = start_relay(&relay_bin, &store, &dist_arg, &token)?;
    let ours = job(&load_bin, &url, "our relay", relay.id());
    let _ = relay.kill();
    let _ = relay.wait();

    // LOAD_ONLY_OURS=1 leaves the reference out, for a quick look between changes; figures
    // for the record are always taken beside it.
    if std::env::var_os("LOAD_ONLY_OURS").is_some() {
        let _ = std::fs::remove_dir_all(&scratch);
        return Ok(vec![
            ours.unwrap_or_else(|e| format!("| {e:#} |")),
            "| reference not run (LOAD_ONLY_OURS) |".into(),
        ]);
    }
    // The reference server, with NodeFS storage.
    let store = scratch.join("js-store").to_string_lossy().to_string();
    let mut js = Command::new("node")
        .arg(root.join("tests/interop/server.mjs"))
        .arg(&store)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let port = first_line(js.stdout.as_mut().expect("piped"))?;
    let port = port.trim().rsplit(' ').next().unwrap_or_default().to_string();
    let reference = job(&load_bin, &format!("ws://127.0.0.1:{port}"), "automerge-repo 2.5.6 (Node)", js.id());
    let _ = js.kill();
    let _ = js.wait();
    let _ = std::fs::remove_dir_all(&scratch);
    Ok([ours, reference].into_iter().map(|r| r.unwrap_or_else(|e| format!("| {e:#} |"))).collect())
}

/// The shape of one load run.
struct Run<'a> {
    registers: &'a str,
    clients: &'a str,
    seconds: &'a str,
    interval: &'a str,
}

/// One run of the generator (`args`) against the server `pid`: the generator's line of
/// results with the server's CPU over the run and its memory beside it; a run that fails says
/// why (the generator's own words).
fn measured(bin: &str, args: &[&str], label: &str, pid: u32) -> Result<String> {
    let before = cpu_seconds(pid);
    let started = std::time::Instant::now();
    let out = Command::new(bin).args(args).output()?;
    let cpu = (cpu_seconds(pid) - before) / started.elapsed().as_secs_f64() * 100.0;
    if !out.status.success() {
        bail!("the {} against {label} failed: {}", args[0], String::from_utf8_lossy(&out.stderr).trim());
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mb = |field: &str| memory_kb(pid, field) as f64 / 1024.0;
    // The server's figures go on the run's first line; any further line (the edits that
    // crossed relays) stands as the generator wrote it.
    let (line, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let rest = if rest.is_empty() { String::new() } else { format!("\n{rest}") };
    Ok(format!("{line} {cpu:.0} | {:.0} / {:.0} |{rest}", mb("VmRSS:"), mb("VmHWM:")))
}

/// A process's CPU time so far (user and system), in seconds; USER_HZ is 100 on Linux.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// A line of /proc/<pid>/status in kB (VmRSS: now, VmHWM: the peak).
fn memory_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn first_line(out: &mut std::process::ChildStdout) -> Result<String> {
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line)?;
    Ok(line)
}

/// Installs what is missing and nothing else, so a second run costs a few milliseconds.
fn setup(root: &Path, browser: bool) -> Result<()> {
    let installed = capture("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        cmd("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    if capture("cargo", &["fmt", "--version"]).is_none() || capture("cargo", &["clippy", "--version"]).is_none() {
        cmd("rustup", &["component", "add", "rustfmt", "clippy"])?;
    }
    if capture("trunk", &["--version"]).is_none_or(|v| !v.contains(TRUNK_VERSION)) {
        // --locked: newer dependency releases need a newer Rust than this toolchain.
        cmd("cargo", &["install", &format!("trunk@{TRUNK_VERSION}"), "--locked"])?;
    }
    let bindgen = locked_version(root, "wasm-bindgen")?;
    check_trunk_toml(root, &bindgen)?;
    if capture("wasm-bindgen", &["--version"]).is_none_or(|v| v.split_whitespace().nth(1) != Some(bindgen.as_str())) {
        // Not --locked: the CLI's own lock file pins a crate the registry no longer serves.
        cmd("cargo", &["install", &format!("wasm-bindgen-cli@{bindgen}")])?;
    }
    let tools = root.join(".tools");
    let bin = tools.join("node_modules/.bin");
    if !bin.join("wasm-opt").exists() {
        std::fs::create_dir_all(&tools)?;
        let prefix = tools.to_string_lossy().to_string();
        cmd("npm", &["install", "--no-save", "--prefix", &prefix, &format!("binaryen@{BINARYEN_VERSION}")])?;
    }
    prepend_path(&bin);
    // The interop tests run npm's automerge-repo client and sync server with Node; the
    // end-to-end tests drive Chromium with playwright-core, check it with axe-core and read
    // calendars back with ical.js.
    let node_packages = ["@automerge/automerge-repo", "playwright-core", "axe-core", "ical.js"];
    if browser && node_packages.iter().any(|p| !root.join("tests/node_modules").join(p).is_dir()) {
        // `npm install`, not `npm ci`: this npm records cbor-extract's platform packages in
        // the lock file with no version and then refuses `npm ci`. The lock file still pins
        // every version installed.
        cmd("npm", &["install", "--prefix", "tests", "--no-audit", "--no-fund"])?;
    }
    if browser && (which("chromium").is_none() || which("chromedriver").is_none()) {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    Ok(())
}

/// A PostgreSQL cluster of the test run's own in a temporary folder, on a free loopback
/// port, run as an unprivileged user (PostgreSQL refuses to run as root).
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    user: Option<String>,
    port: u16,
}

impl Postgres {
    fn start() -> Result<Postgres> {
        let bin = match postgres_bin() {
            Some(bin) => bin,
            None => {
                apt_install(&["postgresql"])?;
                postgres_bin().context("PostgreSQL was installed but initdb is not to be found")?
            }
        };
        let root_user = capture("id", &["-u"]).is_some_and(|id| id.trim() == "0");
        let user = if root_user {
            // Debian's package makes this user; a machine without it gets one.
            if capture("id", &["-u", "postgres"]).is_none() {
                cmd("useradd", &["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"])?;
            }
            Some("postgres".to_string())
        } else {
            None
        };
        let dir = std::env::temp_dir().join(format!("continuity-test-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if let Some(user) = &user {
            cmd("chown", &[user, &dir.to_string_lossy()])?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let cluster = Postgres { dir, bin, user, port };
        let data = cluster.dir.join("data");
        let (data_s, dir_s) = (data.to_string_lossy().to_string(), cluster.dir.to_string_lossy().to_string());
        // --no-sync: a throwaway cluster need not wait for initdb's writes to reach the disk;
        // the server itself runs with fsync on, as the durability tests need.
        cluster.run("initdb", &["-D", &data_s, "-U", "continuity", "--auth=trust", "-E", "UTF8", "--no-sync"])?;
        let options = format!("-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on");
        let log = cluster.dir.join("server.log").to_string_lossy().to_string();
        cluster.run("pg_ctl", &["-D", &data_s, "-l", &log, "-w", "-o", &options, "start"])?;
        let url = cluster.url_of("postgres");
        eprintln!("PostgreSQL for the tests: {url}");
        // SAFETY: xtask starts no threads; the test processes inherit these.
        unsafe {
            std::env::set_var("CONTINUITY_TEST_POSTGRES", &url);
            std::env::set_var("CONTINUITY_REQUIRE_POSTGRES", "1");
        }
        Ok(cluster)
    }

    /// The address of database `name` on this cluster.
    fn url_of(&self, name: &str) -> String {
        format!("postgres://continuity@127.0.0.1:{}/{name}", self.port)
    }

    fn create_database(&self, name: &str) -> Result<()> {
        let port = self.port.to_string();
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "continuity", name])
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let program = self.bin.join(program).to_string_lossy().to_string();
        match &self.user {
            Some(user) => {
                let mut all = vec!["-u", user.as_str(), "--", program.as_str()];
                all.extend(args);
                cmd("runuser", &all)
            }
            None => cmd(&program, args),
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").to_string_lossy().to_string();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where initdb and pg_ctl are: on PATH, or in Debian's versioned folder (newest first).
fn postgres_bin() -> Option<PathBuf> {
    if let (Some(initdb), Some(_)) = (which("initdb"), which("pg_ctl")) {
        return std::fs::canonicalize(initdb).ok()?.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let root_user = capture("id", &["-u"]).is_some_and(|id| id.trim() == "0");
    let sudo: &[&str] = if root_user { &[] } else { &["sudo"] };
    let run = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.extend(args);
        cmd(all[0], &all[1..])
    };
    run(&["apt-get", "update", "-q"])?;
    let mut install = vec!["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q"];
    install.extend(packages);
    run(&install)
}

/// The version of a package in Cargo.lock, so the CLI installed always matches the library.
fn locked_version(root: &Path, name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    bail!("{name} is not in Cargo.lock")
}

/// Trunk downloads its own wasm-bindgen unless Trunk.toml names exactly the installed one,
/// and downloads are not possible here: fail early with the fix rather than mid-build.
fn check_trunk_toml(root: &Path, bindgen: &str) -> Result<()> {
    let trunk = std::fs::read_to_string(root.join("Trunk.toml"))?;
    if !trunk.contains(&format!("wasm_bindgen = \"{bindgen}\"")) {
        bail!("Trunk.toml must say wasm_bindgen = \"{bindgen}\" to match Cargo.lock");
    }
    Ok(())
}

/// The page's wasm must carry no Automerge: the document lives in the register worker. Both
/// crates are in one cargo package, so only this check keeps it so. Panic locations name the
/// source files they come from (`automerge-0.12.0/src/…`), so the crate's code leaves its
/// name in any wasm it is linked into; the worker's wasm must show it, or the check is blind.
fn check_page_has_no_automerge(dist: &Path) -> Result<()> {
    let mut page = None;
    let mut worker = None;
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.starts_with("continuity-app-") && name.ends_with("_bg.wasm") {
            page = Some(path);
        } else if name == "register-worker_bg.wasm" {
            worker = Some(path);
        }
    }
    let (Some(page), Some(worker)) = (page, worker) else {
        bail!("{} lacks the page's or the worker's wasm", dist.display())
    };
    let names_automerge = |path: &Path| -> Result<bool> {
        let bytes = std::fs::read(path)?;
        Ok(bytes.windows(11).any(|w| w.starts_with(b"automerge-") && w[10].is_ascii_digit()))
    };
    if !names_automerge(&worker)? {
        bail!("the check for Automerge in the page is blind: the worker's wasm does not name it either");
    }
    if names_automerge(&page)? {
        bail!("the page's wasm ({}) carries Automerge: only the register worker may hold the document", page.display());
    }
    eprintln!("the page's wasm carries no Automerge");
    Ok(())
}

fn prepend_path(dir: &Path) {
    let old = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(&old));
    // SAFETY: called before any thread is started; child processes inherit the new PATH.
    unsafe { std::env::set_var("PATH", std::env::join_paths(paths).expect("PATH entries are valid")) };
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

fn capture(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn cmd(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program).args(args).status().with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}
