//! The relay's entry point: reads its configuration, serves the built app, stops cleanly on
//! SIGINT or SIGTERM.

use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

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
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Tests and people both read this line to find the relay.
    println!("Continuity Register is at http://{addr}/");
    tracing::info!(%addr, dist = %config.dist.display(), "listening");
    axum::serve(listener, continuity_server::router(&config.dist)).with_graceful_shutdown(shutdown()).await?;
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
