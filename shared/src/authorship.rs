//! Who really wrote a change: the name a change claims (its device's entry in `actors`)
//! set beside the member the relay verified when the change was uploaded, and what to make
//! of the two. A change can claim anyone; the relay's record of who sent it cannot be forged
//! from a browser.

use serde::{Deserialize, Serialize};

/// What the relay recorded when a change first reached it: the member whose token sent it
/// and the relay's own time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub member: String,
    /// Seconds since the Unix epoch, by the relay's clock.
    pub at: i64,
    /// Stored by the relay itself (the sample register), not sent by a member.
    #[serde(default)]
    pub by_relay: bool,
}

/// The message of the empty change a restore adds after merging a backup in: the prefix,
/// then the backup's heads (hex, comma-separated). Every change the backup held is an
/// ancestor of those heads, so History can tell a colleague's old change re-sent from a
/// backup from one sent under a false name.
pub const RESTORE_MARK: &str = "restored a backup: ";

/// The backup's heads named by a restore's mark, or `None` for any other change message.
pub fn restored_heads(message: &str) -> Option<Vec<&str>> {
    let heads = message.strip_prefix(RESTORE_MARK)?;
    Some(heads.split(',').filter(|h| !h.is_empty()).collect())
}

/// What History says of one change's author.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authorship {
    /// The relay has no record of this change: not sent yet, or the relay could not be asked.
    Unconfirmed,
    /// Sent by the member the change names.
    Verified,
    /// The change names no one (its device never said whose it is); the relay knows who sent it.
    Unclaimed,
    /// Stored by the relay itself, as the sample register.
    ByRelay,
    /// Sent by a member other than the one it names, as part of a backup that member
    /// restored (the restore itself is on the relay's record as theirs).
    Restored,
    /// Sent by a member other than the one it names, with no restore to explain it.
    Mismatch,
}

impl Authorship {
    /// The words History shows beside the relay's record.
    pub fn label(&self) -> &'static str {
        match self {
            Authorship::Unconfirmed => "Not yet confirmed by the server",
            Authorship::Verified => "Verified",
            Authorship::Unclaimed => "Names no one",
            Authorship::ByRelay => "Stored by the server (sample register)",
            Authorship::Restored => "Restored from a backup",
            Authorship::Mismatch => "Mismatch: sent by someone else",
        }
    }
}

/// Names are people's: "Priya Shah" and "priya shah " are one person.
fn same_person(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
    norm(a) == norm(b)
}

/// Judges one change: `claimed` is the name its device gives, `upload` the relay's record of
/// it, `restore` the relay's record of the restore whose backup held it, if any.
pub fn judge(claimed: Option<&str>, upload: Option<&Upload>, restore: Option<&Upload>) -> Authorship {
    let Some(upload) = upload else { return Authorship::Unconfirmed };
    if upload.by_relay {
        return Authorship::ByRelay;
    }
    match claimed {
        None => Authorship::Unclaimed,
        Some(name) if same_person(name, &upload.member) => Authorship::Verified,
        Some(_) if restore.is_some_and(|r| !r.by_relay && same_person(&r.member, &upload.member)) => {
            Authorship::Restored
        }
        Some(_) => Authorship::Mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(member: &str) -> Upload {
        Upload { member: member.into(), at: 1_800_000_000, by_relay: false }
    }

    #[test]
    fn a_change_sent_by_the_member_it_names_is_verified() {
        assert_eq!(judge(Some("Priya Shah"), Some(&sent("priya  shah")), None), Authorship::Verified);
    }

    #[test]
    fn a_change_sent_by_someone_else_is_a_mismatch_unless_their_restore_held_it() {
        let by_tom = sent("Tom Reed");
        assert_eq!(judge(Some("Priya Shah"), Some(&by_tom), None), Authorship::Mismatch);
        assert_eq!(judge(Some("Priya Shah"), Some(&by_tom), Some(&sent("Tom Reed"))), Authorship::Restored);
        // A restore sent by a third member does not explain Tom's upload.
        assert_eq!(judge(Some("Priya Shah"), Some(&by_tom), Some(&sent("Ann Lee"))), Authorship::Mismatch);
    }

    #[test]
    fn unknown_unnamed_and_sample_changes_are_told_apart() {
        assert_eq!(judge(Some("Priya Shah"), None, None), Authorship::Unconfirmed);
        assert_eq!(judge(None, Some(&sent("Tom Reed")), None), Authorship::Unclaimed);
        let sample = Upload { by_relay: true, ..sent("relay") };
        assert_eq!(judge(Some("Priya Shah"), Some(&sample), None), Authorship::ByRelay);
    }

    #[test]
    fn a_restore_mark_names_the_backup_heads() {
        assert_eq!(restored_heads(&format!("{RESTORE_MARK}ab,cd")), Some(vec!["ab", "cd"]));
        assert_eq!(restored_heads("identify"), None);
    }
}
