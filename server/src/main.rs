//! The relay's entry point: serves the built app and the sync endpoint (stopping cleanly on
//! SIGINT or SIGTERM), and the subcommands that create registers, manage members, export the
//! audit record and back the database up.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use continuity_server::Limits;
use continuity_server::db::Db;
use continuity_server::members::{Directory, Role};
use continuity_server::relay::Relay;
use continuity_server::storage::{Audit, Sql, Storage};
use shared::protocol::DocumentId;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Continuity Register relay.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Where the registers and members are stored (an SQLite database is created in it).
    #[arg(long, env = "CONTINUITY_DATA", default_value = "data", global = true)]
    data: PathBuf,
    /// Keep registers and members in PostgreSQL instead (postgres://user:password@host:port/database):
    /// for several relays sharing one database. The schema is created or upgraded at start.
    #[arg(long, env = "CONTINUITY_DATABASE", global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(Args, Debug)]
struct Serve {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CONTINUITY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built app (Trunk's output).
    #[arg(long, env = "CONTINUITY_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Largest message a peer may send, in bytes.
    #[arg(long, env = "CONTINUITY_MAX_MESSAGE_BYTES", default_value_t = Limits::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Registers one connection may sync.
    #[arg(long, env = "CONTINUITY_MAX_DOCUMENTS_PER_CONNECTION", default_value_t = Limits::default().max_documents_per_connection)]
    max_documents_per_connection: usize,
    /// Messages one connection may send in a second.
    #[arg(long, env = "CONTINUITY_MAX_MESSAGES_PER_SECOND", default_value_t = Limits::default().max_messages_per_second)]
    max_messages_per_second: u32,
    /// How often open connections are pinged, in milliseconds; one silent for two of these
    /// is closed.
    #[arg(long, env = "CONTINUITY_PING_INTERVAL_MS", default_value_t = Limits::default().ping_interval.as_millis() as u64)]
    ping_interval_ms: u64,
    /// Open sync connections the relay takes; one more is told to try again later.
    #[arg(long, env = "CONTINUITY_MAX_CONNECTIONS", default_value_t = Limits::default().max_connections)]
    max_connections: usize,
    /// Messages that may wait for one connection before it is closed for not reading.
    #[arg(long, env = "CONTINUITY_OUTBOX_MESSAGES", default_value_t = Limits::default().outbox.messages)]
    outbox_messages: usize,
    /// Ephemeral messages (presence) one connection may send in a second; more are dropped.
    #[arg(long, env = "CONTINUITY_MAX_EPHEMERAL_PER_SECOND", default_value_t = Limits::default().max_ephemeral_per_second)]
    max_ephemeral_per_second: u32,
    /// Milliseconds a register gathers messages into one batch (one transaction, one sync
    /// message per peer) after the first arrives.
    #[arg(long, env = "CONTINUITY_BATCH_WINDOW_MS", default_value_t = continuity_server::relay::Options::default().gather.as_millis() as u64)]
    batch_window_ms: u64,
    /// Seconds a register with nobody syncing it stays in memory.
    #[arg(long, env = "CONTINUITY_REGISTER_IDLE_SECS", default_value_t = continuity_server::relay::Options::default().idle.as_secs())]
    register_idle_secs: u64,
    /// Serve `/metrics` on this address only (for example 127.0.0.1:9090), not beside the app.
    #[arg(long, env = "CONTINUITY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Create the sample register if there is none, and print an editor invite link to it.
    #[arg(long)]
    with_sample: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create and list registers.
    #[command(subcommand)]
    Register(RegisterCommand),
    /// Manage who may connect.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Print every change the relay accepted (time, member, register, change hash) as CSV.
    Audit {
        /// Instead, every change to the members (time, by whom, register, what, member).
        #[arg(long)]
        members: bool,
    },
    /// Copy the database (registers, members, audit) to a new file, consistently, while the
    /// relay runs. To restore: stop the relay, put the copy in place of
    /// `<data>/registers.sqlite3`, delete `registers.sqlite3-wal` and `-shm` beside it, start.
    Backup {
        /// The file to write; it must not exist yet.
        file: PathBuf,
    },
    /// Copy a relay's SQLite data folder (registers, members and their tokens, the audit)
    /// into an empty PostgreSQL database, then check that every register loads from it
    /// with the same heads. Stop the relay first.
    Migrate {
        /// The data folder holding registers.sqlite3.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database (postgres://…), empty.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
enum RegisterCommand {
    /// Create a register for a firm, with one owner, and print the owner's invite link once.
    Create {
        /// The firm's name, as the register shows it.
        #[arg(long, required_unless_present = "register")]
        name: Option<String>,
        /// The person who owns the register: they invite the rest of the team from the app.
        #[arg(long)]
        owner: String,
        /// Start from the sample register instead of an empty one.
        #[arg(long, conflicts_with = "register")]
        from_sample: bool,
        /// The register a browser already keeps (its id, from the app's Export view): nothing
        /// is made here, and the owner's browser uploads the register when they open the invite.
        #[arg(long, conflicts_with = "name")]
        register: Option<DocumentId>,
        /// The address people open, for the invite link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// List the registers: id, name, members with access, and when it last changed.
    List,
}

#[derive(Subcommand, Debug)]
enum MemberCommand {
    /// Add a member and print their token and invite link, once.
    Add {
        #[arg(long)]
        name: String,
        /// owner, editor or viewer.
        #[arg(long)]
        role: Role,
        /// A register they may open (its id or automerge: URL); repeat for several.
        #[arg(long = "register", required = true)]
        registers: Vec<DocumentId>,
        /// The address people open, for the invite link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Revoke a member's token.
    Revoke {
        #[arg(long)]
        name: String,
    },
    /// Issue a member a new token (and invite links) and end the old one.
    Rotate {
        #[arg(long)]
        name: String,
        /// The address people open, for the invite link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
    },
    /// Change a member's role; their token stays.
    Role {
        #[arg(long)]
        name: String,
        /// owner, editor or viewer.
        #[arg(long)]
        role: Role,
    },
    /// List members.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries what the commands print (the address, invite links),
    // which scripts read, and a log that nobody drains must not fill that pipe and stall
    // the relay.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(Command::Migrate { from, to }) = &cli.command {
        anyhow::ensure!(
            from.join("registers.sqlite3").is_file(),
            "{} holds no relay database (registers.sqlite3) to migrate",
            from.display()
        );
        let source = Arc::new(Db::sqlite(from)?);
        let target = Arc::new(continuity_server::db::open(&cli.data, Some(to))?);
        let copied = continuity_server::migrate::copy(&source, &target)?;
        println!(
            "Copied {} registers ({} chunks), {} members and {} audited changes to {}; every register loads with the same heads.",
            copied.registers,
            copied.chunks,
            copied.members,
            copied.changes_audited,
            continuity_server::db::without_password(to)
        );
        return Ok(());
    }
    if let Some(Command::Backup { file }) = &cli.command {
        anyhow::ensure!(
            cli.database.is_none(),
            "backup copies the SQLite database; back PostgreSQL up with its own tools (pg_dump, or base backups with WAL archiving)"
        );
        let bytes = continuity_server::storage::backup(&cli.data, file)?;
        println!("Backed up {} to {} ({bytes} bytes); integrity check passed.", cli.data.display(), file.display());
        return Ok(());
    }
    // Refused before the database is opened: a relay that cannot serve leaves no data folder
    // or database behind.
    if cli.command.is_none() && !cli.serve.dist.join("index.html").is_file() {
        anyhow::bail!("{} has no index.html: build the app first (cargo xtask run does)", cli.serve.dist.display());
    }
    let db = Arc::new(continuity_server::db::open(&cli.data, cli.database.as_deref())?);
    match cli.command {
        None => serve(&cli.data, &db, cli.serve).await,
        Some(Command::Audit { members: false }) => audit(&db),
        Some(Command::Audit { members: true }) => member_audit(&db),
        Some(Command::Register(command)) => register(&db, command),
        Some(Command::Member(command)) => member(&db, command),
        Some(Command::Backup { .. } | Command::Migrate { .. }) => Ok(()),
    }
}

/// The browser link that joins a register. The role only shapes the interface (a viewer
/// gets no edit controls); the relay enforces it whatever the link says.
fn invite(public_url: &str, register: &DocumentId, token: &str, role: Role) -> String {
    let role = role.as_str();
    format!("{}/#join?register={}&token={token}&role={role}", public_url.trim_end_matches('/'), register.url())
}

fn member(db: &Arc<Db>, command: MemberCommand) -> anyhow::Result<()> {
    let members = Directory::new(db.clone());
    match command {
        MemberCommand::Add { name, role, registers, public_url } => {
            let (member, token) = members.add(&name, role, &registers)?;
            for register in &registers {
                members.record(TERMINAL, register, &format!("invite {}", role.as_str()), &member.name)?;
            }
            println!("Added {} as {:?}. Their token (shown only this once):\n{token}", member.name, member.role);
            for register in &registers {
                println!("Invite link: {}", invite(&public_url, register, &token, member.role));
            }
        }
        MemberCommand::Revoke { name } => {
            anyhow::ensure!(members.revoke(&name)?, "there is no member called {name:?}");
            println!("Revoked {name}.");
        }
        MemberCommand::Rotate { name, public_url } => {
            let token = members.rotate(&name)?;
            let member = members.authenticate(&token)?.context("the new token does not work")?;
            println!("New token for {} (shown only this once; the old one no longer works):\n{token}", member.name);
            for register in &member.registers {
                println!("Invite link: {}", invite(&public_url, register, &token, member.role));
            }
        }
        MemberCommand::Role { name, role } => {
            members.set_role(&name, role)?;
            println!(
                "{name} is now {}.",
                match role {
                    Role::Owner => "an owner",
                    Role::Editor => "an editor",
                    Role::Viewer => "a viewer",
                }
            );
        }
        MemberCommand::List => {
            for (name, role, revoked) in members.list()? {
                println!("{name}\t{role}{}", if revoked { "\trevoked" } else { "" });
            }
        }
    }
    Ok(())
}

/// Who made a change to the members from the relay's own commands, in the audit.
const TERMINAL: &str = "terminal";

fn register(db: &Arc<Db>, command: RegisterCommand) -> anyhow::Result<()> {
    let storage = Sql::new(db.clone());
    let members = Directory::new(db.clone());
    match command {
        RegisterCommand::Create { register: Some(id), owner, public_url, .. } => {
            anyhow::ensure!(!owner.trim().is_empty(), "a register needs an owner (--owner)");
            anyhow::ensure!(
                storage.load(&id)?.is_none(),
                "the relay already holds {}: a browser's register is uploaded only to an id the relay has nothing for",
                id.url()
            );
            let (member, token) = members.add(&owner, Role::Owner, &[id])?;
            members.record(TERMINAL, &id, "invite owner", &member.name)?;
            println!("The register {} is to be uploaded from the browser that keeps it.", id.url());
            println!("{} owns it. Opened in that browser, this link uploads it (shown only this once):", member.name);
            println!("Invite link: {}", invite(&public_url, &id, &token, Role::Owner));
        }
        RegisterCommand::Create { name, owner, from_sample, public_url, register: None } => {
            let name = name.unwrap_or_default();
            anyhow::ensure!(!name.trim().is_empty(), "a register needs the firm's name (--name)");
            anyhow::ensure!(!owner.trim().is_empty(), "a register needs an owner (--owner)");
            let id = DocumentId(*uuid::Uuid::new_v4().as_bytes());
            let now = chrono::Utc::now();
            // The owner first: a name already taken stops here, before any register exists.
            let (member, token) = members.add(&owner, Role::Owner, &[id])?;
            let mut doc = if from_sample {
                let mut doc = shared::sample::sample(shared::Date(now.date_naive()), now.timestamp())?;
                doc.update_name(name.trim(), now.timestamp())?;
                doc
            } else {
                shared::RegisterDoc::new(name.trim(), now.timestamp())?
            };
            let changes = doc.automerge().get_changes(&[]).iter().map(|c| c.hash().to_string()).collect();
            let audit = Audit { member: format!("{TERMINAL} (register create)"), at: now.timestamp(), changes };
            storage.append(&id, &doc.save(), &audit)?;
            members.record(TERMINAL, &id, "invite owner", &member.name)?;
            println!("Created the register {:?} ({}).", name.trim(), id.url());
            println!("{} owns it. Their invite link (shown only this once):", member.name);
            println!("Invite link: {}", invite(&public_url, &id, &token, Role::Owner));
        }
        RegisterCommand::List => {
            let counts = members.counts()?;
            println!("register\tname\tmembers\tlast change");
            for (id, last) in storage.registers()? {
                let name = storage
                    .load(&id)?
                    .and_then(|stored| stored.name())
                    .unwrap_or_else(|| "(name cannot be read)".into());
                let last = chrono::DateTime::from_timestamp(last, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
                let count = counts.get(&id.to_string()).copied().unwrap_or(0);
                println!("{}\t{name}\t{count}\t{last}", id.url());
            }
        }
    }
    Ok(())
}

fn member_audit(db: &Arc<Db>) -> anyhow::Result<()> {
    let members = Directory::new(db.clone());
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["time", "by", "register", "action", "member"])?;
    for row in members.member_changes()? {
        let time = chrono::DateTime::from_timestamp(row.at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
        out.write_record([time, row.by, format!("automerge:{}", row.register), row.action, row.member])?;
    }
    out.flush()?;
    Ok(())
}

fn audit(db: &Arc<Db>) -> anyhow::Result<()> {
    let storage = Sql::new(db.clone());
    let mut out = csv::Writer::from_writer(std::io::stdout());
    out.write_record(["time", "member", "register", "change"])?;
    for row in storage.audit()? {
        let time = chrono::DateTime::from_timestamp(row.at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
        out.write_record([time, row.member, format!("automerge:{}", row.register), row.change])?;
    }
    out.flush()?;
    Ok(())
}

/// The sample register lives under a fixed id so every run of `cargo xtask run` finds it.
const SAMPLE_REGISTER: DocumentId = DocumentId(*b"continuity-smpl1");

/// Stores the sample register if it is not there yet, and issues a fresh editor token for it.
fn seed_sample(data: &Path, storage: &Sql, members: &Directory) -> anyhow::Result<String> {
    if storage.load(&SAMPLE_REGISTER)?.is_none() {
        let now = chrono::Utc::now();
        let today = shared::Date(now.date_naive());
        let mut doc = shared::sample::sample(today, now.timestamp())?;
        let changes = doc.automerge().get_changes(&[]).iter().map(|c| c.hash().to_string()).collect();
        let audit = Audit { member: continuity_server::SAMPLE_UPLOADER.into(), at: now.timestamp(), changes };
        storage.append(&SAMPLE_REGISTER, &doc.save(), &audit)?;
    }
    // The sample editor's token is kept in the data folder (only this demo member's), so the
    // invite link, and the browsers that joined with it, keep working from run to run.
    let kept = data.join("sample-editor.token");
    if let Ok(token) = std::fs::read_to_string(&kept)
        && members.authenticate(token.trim())?.is_some_and(|m| m.may_open(&SAMPLE_REGISTER))
    {
        return Ok(token.trim().to_string());
    }
    let name = "Sample editor";
    members.remove(name)?;
    let (_, token) = members.add(name, Role::Editor, &[SAMPLE_REGISTER])?;
    write_private(&kept, &token).with_context(|| format!("cannot write {}", kept.display()))?;
    Ok(token)
}

/// Writes a file only its owner can read (on Unix): it holds a token.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

async fn serve(data: &Path, db: &Arc<Db>, config: Serve) -> anyhow::Result<()> {
    let storage = Sql::new(db.clone());
    let members = Arc::new(Directory::new(db.clone()));
    let sample_token = if config.with_sample { Some(seed_sample(data, &storage, &members)?) } else { None };
    let options = continuity_server::relay::Options {
        idle: std::time::Duration::from_secs(config.register_idle_secs),
        gather: std::time::Duration::from_millis(config.batch_window_ms),
    };
    let relay = Arc::new(Relay::with_options(Arc::new(storage), format!("relay-{}", uuid::Uuid::new_v4()), options));
    if let Some(url) = db.postgres_url() {
        // Other relays may share this database: their changes reach this one's peers.
        relay.follow(continuity_server::follow::listen(url.to_string()));
    }
    let limits = Limits {
        max_message_bytes: config.max_message_bytes,
        max_documents_per_connection: config.max_documents_per_connection,
        max_messages_per_second: config.max_messages_per_second,
        ping_interval: std::time::Duration::from_millis(config.ping_interval_ms),
        outbox: continuity_server::outbox::Bound {
            messages: config.outbox_messages,
            ..continuity_server::outbox::Bound::default()
        },
        max_connections: config.max_connections,
        max_ephemeral_per_second: config.max_ephemeral_per_second,
        ..Limits::default()
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Sync messages are small and answer each other: with Nagle's algorithm on, a second
    // message to a peer waits for the peer's delayed ACK (40 ms on Linux), which was the
    // relay's whole p99 under load. Browsers and Node's `ws` turn it off too.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot turn off Nagle's algorithm on a connection");
        }
    });
    // The handlers go in before the address is printed: a signal that arrives the moment
    // someone reads the address must stop the relay gracefully, not kill it outright.
    let stop = shutdown_signal()?;
    // Tests and people both read this line to find the relay.
    println!("Continuity Register is at http://{addr}/");
    if let Some(token) = sample_token {
        println!(
            "Open the sample register as an editor: {}",
            invite(&format!("http://{addr}"), &SAMPLE_REGISTER, &token, Role::Editor)
        );
    }
    match db.postgres_url() {
        Some(url) => {
            tracing::info!(%addr, dist = %config.dist.display(), database = %continuity_server::db::without_password(url), "listening")
        }
        None => tracing::info!(%addr, dist = %config.dist.display(), data = %data.display(), "listening"),
    }
    if let Some(at) = config.metrics_listen {
        let listener =
            tokio::net::TcpListener::bind(at).await.with_context(|| format!("cannot listen on {at} for metrics"))?;
        tracing::info!(addr = %listener.local_addr()?, "metrics");
        let metrics = continuity_server::metrics_router(relay.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let app = continuity_server::router(&config.dist, relay, members, limits, config.metrics_listen.is_none());
    axum::serve(listener, app).with_graceful_shutdown(stop).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed when this is called.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = term.recv() => {} }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
