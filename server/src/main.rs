//! The relay's entry point: reads its configuration, opens storage, serves the built app and
//! the sync endpoint, and stops cleanly on SIGINT or SIGTERM.

use anyhow::Context;
use clap::Parser;
use continuity_server::Limits;
use continuity_server::relay::Relay;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Continuity Register relay.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Config {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CONTINUITY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built app (Trunk's output).
    #[arg(long, env = "CONTINUITY_DIST", default_value = "dist")]
    dist: PathBuf,
    /// Where the registers are stored (an SQLite database is created in it).
    #[arg(long, env = "CONTINUITY_DATA", default_value = "data")]
    data: PathBuf,
    /// Largest message a peer may send, in bytes.
    #[arg(long, env = "CONTINUITY_MAX_MESSAGE_BYTES", default_value_t = 16 * 1024 * 1024)]
    max_message_bytes: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let config = Config::parse();
    if !config.dist.join("index.html").is_file() {
        anyhow::bail!("{} has no index.html: build the app first (cargo xtask run does)", config.dist.display());
    }
    let storage = continuity_server::storage::Sqlite::open(&config.data)?;
    let relay = Arc::new(Relay::new(Arc::new(storage), format!("relay-{}", uuid::Uuid::new_v4())));
    let limits = Limits { max_message_bytes: config.max_message_bytes };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Tests and people both read this line to find the relay.
    println!("Continuity Register is at http://{addr}/");
    tracing::info!(%addr, dist = %config.dist.display(), data = %config.data.display(), "listening");
    let app = continuity_server::router(&config.dist, relay, limits);
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! { _ = interrupt => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
