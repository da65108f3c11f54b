//! The relay's metrics in the Prometheus text format, served at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub documents: Gauge,
    pub messages_received: Counter,
    pub messages_sent: Counter,
    pub bytes_received: Counter,
    pub bytes_sent: Counter,
    pub refused_connections: Counter,
    /// Seconds from handing a chunk to storage to its commit.
    pub storage_write_seconds: Histogram,
    /// Stored snapshots and chunks found unreadable on loading, and kept aside.
    pub unreadable_parts: Counter,
    /// Registers' chunks in each group commit.
    pub chunks_per_commit: Histogram,
    /// Connections closed because they stopped reading and their queue filled.
    pub slow_peers_closed: Counter,
    /// Connections refused because the relay was at its connection limit.
    pub over_capacity: Counter,
    /// Ephemeral messages dropped for going over a connection's rate.
    pub ephemeral_dropped: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("continuity_relay");
        let m = Metrics {
            connections: Gauge::default(),
            documents: Gauge::default(),
            messages_received: Counter::default(),
            messages_sent: Counter::default(),
            bytes_received: Counter::default(),
            bytes_sent: Counter::default(),
            refused_connections: Counter::default(),
            // 0.1 ms to about 3 s.
            storage_write_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
            unreadable_parts: Counter::default(),
            // 1 to 512 chunks.
            chunks_per_commit: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            slow_peers_closed: Counter::default(),
            over_capacity: Counter::default(),
            ephemeral_dropped: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("connections", "Open sync connections", m.connections.clone());
        registry.register("documents", "Registers held in memory", m.documents.clone());
        registry.register("messages_received", "Protocol messages received", m.messages_received.clone());
        registry.register("messages_sent", "Protocol messages sent", m.messages_sent.clone());
        registry.register("bytes_received", "Bytes of protocol messages received", m.bytes_received.clone());
        registry.register("bytes_sent", "Bytes of protocol messages sent", m.bytes_sent.clone());
        registry.register(
            "refused_connections",
            "Connections refused for a missing, wrong or revoked token",
            m.refused_connections.clone(),
        );
        registry.register(
            "storage_write_seconds",
            "Time to store a chunk of changes durably",
            m.storage_write_seconds.clone(),
        );
        registry.register(
            "unreadable_parts",
            "Stored parts of registers found unreadable and kept aside",
            m.unreadable_parts.clone(),
        );
        registry.register(
            "chunks_per_commit",
            "Registers' chunks stored together in one transaction",
            m.chunks_per_commit.clone(),
        );
        registry.register(
            "slow_peers_closed",
            "Connections closed for not reading while their queue filled",
            m.slow_peers_closed.clone(),
        );
        registry.register("over_capacity", "Connections refused at the connection limit", m.over_capacity.clone());
        registry.register(
            "ephemeral_dropped",
            "Ephemeral messages dropped over a connection's rate",
            m.ephemeral_dropped.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
