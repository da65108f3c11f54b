//! Files the members' browsers make from a register and the relay serves as they are: the
//! review calendar (`calendar.ics`), which members subscribe to at a private address of
//! their own, and the trust centre summary (`summary.html`, `summary.json`), which an owner
//! publishes at the register's public address. The relay stores and serves the bytes and reads nothing of the register to
//! make them: its invariant (it never reads register records) holds.

use crate::db::Db;
// A calendar address's secret is made and kept (hashed) as a token's is.
use crate::members::{Member, hash, new_secret};
use crate::storage::StorageError;
use shared::protocol::DocumentId;
use std::sync::Arc;

/// The largest file (a calendar, a summary page) a browser may publish: the sample's calendar
/// is about 40 KB. (A summary's page and JSON come in one request, which axum caps at 2 MB.)
pub const MAX_PUBLISHED_BYTES: usize = 1024 * 1024;

/// A published file, as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub body: Vec<u8>,
    pub content_type: String,
    /// Seconds since the Unix epoch, by the relay's clock.
    pub at: i64,
}

/// Why a calendar was not taken.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("a viewer cannot publish the register's calendar: an editor's or owner's browser does")]
    Viewer,
    #[error("the calendar is {0} bytes, more than the {MAX_PUBLISHED_BYTES} a calendar may be")]
    TooLarge(usize),
    #[error("that is not an iCalendar file (it must begin BEGIN:VCALENDAR and end END:VCALENDAR)")]
    NotACalendar,
    #[error("only an owner of the register publishes its trust centre summary")]
    NotOwner,
    #[error(
        "the summary must be an HTML page (<!DOCTYPE html>…) and a JSON object, each at most {MAX_PUBLISHED_BYTES} bytes"
    )]
    NotASummary,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

