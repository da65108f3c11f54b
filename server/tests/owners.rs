//! A firm's own register: `register create` makes it with one owner, and that owner (and no
//! one else) manages its members over HTTP; a member revoked from the app loses their open
//! connection. Each refusal changes nothing.

mod support;

use shared::*;
use std::process::Command;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(300);

fn relay_command(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_continuity-relay")).arg("--data").arg(data).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// The register id and token from an invite link.
fn from_link(out: &str) -> (String, String) {
    let link = out.lines().find_map(|l| l.strip_prefix("Invite link: ")).expect("an invite link is printed");
    let query = link.split_once("#join?").unwrap().1;
    let value = |key: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}="))).unwrap().to_string();
    assert_eq!(value("role"), "owner");
    (value("register").trim_start_matches("automerge:").to_string(), value("token"))
}

fn ask(relay: &Relay, token: &str, action: &str, body: serde_json::Value) -> (u16, String) {
    http_post(
        &relay.addr,
        &format!("/members/{action}"),
        &format!("Authorization: Bearer {token}\r\n"),
        &body.to_string(),
    )
}

#[tokio::test]
async fn an_owner_creates_a_register_and_manages_its_members_and_no_one_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = relay_command(&data, &["register", "create", "--name", "Acme Ltd", "--owner", "Priya Shah"]);
    assert!(ok, "{err}");
    let (register, owner) = from_link(&out);
    let (ok, _, err) = relay_command(&data, &["register", "create", "--name", "Other Ltd", "--owner", "Priya Shah"]);
    assert!(!ok && err.contains("already a member called \"Priya Shah\""), "{err}");
    let (ok, out, _) = relay_command(&data, &["register", "create", "--name", "Other Ltd", "--owner", "Olu Ade"]);
    assert!(ok);
    let (other_register, other_owner) = from_link(&out);

    let relay = Relay::start(dir.path(), &data);
    let id: protocol::DocumentId = register.parse().unwrap();
    // The register holds the firm's name and nothing else yet.
    let mut owner_device = Client::joining(id);
    owner_device.connect(&relay.url(&owner)).await.unwrap();
    owner_device.settle(QUIET).await.unwrap();
    let held = owner_device.register();
    assert_eq!(held.name, "Acme Ltd");
    assert!(held.risks.is_empty() && held.people.is_empty() && held.incidents.is_empty());

    // The owner invites an editor; the editor's token opens the register.
    let (status, body) =
        ask(&relay, &owner, "invite", serde_json::json!({"register": register, "name": "Tom Reed", "role": "editor"}));
    assert_eq!(status, 200, "{body}");
    let invited: serde_json::Value = serde_json::from_str(&body).unwrap();
    let tom = invited["token"].as_str().unwrap().to_string();
    let mut tom_device = Client::joining(id);
    tom_device.connect(&relay.url(&tom)).await.unwrap();
    tom_device.settle(QUIET).await.unwrap();
    assert_eq!(tom_device.register().name, "Acme Ltd");

    let (status, body) = ask(&relay, &owner, "list", serde_json::json!({"register": register}));
    assert_eq!(status, 200, "{body}");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = listed.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Priya Shah", "Tom Reed"]);
    assert_eq!(listed[1]["role"], "editor");
    assert!(listed[1]["added_at"].as_i64().unwrap() > 0);
    assert!(listed[1]["last_seen"].as_i64().is_some(), "Tom has connected: {body}");

    // Refused, each with its reason, and nothing changes: an editor, another register's
    // owner, a bad role, a member of another register, the owner on themself.
    let before = ask(&relay, &owner, "list", serde_json::json!({"register": register})).1;
    let refusals = [
        (
            &tom,
            "invite",
            serde_json::json!({"register": register, "name": "Eve", "role": "owner"}),
            403,
            "only an owner",
        ),
        (&other_owner, "revoke", serde_json::json!({"register": register, "name": "Tom Reed"}), 403, "only an owner"),
        (&other_owner, "list", serde_json::json!({"register": register}), 403, "only an owner"),
        (
            &owner,
            "role",
            serde_json::json!({"register": register, "name": "Tom Reed", "role": "boss"}),
            400,
            "not a role",
        ),
        (
            &owner,
            "revoke",
            serde_json::json!({"register": register, "name": "Olu Ade"}),
            404,
            "not a member of this register",
        ),
        (
            &owner,
            "revoke",
            serde_json::json!({"register": register, "name": "Priya Shah"}),
            400,
            "cannot revoke yourself",
        ),
        (
            &owner,
            "invite",
            serde_json::json!({"register": register, "name": "Tom Reed", "role": "viewer"}),
            400,
            "already a member",
        ),
        (
            &owner,
            "invite",
            serde_json::json!({"register": other_register, "name": "Eve", "role": "editor"}),
            403,
            "only an owner",
        ),
        (&"cr_1_nope".to_string(), "list", serde_json::json!({"register": register}), 403, "not valid"),
    ];
    for (token, action, body, status, says) in refusals {
        let (got, text) = ask(&relay, token, action, body.clone());
        assert_eq!(got, status, "{action} {body}: {text}");
        assert!(text.contains(says), "{action} {body}: {text}");
    }
    assert_eq!(ask(&relay, &owner, "list", serde_json::json!({"register": register})).1, before);

    // The owner makes Tom a viewer, then revokes him: his open connection closes, his token
    // no longer opens the register, and the audit has every change.
    let (status, body) =
        ask(&relay, &owner, "role", serde_json::json!({"register": register, "name": "Tom Reed", "role": "viewer"}));
    assert_eq!(status, 200, "{body}");
    // His connection closes so that he comes back as a viewer.
    assert!(tom_device.settle(Duration::from_secs(3)).await.is_err());
    let mut tom_device = Client::joining(id);
    tom_device.connect(&relay.url(&tom)).await.unwrap();
    tom_device.settle(QUIET).await.unwrap();
    let (status, body) = ask(&relay, &owner, "revoke", serde_json::json!({"register": register, "name": "Tom Reed"}));
    assert_eq!(status, 200, "{body}");
    assert!(tom_device.settle(Duration::from_secs(3)).await.is_err(), "the revoked member's connection was closed");
    assert!(tom_device.refused.as_deref().unwrap_or_default().contains("revoked"), "{:?}", tom_device.refused);
    let mut again = Client::joining(id);
    assert!(again.connect(&relay.url(&tom)).await.is_err(), "the token no longer opens the register");
    let (ok, audit, _) = relay_command(&data, &["audit", "--members"]);
    assert!(ok);
    for line in [
        "terminal,automerge:",
        "invite owner,Priya Shah",
        "Priya Shah,automerge:",
        "invite editor,Tom Reed",
        "role viewer,Tom Reed",
        "revoke,Tom Reed",
    ] {
        assert!(audit.contains(line), "{line} in {audit}");
    }
    let (ok, list, _) = relay_command(&data, &["register", "list"]);
    assert!(ok);
    assert!(list.lines().any(|l| l.contains("Acme Ltd") && l.split('\t').nth(2) == Some("1")), "{list}");
    assert!(list.lines().any(|l| l.contains("Other Ltd")), "{list}");
}

