//! Members of the relay: who may connect, to which registers, and whether they may change
//! them. A token is shown once when the member is added; only a hash of its secret is
//! stored, compared in constant time, and a token never appears in a log.

use crate::storage::{StorageError, open_database};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use shared::protocol::DocumentId;
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// May read and change the registers granted.
    Editor,
    /// May read the registers granted; any change is refused.
    Viewer,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("{other:?} is not a role: use editor or viewer")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The registers this member may open.
    pub registers: Vec<DocumentId>,
    pub revoked: bool,
    /// Goes up whenever the member's token or role changes (or access is revoked): an open
    /// connection made before it is closed.
    pub epoch: i64,
}

/// What an open connection needs to know of its member now (`watch_access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub epoch: i64,
    pub revoked: bool,
}

impl Member {
    pub fn may_open(&self, register: &DocumentId) -> bool {
        self.registers.contains(register)
    }
}

/// The members table, in the relay's SQLite database.
pub struct Directory {
    connection: Mutex<Connection>,
}

/// A new member's token: `cr_<member id>_<secret>`. The id finds the row; the secret is
/// what is checked.
fn token_for(id: i64, secret: &str) -> String {
    format!("cr_{id}_{secret}")
}

/// 256 random bits, as hex: the secret part of a token.
fn new_secret() -> Result<String, StorageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StorageError(format!("no randomness for a token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl Directory {
    pub fn open(dir: &Path) -> Result<Directory, StorageError> {
        let connection = open_database(dir)?;
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS members (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
                 secret_hash BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS grants (member INTEGER NOT NULL, register TEXT NOT NULL,
                 PRIMARY KEY (member, register));",
        )?;
        // Databases made before tokens could be rotated lack the epoch.
        let has_epoch =
            connection.prepare("SELECT 1 FROM pragma_table_info('members') WHERE name = 'epoch'")?.exists([])?;
        if !has_epoch {
            connection.execute_batch("ALTER TABLE members ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")?;
        }
        Ok(Directory { connection: Mutex::new(connection) })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a member and returns the member and their token, which is not kept anywhere.
    pub fn add(&self, name: &str, role: Role, registers: &[DocumentId]) -> Result<(Member, String), StorageError> {
        if name.trim().is_empty() {
            return Err(StorageError("a member needs a name".into()));
        }
        let secret = new_secret()?;
        let mut c = self.connection();
        let t = c.transaction()?;
        t.execute(
            "INSERT INTO members (name, role, secret_hash) VALUES (?1, ?2, ?3)",
            params![name.trim(), role.as_str(), hash(&secret)],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                StorageError(format!("there is already a member called {:?}", name.trim()))
            }
            other => other.into(),
        })?;
        let id = t.last_insert_rowid();
        for register in registers {
            t.execute(
                "INSERT OR IGNORE INTO grants (member, register) VALUES (?1, ?2)",
                params![id, register.to_string()],
            )?;
        }
        t.commit()?;
        let member =
            Member { id, name: name.trim().to_string(), role, registers: registers.to_vec(), revoked: false, epoch: 0 };
        Ok((member, token_for(id, &secret)))
    }

    /// Issues a member a new token and ends the old one (open connections made with it close
    /// within the revocation check). Returns the new token, which is not kept anywhere.
    pub fn rotate(&self, name: &str) -> Result<String, StorageError> {
        let secret = new_secret()?;
        let c = self.connection();
        let id: Option<i64> = c
            .query_row("SELECT id FROM members WHERE name = ?1 AND revoked = 0", [name.trim()], |r| r.get(0))
            .optional()?;
        let id = id.ok_or_else(|| StorageError(format!("there is no member called {:?} with access", name.trim())))?;
        c.execute("UPDATE members SET secret_hash = ?1, epoch = epoch + 1 WHERE id = ?2", params![hash(&secret), id])?;
        Ok(token_for(id, &secret))
    }

    /// Changes a member's role; their token stays, and their open connections reconnect with
    /// the new role.
    pub fn set_role(&self, name: &str, role: Role) -> Result<(), StorageError> {
        let changed = self.connection().execute(
            "UPDATE members SET role = ?1, epoch = epoch + 1 WHERE name = ?2",
            params![role.as_str(), name.trim()],
        )?;
        if changed == 0 {
            return Err(StorageError(format!("there is no member called {:?}", name.trim())));
        }
        Ok(())
    }

    /// The member a token belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<Member>, StorageError> {
        let Some((id, secret)) = token.strip_prefix("cr_").and_then(|rest| rest.split_once('_')) else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        let c = self.connection();
        let row: Option<(String, String, Vec<u8>, bool, i64)> = c
            .query_row("SELECT name, role, secret_hash, revoked, epoch FROM members WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((name, role, stored, revoked, epoch)) = row else { return Ok(None) };
        if !bool::from(hash(secret).ct_eq(&stored)) || revoked {
            return Ok(None);
        }
        let mut statement = c.prepare_cached("SELECT register FROM grants WHERE member = ?1")?;
        let registers = statement
            .query_map([id], |r| r.get::<_, String>(0))?
            .filter_map(|r| r.ok().and_then(|text| text.parse().ok()))
            .collect();
        let role = role.parse().map_err(StorageError)?;
        Ok(Some(Member { id, name, role, registers, revoked, epoch }))
    }

    /// Revokes a member's token. A running relay closes their open connections within its
    /// revocation check interval (`watch_access`), even if they never send anything.
    pub fn revoke(&self, name: &str) -> Result<bool, StorageError> {
        let changed = self
            .connection()
            .execute("UPDATE members SET revoked = 1, epoch = epoch + 1 WHERE name = ?1", [name.trim()])?;
        Ok(changed > 0)
    }

    /// Removes a member and their grants entirely (the sample editor is re-issued this way).
    pub fn remove(&self, name: &str) -> Result<(), StorageError> {
        let mut c = self.connection();
        let t = c.transaction()?;
        t.execute("DELETE FROM grants WHERE member IN (SELECT id FROM members WHERE name = ?1)", [name.trim()])?;
        t.execute("DELETE FROM members WHERE name = ?1", [name.trim()])?;
        t.commit()?;
        Ok(())
    }

    /// Every member's access as it stands, for the watcher that closes connections made
    /// before a revocation, a new token or a new role.
    pub fn access(&self) -> Result<std::collections::HashMap<i64, Access>, StorageError> {
        let c = self.connection();
        let mut statement = c.prepare_cached("SELECT id, epoch, revoked FROM members")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, Access { epoch: r.get(1)?, revoked: r.get(2)? })))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn is_revoked(&self, id: i64) -> Result<bool, StorageError> {
        let revoked: Option<bool> =
            self.connection().query_row("SELECT revoked FROM members WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        Ok(revoked.unwrap_or(true))
    }

    pub fn list(&self) -> Result<Vec<(String, String, bool)>, StorageError> {
        let c = self.connection();
        let mut statement = c.prepare("SELECT name, role, revoked FROM members ORDER BY id")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Every member's access, as the watcher last read it.
pub type AccessMap = std::sync::Arc<std::collections::HashMap<i64, Access>>;

/// Publishes every member's access every `every`, for open connections to watch: `member
/// revoke`, `rotate` and `role` run as another process, so the relay polls its database (a
/// query of one small table) rather than waiting to be told.
pub fn watch_access(
    members: std::sync::Arc<Directory>,
    every: std::time::Duration,
) -> tokio::sync::watch::Receiver<Option<AccessMap>> {
    let (tx, rx) = tokio::sync::watch::channel(None);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let members = members.clone();
            match tokio::task::spawn_blocking(move || members.access()).await {
                Ok(Ok(access)) => {
                    tx.send_if_modified(|current| {
                        let changed = current.as_deref() != Some(&access);
                        if changed {
                            *current = Some(std::sync::Arc::new(access));
                        }
                        changed
                    });
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot read members' access; will try again"),
                Err(e) => tracing::warn!(error = %e, "access check did not run"),
            }
            if tx.is_closed() {
                return;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_work_until_revoked_and_only_as_issued() {
        let dir = tempfile::tempdir().unwrap();
        let members = Directory::open(dir.path()).unwrap();
        let register = DocumentId([9; 16]);
        let (amara, token) = members.add("Amara", Role::Editor, &[register]).unwrap();
        let found = members.authenticate(&token).unwrap().unwrap();
        assert_eq!(found, amara);
        assert!(found.may_open(&register));
        assert!(!found.may_open(&DocumentId([8; 16])));

        let mut wrong = token.clone();
        wrong.pop();
        wrong.push(if token.ends_with('0') { '1' } else { '0' });
        assert_eq!(members.authenticate(&wrong).unwrap(), None);
        assert_eq!(members.authenticate("").unwrap(), None);
        assert_eq!(members.authenticate("cr_999_abc").unwrap(), None);
        assert_eq!(members.authenticate("cr_x_y").unwrap(), None);

        let err = members.add("Amara", Role::Viewer, &[]).unwrap_err();
        assert!(err.to_string().contains("already a member called \"Amara\""), "{err}");

        assert!(members.revoke("Amara").unwrap());
        assert_eq!(members.authenticate(&token).unwrap(), None);
        assert!(members.is_revoked(amara.id).unwrap());
        assert!(!members.revoke("Nobody").unwrap());

        // The database (and its write-ahead log) holds no token, only a hash of its secret.
        let secret = token.rsplit('_').next().unwrap();
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let raw = std::fs::read(file.unwrap().path()).unwrap();
            assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
}
