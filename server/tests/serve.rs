//! The relay binary over a real socket: it starts on port 0, serves the built app and its
//! health check, and stops on SIGTERM.

mod support;

use std::process::Command;
use support::{Relay, http_get};

fn get(relay: &Relay, path: &str) -> String {
    http_get(&relay.addr, path)
}

#[test]
fn serves_the_app_and_health() {
    let dist = tempfile::tempdir().unwrap();
    let relay = Relay::start(dist.path(), &dist.path().join("data"));

    let index = get(&relay, "/");
    assert!(index.starts_with("HTTP/1.0 200") || index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("Continuity Register"));
    assert!(index.to_ascii_lowercase().contains("cache-control: no-cache"));
    // Deep links load the app too.
    assert!(get(&relay, "/risks/R-001").contains("Continuity Register"));
    assert!(get(&relay, "/healthz").ends_with("ok"));
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
    assert!(!std::path::Path::new("data").exists(), "a refused start left a data folder in the working directory");
}

#[cfg(unix)]
#[test]
fn stops_on_sigterm() {
    let dist = tempfile::tempdir().unwrap();
    let mut relay = Relay::start(dist.path(), &dist.path().join("data"));
    Command::new("kill").args(["-TERM", &relay.child.id().to_string()]).status().unwrap();
    let status = relay.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

/// `--with-sample` (what `cargo xtask run` uses) keeps the sample editor's token from run to
/// run, so browsers that joined stay joined; a revoked one is replaced.
#[test]
fn the_sample_editors_token_stays_the_same_from_run_to_run() {
    let dist = tempfile::tempdir().unwrap();
    let data = dist.path().join("data");
    let kept = || std::fs::read_to_string(data.join("sample-editor.token")).unwrap();
    let mut first = Relay::start_with(dist.path(), &data, &["--with-sample"]);
    let token = kept();
    assert!(token.starts_with("cr_"), "{token}");
    first.kill();
    let mut second = Relay::start_with(dist.path(), &data, &["--with-sample"]);
    assert_eq!(kept(), token);
    second.kill();
    let revoked = Command::new(env!("CARGO_BIN_EXE_continuity-relay"))
        .arg("--data")
        .arg(&data)
        .args(["member", "revoke", "--name", "Sample editor"])
        .output()
        .unwrap();
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let _third = Relay::start_with(dist.path(), &data, &["--with-sample"]);
    assert_ne!(kept(), token, "a revoked token is not handed out again");
}

#[test]
fn metrics_can_have_an_address_of_their_own_and_then_are_not_beside_the_app() {
    let dist = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_at = format!("127.0.0.1:{port}");
    let relay = Relay::start_with(dist.path(), &dist.path().join("data"), &["--metrics-listen", &metrics_at]);
    assert!(!get(&relay, "/metrics").contains("continuity_relay_connections"), "not on the app's address");
    let mut metrics = String::new();
    for _ in 0..50 {
        if let Ok(mut stream) = std::net::TcpStream::connect(&metrics_at) {
            use std::io::{Read, Write};
            write!(stream, "GET /metrics HTTP/1.0\r\nHost: {metrics_at}\r\n\r\n").unwrap();
            stream.read_to_string(&mut metrics).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(metrics.contains("continuity_relay_connections"), "{metrics}");
}

#[test]
fn every_response_carries_the_security_headers_and_the_policy_allows_only_the_built_loader() {
    let dist = tempfile::tempdir().unwrap();
    let relay = Relay::start(dist.path(), &dist.path().join("data"));
    for path in ["/", "/risks/R-001", "/healthz", "/metrics", "/sync", "/missing.js"] {
        let response = get(&relay, path).to_ascii_lowercase();
        for header in [
            "content-security-policy: default-src 'self'",
            "frame-ancestors 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
            "x-frame-options: deny",
        ] {
            assert!(response.contains(header), "{path} lacks {header}:\n{response}");
        }
        assert!(!response.contains("unsafe-inline"), "{path}");
    }
}

#[tokio::test]
async fn a_sync_connection_opened_by_a_page_from_another_site_is_refused() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let dist = tempfile::tempdir().unwrap();
    let relay = Relay::start(dist.path(), &dist.path().join("data"));
    let id = support::new_document_id();
    let token = relay.member("Visitor", "editor", &[id]);
    let mut request = relay.url(&token).into_client_request().unwrap();
    request.headers_mut().insert("Origin", "https://elsewhere.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("not refused: {other:?}"),
    }
    // From the relay's own pages it is accepted.
    let mut request = relay.url(&token).into_client_request().unwrap();
    request.headers_mut().insert("Origin", format!("http://{}", relay.addr).parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("same origin is accepted");
    assert!(get(&relay, "/metrics").contains("continuity_relay_refused_connections_total 1"));
}