#[tokio::test]
async fn a_register_kept_in_a_browser_is_uploaded_by_its_owner_to_the_id_made_for_it_and_to_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let id = new_document_id();
    let (ok, out, err) =
        relay_command(&data, &["register", "create", "--owner", "Kim Keeper", "--register", &id.to_string()]);
    assert!(ok, "{err}");
    let (_, token) = from_link(&out);
    let relay = Relay::start(dir.path(), &data);
    // The owner's device holds the register already, made before there was a server.
    let mut keeper = Client::creating(id, "Kept Locally Ltd");
    keeper.change(|d| d.create("p1", Person { name: "Kim Keeper".into(), ..Default::default() }, T0)).unwrap();
    keeper.connect(&relay.url(&token)).await.unwrap();
    keeper.settle(QUIET).await.unwrap();
    let mut colleague = Client::joining(id);
    colleague.connect(&relay.url(&relay.member("Cal", "editor", &[id]))).await.unwrap();
    colleague.settle(QUIET).await.unwrap();
    assert_eq!(colleague.register().name, "Kept Locally Ltd");
    assert!(colleague.register().people.contains_key("p1"));
    let (ok, list, _) = relay_command(&data, &["register", "list"]);
    assert!(ok && list.contains("Kept Locally Ltd"), "{list}");
    // The id is taken: creating it again, or uploading another register under it, is refused.
    let (ok, _, err) = relay_command(&data, &["register", "create", "--owner", "Other", "--register", &id.to_string()]);
    assert!(!ok && err.contains("already holds"), "{err}");
    let (ok, _, err) =
        relay_command(&data, &["register", "create", "--owner", "Other", "--register", &id.to_string(), "--name", "X"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
}
