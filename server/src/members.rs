//! Members of the relay: who may connect, to which registers, whether they may change them,
//! and (owners) manage who else may. A token is shown once when the member is added; only a
//! hash of its secret is stored, compared in constant time, and a token never appears in a
//! log. Every change an owner makes to the members is recorded.

use crate::db::{Db, Tx};
use crate::storage::StorageError;
use sha2::{Digest, Sha256};
use shared::protocol::DocumentId;
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// May read and change the registers granted, and manage their members.
    Owner,
    /// May read and change the registers granted.
    Editor,
    /// May read the registers granted; any change is refused.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("{other:?} is not a role: use owner, editor or viewer")),
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

/// A member of a register as its owners see them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    pub name: String,
    pub role: String,
    /// Seconds since the Unix epoch; 0 for members added before this was recorded.
    pub added_at: i64,
    /// When they last connected, if ever.
    pub last_seen: Option<i64>,
    pub revoked: bool,
}

/// One change to the members, as the audit records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberChange {
    pub at: i64,
    /// The owner who made it (or `terminal` for the relay's own commands).
    pub by: String,
    pub register: String,
    /// `invite editor`, `role viewer`, `revoke`.
    pub action: String,
    pub member: String,
}

/// Why an owner's request about members was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("only an owner of this register can manage its members")]
    NotOwner,
    #[error("{0:?} is not a member of this register")]
    NoSuchMember(String),
    #[error("you cannot {0} yourself: ask another owner")]
    Yourself(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Storage(#[from] StorageError),
}

/// The members tables, in the relay's database (SQLite or PostgreSQL).
pub struct Directory {
    db: Arc<Db>,
}

/// A new member's token: `cr_<member id>_<secret>`. The id finds the row; the secret is
/// what is checked.
fn token_for(id: i64, secret: &str) -> String {
    format!("cr_{id}_{secret}")
}

/// 256 random bits, as hex: the secret part of a token (and of a calendar address).
pub(crate) fn new_secret() -> Result<String, StorageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StorageError(format!("no randomness for a token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn grants_of(t: &mut dyn Tx, id: i64) -> Result<Vec<DocumentId>, StorageError> {
    let rows = t.query("SELECT register FROM grants WHERE member = $1 ORDER BY register", &[&id])?;
    Ok(rows.iter().filter_map(|r| r.text(0).ok().and_then(|text| text.parse().ok())).collect())
}

impl Directory {
    /// The members in SQLite in `dir`, the default.
    pub fn open(dir: &Path) -> Result<Directory, StorageError> {
        Ok(Directory::new(Arc::new(Db::sqlite(dir)?)))
    }

    pub fn new(db: Arc<Db>) -> Directory {
        Directory { db }
    }

    /// The database the members are in, for what is kept beside them.
    pub fn db(&self) -> &Arc<Db> {
        &self.db
    }

    /// Adds a member and returns the member and their token, which is not kept anywhere.
    pub fn add(&self, name: &str, role: Role, registers: &[DocumentId]) -> Result<(Member, String), StorageError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StorageError("a member needs a name".into()));
        }
        let secret = new_secret()?;
        let id = self.db.transaction(|t| {
            if t.query_opt("SELECT 1 FROM members WHERE name = $1", &[&name])?.is_some() {
                return Err(StorageError(format!("there is already a member called {name:?}")));
            }
            let id = t
                .query_one(
                    "INSERT INTO members (name, role, secret_hash, added_at) VALUES ($1, $2, $3, $4) RETURNING id",
                    &[&name, &role.as_str(), &hash(&secret), &now()],
                )?
                .int(0)?;
            for register in registers {
                t.execute(
                    "INSERT INTO grants (member, register) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&id, &register.to_string()],
                )?;
            }
            Ok(id)
        })?;
        let member =
            Member { id, name: name.to_string(), role, registers: registers.to_vec(), revoked: false, epoch: 0 };
        Ok((member, token_for(id, &secret)))
    }

    /// Issues a member a new token and ends the old one (open connections made with it close
    /// within the revocation check). Returns the new token, which is not kept anywhere.
    pub fn rotate(&self, name: &str) -> Result<String, StorageError> {
        let secret = new_secret()?;
        let name = name.trim();
        let id = self.db.transaction(|t| {
            let id = t.query_opt("SELECT id FROM members WHERE name = $1 AND revoked = 0", &[&name])?;
            let id =
                id.ok_or_else(|| StorageError(format!("there is no member called {name:?} with access")))?.int(0)?;
            t.execute("UPDATE members SET secret_hash = $1, epoch = epoch + 1 WHERE id = $2", &[&hash(&secret), &id])?;
            Ok(id)
        })?;
        Ok(token_for(id, &secret))
    }

    /// Changes a member's role; their token stays, and their open connections reconnect with
    /// the new role.
    pub fn set_role(&self, name: &str, role: Role) -> Result<(), StorageError> {
        let name = name.trim();
        let changed = self.db.transaction(|t| {
            t.execute("UPDATE members SET role = $1, epoch = epoch + 1 WHERE name = $2", &[&role.as_str(), &name])
        })?;
        if changed == 0 {
            return Err(StorageError(format!("there is no member called {name:?}")));
        }
        Ok(())
    }

    /// The member a token belongs to, if it is valid and not revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<Member>, StorageError> {
        let Some((id, secret)) = token.strip_prefix("cr_").and_then(|rest| rest.split_once('_')) else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        self.db.read(|t| {
            let row =
                t.query_opt("SELECT name, role, secret_hash, revoked, epoch FROM members WHERE id = $1", &[&id])?;
            let Some(row) = row else { return Ok(None) };
            let (stored, revoked) = (row.bytes(2)?, row.flag(3)?);
            if !bool::from(hash(secret).ct_eq(&stored)) || revoked {
                return Ok(None);
            }
            let role = row.text(1)?.parse().map_err(StorageError)?;
            let registers = grants_of(t, id)?;
            Ok(Some(Member { id, name: row.text(0)?, role, registers, revoked, epoch: row.int(4)? }))
        })
    }

    /// Revokes a member's token. A running relay closes their open connections within its
    /// revocation check interval (`watch_access`), even if they never send anything.
    pub fn revoke(&self, name: &str) -> Result<bool, StorageError> {
        let name = name.trim();
        let changed = self.db.transaction(|t| {
            t.execute("UPDATE members SET revoked = 1, epoch = epoch + 1 WHERE name = $1", &[&name])
        })?;
        Ok(changed > 0)
    }

    /// Removes a member and their grants entirely (the sample editor is re-issued this way).
    pub fn remove(&self, name: &str) -> Result<(), StorageError> {
        let name = name.trim();
        self.db.transaction(|t| {
            t.execute("DELETE FROM grants WHERE member IN (SELECT id FROM members WHERE name = $1)", &[&name])?;
            t.execute("DELETE FROM members WHERE name = $1", &[&name])?;
            Ok(())
        })
    }

    /// Every member's access as it stands, for the watcher that closes connections made
    /// before a revocation, a new token or a new role.
    pub fn access(&self) -> Result<std::collections::HashMap<i64, Access>, StorageError> {
        let rows = self.db.read(|t| t.query("SELECT id, epoch, revoked FROM members", &[]))?;
        rows.iter().map(|r| Ok((r.int(0)?, Access { epoch: r.int(1)?, revoked: r.flag(2)? }))).collect()
    }

    pub fn is_revoked(&self, id: i64) -> Result<bool, StorageError> {
        let row = self.db.read(|t| t.query_opt("SELECT revoked FROM members WHERE id = $1", &[&id]))?;
        Ok(row.map(|r| r.flag(0)).transpose()?.unwrap_or(true))
    }

    pub fn list(&self) -> Result<Vec<(String, String, bool)>, StorageError> {
        let rows = self.db.transaction(|t| t.query("SELECT name, role, revoked FROM members ORDER BY id", &[]))?;
        rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?, r.flag(2)?))).collect()
    }

    /// Notes that a member connected, for "last seen".
    pub fn seen(&self, id: i64, at: i64) -> Result<(), StorageError> {
        self.db.transaction(|t| t.execute("UPDATE members SET last_seen = $1 WHERE id = $2", &[&at, &id]))?;
        Ok(())
    }

    /// The members who may open a register (and those revoked from it), in the order added.
    pub fn members_of(&self, register: &DocumentId) -> Result<Vec<Listed>, StorageError> {
        let key = register.to_string();
        let rows = self.db.transaction(|t| {
            t.query(
                "SELECT name, role, added_at, last_seen, revoked FROM members
                 WHERE id IN (SELECT member FROM grants WHERE register = $1) ORDER BY id",
                &[&key],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(Listed {
                    name: r.text(0)?,
                    role: r.text(1)?,
                    added_at: r.int(2)?,
                    last_seen: r.opt_int(3)?,
                    revoked: r.flag(4)?,
                })
            })
            .collect()
    }

    /// How many members (not revoked) may open each register.
    pub fn counts(&self) -> Result<std::collections::HashMap<String, i64>, StorageError> {
        let rows = self.db.transaction(|t| {
            t.query(
                "SELECT register, COUNT(*) FROM grants JOIN members ON members.id = grants.member
                 WHERE members.revoked = 0 GROUP BY register",
                &[],
            )
        })?;
        rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
    }

    /// Records a change to the members in the audit.
    pub fn record(&self, by: &str, register: &DocumentId, action: &str, member: &str) -> Result<(), StorageError> {
        self.db.transaction(|t| {
            t.execute(
                "INSERT INTO member_changes (at, by, register, action, member) VALUES ($1, $2, $3, $4, $5)",
                &[&now(), &by, &register.to_string(), &action, &member],
            )
        })?;
        Ok(())
    }

    /// Every recorded change to the members, oldest first.
    pub fn member_changes(&self) -> Result<Vec<MemberChange>, StorageError> {
        let rows = self
            .db
            .transaction(|t| t.query("SELECT at, by, register, action, member FROM member_changes ORDER BY id", &[]))?;
        rows.iter()
            .map(|r| {
                Ok(MemberChange {
                    at: r.int(0)?,
                    by: r.text(1)?,
                    register: r.text(2)?,
                    action: r.text(3)?,
                    member: r.text(4)?,
                })
            })
            .collect()
    }

    /// The one register-scoped check every owner request makes: `owner` owns `register`,
    /// and (when one is named) `member` is among its members.
    fn check_owner(&self, owner: &Member, register: &DocumentId, member: Option<&str>) -> Result<(), Refused> {
        if owner.role != Role::Owner || !owner.may_open(register) {
            return Err(Refused::NotOwner);
        }
        if let Some(name) = member
            && !self.members_of(register)?.iter().any(|m| m.name == name.trim())
        {
            return Err(Refused::NoSuchMember(name.trim().to_string()));
        }
        Ok(())
    }

    /// An owner invites someone to their register: a new member with that register alone.
    /// Returns their token, shown once.
    pub fn invite(&self, owner: &Member, register: &DocumentId, name: &str, role: Role) -> Result<String, Refused> {
        self.check_owner(owner, register, None)?;
        if name.trim().is_empty() {
            return Err(Refused::Invalid("say who you are inviting: a member needs a name".into()));
        }
        let (_, token) = self.add(name, role, &[*register]).map_err(|e| Refused::Invalid(e.0))?;
        self.record(&owner.name, register, &format!("invite {}", role.as_str()), name.trim())?;
        Ok(token)
    }

    /// An owner changes the role of one of their register's members.
    pub fn change_role(&self, owner: &Member, register: &DocumentId, name: &str, role: Role) -> Result<(), Refused> {
        self.check_owner(owner, register, Some(name))?;
        if owner.name == name.trim() {
            return Err(Refused::Yourself("change the role of"));
        }
        // A role is the member's on every register they may open.
        if self.other_registers(register, name)? > 0 {
            return Err(Refused::Invalid(format!(
                "{:?} is also a member of other registers, so their role is changed on the relay's machine",
                name.trim()
            )));
        }
        self.set_role(name, role)?;
        self.record(&owner.name, register, &format!("role {}", role.as_str()), name.trim())?;
        Ok(())
    }

    /// An owner revokes one of their register's members: their token stops working and
    /// their open connections close within the revocation check.
    pub fn revoke_from(&self, owner: &Member, register: &DocumentId, name: &str) -> Result<(), Refused> {
        self.check_owner(owner, register, Some(name))?;
        if owner.name == name.trim() {
            return Err(Refused::Yourself("revoke"));
        }
        if self.other_registers(register, name)? > 0 {
            // Their access to this register ends; the others are not this owner's to end.
            let (key, name) = (register.to_string(), name.trim());
            self.db.transaction(|t| {
                t.execute(
                    "DELETE FROM grants WHERE register = $1 AND member = (SELECT id FROM members WHERE name = $2)",
                    &[&key, &name],
                )?;
                t.execute("UPDATE members SET epoch = epoch + 1 WHERE name = $1", &[&name])
            })?;
        } else {
            self.revoke(name)?;
        }
        self.record(&owner.name, register, "revoke", name.trim())?;
        Ok(())
    }

    /// How many registers other than `register` the member may open.
    fn other_registers(&self, register: &DocumentId, name: &str) -> Result<i64, StorageError> {
        let (key, name) = (register.to_string(), name.trim());
        self.db.transaction(|t| {
            t.query_one(
                "SELECT COUNT(*) FROM grants WHERE register != $1 AND member = (SELECT id FROM members WHERE name = $2)",
                &[&key, &name],
            )?
            .int(0)
        })
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

    /// What members must do on either database; returns the token issued to Amara.
    fn check_tokens(members: &Directory) -> String {
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
        // An owner's changes are recorded, and a register's members listed.
        members.record("Amara", &register, "invite editor", "Bea").unwrap();
        assert_eq!(members.member_changes().unwrap()[0].member, "Bea");
        assert_eq!(members.members_of(&register).unwrap()[0].name, "Amara");
        token
    }

    #[test]
    fn tokens_work_until_revoked_and_only_as_issued() {
        let dir = tempfile::tempdir().unwrap();
        let members = Directory::open(dir.path()).unwrap();
        let token = check_tokens(&members);
        // The database (and its write-ahead log) holds no token, only a hash of its secret.
        let secret = token.rsplit('_').next().unwrap();
        for file in std::fs::read_dir(dir.path()).unwrap() {
            let raw = std::fs::read(file.unwrap().path()).unwrap();
            assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }

    #[test]
    fn members_on_postgres_keep_the_same_rules() {
        let Some(database) = continuity_tests::postgres::Database::fresh() else { return };
        let members = Directory::new(Arc::new(Db::postgres(database.url()).unwrap()));
        let token = check_tokens(&members);
        // A second relay on the same database knows the same members.
        let other = Directory::new(Arc::new(Db::postgres(database.url()).unwrap()));
        assert_eq!(other.authenticate(&token).unwrap(), None, "revoked on the first, revoked on the second");
        assert_eq!(other.list().unwrap().len(), 1);
    }
}
