//! The relay binary over a real socket: it starts on port 0, serves the built app and its
//! health check, and stops on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Relay {
    child: Child,
    addr: String,
}

impl Relay {
    fn start(dist: &std::path::Path) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
            .args(["--listen", "127.0.0.1:0", "--dist"])
            .arg(dist)
            .arg("--data")
            .arg(dist.join("data"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("relay starts");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().trim_end_matches('/').to_string();
        Relay { child, addr }
    }

    /// A plain HTTP/1.0 GET: enough for a test, and keeps an HTTP client out of the build.
    fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serves_the_app_and_health() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<title>Continuity Register</title>").unwrap();
    let relay = Relay::start(dist.path());

    let index = relay.get("/");
    assert!(index.starts_with("HTTP/1.0 200") || index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("Continuity Register"));
    assert!(index.to_ascii_lowercase().contains("cache-control: no-cache"));
    // Deep links load the app too.
    assert!(relay.get("/risks/R-001").contains("Continuity Register"));
    assert!(relay.get("/healthz").ends_with("ok"));
}

#[test]
fn refuses_to_start_without_a_built_app() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .args(["--listen", "127.0.0.1:0", "--dist"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no index.html"));
}

#[cfg(unix)]
#[test]
fn stops_on_sigterm() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "x").unwrap();
    let mut relay = Relay::start(dist.path());
    Command::new("kill").args(["-TERM", &relay.child.id().to_string()]).status().unwrap();
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