pub struct Files {
    db: Arc<Db>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Files {
    pub fn new(db: Arc<Db>) -> Files {
        Files { db }
    }

    /// Keeps `ics` as the register's calendar, replacing the last one.
    pub fn publish_calendar(&self, member: &Member, register: &DocumentId, ics: &str) -> Result<(), Refused> {
        if member.role == crate::members::Role::Viewer {
            return Err(Refused::Viewer);
        }
        if ics.len() > MAX_PUBLISHED_BYTES {
            return Err(Refused::TooLarge(ics.len()));
        }
        let trimmed = ics.trim();
        if !trimmed.starts_with("BEGIN:VCALENDAR") || !trimmed.ends_with("END:VCALENDAR") {
            return Err(Refused::NotACalendar);
        }
        let (key, by) = (register.to_string(), member.name.clone());
        self.db.transaction(|t| {
            t.execute(
                "INSERT INTO published (register, name, body, content_type, at, by) VALUES ($1, 'calendar.ics', $2, $3, $4, $5)
                 ON CONFLICT (register, name) DO UPDATE SET body = excluded.body, content_type = excluded.content_type,
                     at = excluded.at, by = excluded.by",
                &[&key, &ics.as_bytes(), &"text/calendar; charset=utf-8", &now(), &by],
            )
        })?;
        Ok(())
    }

    /// Keeps an owner's trust centre summary of the register, the page and its JSON, in one
    /// transaction: the two never disagree.
    pub fn publish_summary(
        &self,
        member: &Member,
        register: &DocumentId,
        html: &str,
        json: &str,
    ) -> Result<(), Refused> {
        if member.role != crate::members::Role::Owner {
            return Err(Refused::NotOwner);
        }
        let is_object = serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| v.is_object());
        if html.len() > MAX_PUBLISHED_BYTES
            || json.len() > MAX_PUBLISHED_BYTES
            || !html.trim_start().to_ascii_lowercase().starts_with("<!doctype html>")
            || !is_object
        {
            return Err(Refused::NotASummary);
        }
        let (key, by) = (register.to_string(), member.name.clone());
        self.db.transaction(|t| {
            for (name, body, content_type) in
                [("summary.html", html, "text/html; charset=utf-8"), ("summary.json", json, "application/json")]
            {
                t.execute(
                    "INSERT INTO published (register, name, body, content_type, at, by) VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (register, name) DO UPDATE SET body = excluded.body,
                         content_type = excluded.content_type, at = excluded.at, by = excluded.by",
                    &[&key, &name, &body.as_bytes(), &content_type, &now(), &by],
                )?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// A register's published summary (`summary.html` or `summary.json`), for anyone.
    pub fn summary(&self, register: &DocumentId, name: &str) -> Result<Option<Published>, StorageError> {
        let key = register.to_string();
        let name = name.to_string();
        self.db.read(|t| {
            let row = t.query_opt(
                "SELECT body, content_type, at FROM published WHERE register = $1 AND name = $2",
                &[&key, &name],
            )?;
            row.map(|r| Ok(Published { body: r.bytes(0)?, content_type: r.text(1)?, at: r.int(2)? })).transpose()
        })
    }

    /// Turns on a new private calendar address for the member and register, ending any they
    /// had; returns its secret, which is not kept.
    pub fn open_feed(&self, member: &Member, register: &DocumentId) -> Result<String, StorageError> {
        let secret = new_secret()?;
        let key = register.to_string();
        self.db.transaction(|t| {
            t.execute("DELETE FROM calendar_feeds WHERE member = $1 AND register = $2", &[&member.id, &key])?;
            t.execute(
                "INSERT INTO calendar_feeds (secret_hash, member, register, created_at) VALUES ($1, $2, $3, $4)",
                &[&hash(&secret), &member.id, &key, &now()],
            )
        })?;
        Ok(secret)
    }

    /// Turns the member's calendar address for the register off; `false` if there was none.
    pub fn close_feed(&self, member: &Member, register: &DocumentId) -> Result<bool, StorageError> {
        let key = register.to_string();
        let gone = self.db.transaction(|t| {
            t.execute("DELETE FROM calendar_feeds WHERE member = $1 AND register = $2", &[&member.id, &key])
        })?;
        Ok(gone > 0)
    }

    /// Whether the member has a calendar address for the register turned on.
    pub fn has_feed(&self, member: &Member, register: &DocumentId) -> Result<bool, StorageError> {
        let key = register.to_string();
        let row = self.db.transaction(|t| {
            t.query_opt("SELECT 1 FROM calendar_feeds WHERE member = $1 AND register = $2", &[&member.id, &key])
        })?;
        Ok(row.is_some())
    }

    /// The calendar a private address serves: `None` when the address is not one (turned
    /// off, never made), its member is revoked or no longer has the register, or no
    /// browser has published the calendar yet.
    pub fn feed(&self, secret: &str) -> Result<Option<Published>, StorageError> {
        let secret_hash = hash(secret);
        self.db.read(|t| {
            let row = t.query_opt(
                "SELECT p.body, p.content_type, p.at FROM calendar_feeds f
                 JOIN members m ON m.id = f.member AND m.revoked = 0
                 JOIN grants g ON g.member = f.member AND g.register = f.register
                 JOIN published p ON p.register = f.register AND p.name = 'calendar.ics'
                 WHERE f.secret_hash = $1",
                &[&secret_hash],
            )?;
            row.map(|r| Ok(Published { body: r.bytes(0)?, content_type: r.text(1)?, at: r.int(2)? })).transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::{Directory, Role};

    fn check(db: Arc<Db>) {
        let (members, files) = (Directory::new(db.clone()), Files::new(db));
        let register = DocumentId([6; 16]);
        let (amara, _) = members.add("Amara", Role::Editor, &[register]).unwrap();
        let (vic, _) = members.add("Vic", Role::Viewer, &[register]).unwrap();
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
        assert!(matches!(files.publish_calendar(&vic, &register, ics), Err(Refused::Viewer)));
        assert!(matches!(files.publish_calendar(&amara, &register, "<html>"), Err(Refused::NotACalendar)));
        let secret = files.open_feed(&vic, &register).unwrap();
        assert_eq!(files.feed(&secret).unwrap(), None, "nothing published yet");
        files.publish_calendar(&amara, &register, ics).unwrap();
        assert_eq!(files.feed(&secret).unwrap().unwrap().body, ics.as_bytes(), "a viewer may subscribe");
        files.publish_calendar(&amara, &register, &ics.replace("2.0", "2.0\r\nX-NEW:1")).unwrap();
        assert!(String::from_utf8(files.feed(&secret).unwrap().unwrap().body).unwrap().contains("X-NEW"));
        // A new address ends the old one; turning it off ends it too.
        let again = files.open_feed(&vic, &register).unwrap();
        assert_eq!(files.feed(&secret).unwrap(), None);
        assert!(files.feed(&again).unwrap().is_some());
        assert!(files.has_feed(&vic, &register).unwrap());
        assert!(files.close_feed(&vic, &register).unwrap());
        assert_eq!(files.feed(&again).unwrap(), None);
        // A revoked member's address serves nothing.
        let amaras = files.open_feed(&amara, &register).unwrap();
        assert!(files.feed(&amaras).unwrap().is_some());
        members.revoke("Amara").unwrap();
        assert_eq!(files.feed(&amaras).unwrap(), None);
        assert_eq!(files.feed("not a secret").unwrap(), None);
        // Only an owner publishes the summary, and only a page with its JSON.
        let (olu, _) = members.add("Olu", Role::Owner, &[register]).unwrap();
        let page = "<!DOCTYPE html>\n<html lang=\"en-GB\"><title>Acme</title></html>";
        assert!(matches!(files.publish_summary(&vic, &register, page, "{}"), Err(Refused::NotOwner)));
        assert!(matches!(files.publish_summary(&olu, &register, "<p>", "{}"), Err(Refused::NotASummary)));
        assert!(matches!(files.publish_summary(&olu, &register, page, "[1]"), Err(Refused::NotASummary)));
        assert_eq!(files.summary(&register, "summary.html").unwrap(), None);
        files.publish_summary(&olu, &register, page, "{\"firm\": \"Acme\"}").unwrap();
        assert_eq!(files.summary(&register, "summary.html").unwrap().unwrap().body, page.as_bytes());
        assert_eq!(files.summary(&register, "summary.json").unwrap().unwrap().content_type, "application/json");
    }

    #[test]
    fn calendar_addresses_serve_the_latest_calendar_until_turned_off_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        check(Arc::new(Db::sqlite(dir.path()).unwrap()));
    }

    #[test]
    fn calendar_addresses_serve_the_latest_calendar_until_turned_off_on_postgres() {
        let Some(database) = continuity_tests::postgres::Database::fresh() else { return };
        check(Arc::new(Db::postgres(database.url()).unwrap()));
    }
}
