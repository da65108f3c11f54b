//! Document ids as automerge-repo writes them: the 16 bytes of a UUID, shown in
//! base58check (`automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu`).

use super::ProtocolError;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId(pub [u8; 16]);

impl DocumentId {
    /// The `automerge:` URL a JavaScript peer opens the document with.
    pub fn url(&self) -> String {
        format!("automerge:{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl FromStr for DocumentId {
    type Err = ProtocolError;

    /// Accepts the bare id or the `automerge:` URL; the error says what was wrong.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let id = text.trim().strip_prefix("automerge:").unwrap_or(text.trim());
        let id = id.split('#').next().unwrap_or_default();
        let bytes = bs58::decode(id)
            .with_check(None)
            .into_vec()
            .map_err(|e| ProtocolError::BadDocumentId(format!("{text:?} is not base58check ({e})")))?;
        let bytes: [u8; 16] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| ProtocolError::BadDocumentId(format!("{text:?} holds {} bytes, not 16", b.len())))?;
        Ok(DocumentId(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_automerge_repo() {
        // The UUID 00112233-4455-6677-8899-aabbccddeeff, as bs58check in automerge-repo.
        let id = DocumentId([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
        ]);
        let text = id.to_string();
        assert_eq!(text.parse::<DocumentId>().unwrap(), id);
        assert_eq!(id.url().parse::<DocumentId>().unwrap(), id);
        assert!(id.url().starts_with("automerge:1"), "a leading zero byte is a leading 1 in base58");
    }

    #[test]
    fn bad_ids_say_what_is_wrong() {
        let err = "automerge:0OIl".parse::<DocumentId>().unwrap_err();
        assert!(err.to_string().contains("not base58check"), "{err}");
        let short = bs58::encode([1u8, 2, 3]).with_check().into_string();
        let err = short.parse::<DocumentId>().unwrap_err();
        assert!(err.to_string().contains("holds 3 bytes, not 16"), "{err}");
        let mut tampered = DocumentId([7; 16]).to_string();
        tampered.replace_range(0..1, if tampered.starts_with('2') { "3" } else { "2" });
        assert!(tampered.parse::<DocumentId>().is_err(), "the checksum catches a changed character");
    }
}
