//! The register's copy in the browser's IndexedDB: per register, an append-only log of
//! Automerge chunks, folded into a snapshot now and then. A write never rewrites what another
//! tab wrote, so tabs sharing one database cannot corrupt each other.

use js_sys::Uint8Array;
use rexie::{ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

const CHUNKS: &str = "chunks";

/// One stored piece of the register: its key (keys only grow) and Automerge bytes, either a
/// whole-document snapshot or the changes of an edit.
pub struct Chunk {
    pub key: f64,
    pub bytes: Vec<u8>,
}

pub struct Local {
    db: Rexie,
}

/// Says what failed in words a person can act on; quota and blocked databases arrive here.
fn failed(what: &str) -> impl Fn(rexie::Error) -> String + '_ {
    move |e| {
        // rexie's own message is only "idb error"; what the browser said is in its source.
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            detail = format!("{detail}: {inner}");
            source = inner.source();
        }
        if detail.to_lowercase().contains("quota") {
            format!(
                "Could not {what}: this browser's storage for the register is full. Your edits are kept in this tab \
                 and saved as soon as there is room; free some space or close the tab only once it says saved."
            )
        } else {
            format!("Could not {what} in this browser's storage: {detail}")
        }
    }
}

impl Local {
    /// Opens (creating if new) the database holding one register.
    pub async fn open(register: &str) -> Result<Local, String> {
        let db = Rexie::builder(&format!("continuity-register:{register}"))
            .version(1)
            .add_object_store(ObjectStore::new(CHUNKS).auto_increment(true))
            .build()
            .await
            .map_err(failed("open the register"))?;
        Ok(Local { db })
    }

    /// Every chunk, oldest first.
    pub async fn load(&self) -> Result<Vec<Chunk>, String> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed("read the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("read the register"))?;
        let pairs = store.scan(None, None, None, None).await.map_err(failed("read the register"))?;
        pairs
            .into_iter()
            .map(|(key, value)| {
                let key = key.as_f64().ok_or("a stored chunk has a key that is not a number")?;
                if !value.is_instance_of::<Uint8Array>() {
                    return Err(format!("stored chunk {key} is not binary data"));
                }
                Ok(Chunk { key, bytes: Uint8Array::new(&value).to_vec() })
            })
            .collect()
    }

    /// Stores a chunk and resolves only once the transaction has committed.
    pub async fn append(&self, bytes: &[u8]) -> Result<f64, String> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadWrite).map_err(failed("save the edit"))?;
        let store = tx.store(CHUNKS).map_err(failed("save the edit"))?;
        let key = store.add(&Uint8Array::from(bytes).into(), None).await.map_err(failed("save the edit"))?;
        committed(tx, "save the edit").await?;
        key.as_f64().ok_or_else(|| "the browser gave the saved edit a key that is not a number".into())
    }

    /// Writes `snapshot` and, in the same transaction, deletes the chunks it was built from.
    /// Only those: a chunk another tab wrote meanwhile is kept.
    pub async fn compact(&self, snapshot: &[u8], folded: &[f64]) -> Result<f64, String> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadWrite).map_err(failed("compact the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("compact the register"))?;
        let key = store.add(&Uint8Array::from(snapshot).into(), None).await.map_err(failed("compact the register"))?;
        for old in folded {
            store.delete(JsValue::from_f64(*old)).await.map_err(failed("compact the register"))?;
        }
        committed(tx, "compact the register").await?;
        key.as_f64().ok_or_else(|| "the browser gave the snapshot a key that is not a number".into())
    }

    /// One chunk by key, as another tab announces it.
    pub async fn get(&self, key: f64) -> Result<Option<Vec<u8>>, String> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed("read the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("read the register"))?;
        let value = store.get(JsValue::from_f64(key)).await.map_err(failed("read the register"))?;
        Ok(value.filter(|v| v.is_instance_of::<Uint8Array>()).map(|v| Uint8Array::new(&v).to_vec()))
    }
}

async fn committed(tx: rexie::Transaction, what: &str) -> Result<(), String> {
    let result = tx.done().await.map_err(failed(what))?;
    if result.is_committed() { Ok(()) } else { Err(format!("Could not {what}: the browser aborted the write")) }
}

/// Asks the browser not to evict the register under storage pressure. The answer is only
/// advice to show; the app works either way.
pub async fn ask_for_persistence() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let promise = storage.persist().ok()?;
    wasm_bindgen_futures::JsFuture::from(promise).await.ok()?.as_bool()
}
