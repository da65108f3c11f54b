//! Server-verified authorship over the real relay: `/uploads` says which member sent each
//! change and when, so a change claiming to be someone else's is caught, and a colleague's
//! change re-sent in a restored backup is told apart from a forged one.

mod support;

use shared::authorship::{Authorship, Upload, judge};
use shared::*;
use std::collections::BTreeMap;
use std::time::Duration;
use support::*;

const QUIET: Duration = Duration::from_millis(300);

fn person(name: &str) -> Person {
    Person { name: name.into(), ..Default::default() }
}

fn ask(relay: &Relay, token: &str, register: &str, changes: &[String]) -> (u16, String) {
    let body = serde_json::json!({ "register": register, "changes": changes }).to_string();
    http_post(&relay.addr, "/uploads", &format!("Authorization: Bearer {token}\r\n"), &body)
}

#[tokio::test]
async fn history_shows_who_really_sent_each_change() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let priya_token = relay.member("Priya Shah", "editor", &[id]);
    let tom_token = relay.member("Tom Reed", "editor", &[id]);
    let started = chrono::Utc::now().timestamp();

    // Priya starts the register, says she is Priya, and records a risk.
    let mut priya = Client::creating(id, "Acme Ltd");
    priya
        .change(|d| {
            d.create("p1", person("Priya Shah"), T0)?;
            d.create("p2", person("Ann Lee"), T0)?;
            d.identify("p1", T0)?;
            d.create(
                "r1",
                Risk {
                    title: "Identity provider outage".into(),
                    inherent_likelihood: 3,
                    inherent_impact: 4,
                    residual_likelihood: 2,
                    residual_impact: 3,
                    target_score: 6,
                    ..Default::default()
                },
                T0,
            )
        })
        .unwrap();
    priya.connect(&relay.url(&priya_token)).await.unwrap();
    priya.settle(QUIET).await.unwrap();

    // Ann edits on a copy that never reaches the relay, and mails Tom a backup of it.
    let mut ann = RegisterDoc::load(&priya.save()).unwrap();
    ann.identify("p2", T0 + 10).unwrap();
    ann.update::<Risk>("r1", T0 + 20, |r| r.controls = "Ann's controls".into()).unwrap();
    let backup = ann.save();

    // Tom's device claims to be Priya's, edits, then restores Ann's backup; all sent as Tom.
    let mut tom = Client::with_doc(id, RegisterDoc::load(&priya.save()).unwrap());
    tom.change(|d| {
        d.identify("p1", T0 + 30)?;
        d.update::<Risk>("r1", T0 + 40, |r| r.category = "Written by Tom as Priya".into())?;
        d.restore_backup(&backup, T0 + 50)
    })
    .unwrap();
    tom.connect(&relay.url(&tom_token)).await.unwrap();
    tom.settle(QUIET).await.unwrap();
    priya.settle(QUIET).await.unwrap();

    // What Priya's History shows, from her copy and the relay's record.
    let mut copy = RegisterDoc::load(&priya.save()).unwrap();
    let register = copy.register().unwrap();
    let history = copy.history::<Risk>("r1").unwrap();
    let mut hashes: Vec<String> = history.iter().map(|e| e.change.clone()).collect();
    hashes.extend(history.iter().filter_map(|e| e.restored_in.clone()));
    let (status, body) = ask(&relay, &priya_token, &id.to_string(), &hashes);
    assert_eq!(status, 200, "{body}");
    let uploads: BTreeMap<String, Upload> = serde_json::from_str(&body).unwrap();
    let judged = |new: &str| {
        let entry = history.iter().find(|e| e.new.as_deref() == Some(new)).unwrap_or_else(|| panic!("{new}"));
        let claimed = entry.person.as_deref().and_then(|p| register.person_name(p));
        let upload = uploads.get(&entry.change);
        let restore = entry.restored_in.as_ref().and_then(|m| uploads.get(m));
        (claimed.map(str::to_string), upload.cloned(), judge(claimed, upload, restore))
    };

    let (claimed, upload, verdict) = judged("created");
    assert_eq!((claimed.as_deref(), verdict), (Some("Priya Shah"), Authorship::Verified));
    let upload = upload.unwrap();
    assert_eq!(upload.member, "Priya Shah");
    assert!(upload.at >= started && upload.at <= chrono::Utc::now().timestamp() + 1, "the relay's own time");
    assert!(!upload.by_relay);

    let (claimed, upload, verdict) = judged("Written by Tom as Priya");
    assert_eq!((claimed.as_deref(), verdict), (Some("Priya Shah"), Authorship::Mismatch));
    assert_eq!(upload.unwrap().member, "Tom Reed");

    let (claimed, upload, verdict) = judged("Ann's controls");
    assert_eq!((claimed.as_deref(), verdict), (Some("Ann Lee"), Authorship::Restored));
    assert_eq!(upload.unwrap().member, "Tom Reed");

    // A change the relay never had is simply not in the answer.
    let unknown = "ab".repeat(32);
    let (status, body) = ask(&relay, &priya_token, &id.to_string(), std::slice::from_ref(&unknown));
    assert_eq!((status, body.as_str()), (200, "{}"));
}

#[tokio::test]
async fn only_members_of_the_register_may_ask_and_bad_questions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(dir.path(), &dir.path().join("data"));
    let id = new_document_id();
    let viewer = relay.member("Viewer", "viewer", &[id]);
    let elsewhere = relay.member("Elsewhere", "editor", &[new_document_id()]);
    let change = vec!["0f".repeat(32)];
    let register = id.to_string();

    assert_eq!(ask(&relay, &viewer, &register, &change).0, 200, "viewers may read the record");
    let (status, body) = ask(&relay, "cr_not_a_token", &register, &change);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not valid"), "{body}");
    assert!(http_get(&relay.addr, "/metrics").contains("continuity_relay_refused_connections_total 1"));
    assert_eq!(ask(&relay, &elsewhere, &register, &change).0, 404, "answers as a missing register");

    let body = serde_json::json!({ "register": register, "changes": change }).to_string();
    let (status, _) = http_post(&relay.addr, "/uploads", "", &body);
    assert_eq!(status, 401);
    let (status, body) = http_post(
        &relay.addr,
        "/uploads",
        &format!("Authorization: Bearer {viewer}\r\nOrigin: http://elsewhere.test\r\n"),
        &body,
    );
    assert_eq!(status, 403, "{body}");

    let (status, body) = ask(&relay, &viewer, &register, &["not a hash".into()]);
    assert_eq!(status, 400);
    assert!(body.contains("is not a change hash"), "{body}");
    let (status, body) = ask(&relay, &viewer, "nonsense", &change);
    assert_eq!(status, 400);
    assert!(body.contains("base58"), "{body}");
    let many = vec!["0f".repeat(32); 5_001];
    let (status, body) = ask(&relay, &viewer, &register, &many);
    assert_eq!(status, 400);
    assert!(body.contains("at most 5000"), "{body}");
    let (status, body) =
        http_post(&relay.addr, "/uploads", &format!("Authorization: Bearer {viewer}\r\n"), "{\"register\": 1}");
    assert_eq!(status, 400);
    assert!(body.contains("expected"), "{body}");
}
