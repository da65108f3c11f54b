//! The register's copy in the browser's IndexedDB: per register, an append-only log of
//! Automerge chunks, folded into a snapshot now and then. A write never rewrites what another
//! tab wrote, so tabs sharing one database cannot corrupt each other.

use js_sys::Uint8Array;
use rexie::{ObjectStore, Rexie, TransactionMode};
use shared::replica::{Chunk, ChunkKey, StorageError};
use wasm_bindgen::{JsCast, JsValue};

const CHUNKS: &str = "chunks";
/// One value: the replica's view of the register (`Effect::SaveView`), shown while opening.
const VIEW: &str = "view";
const VIEW_KEY: &str = "view";

pub struct Local {
    db: Rexie,
}

/// Says what failed in words a person can act on; quota and blocked databases arrive here.
fn failed(what: &str) -> impl Fn(rexie::Error) -> StorageError + '_ {
    move |e| {
        // rexie's own message is only "idb error"; what the browser said is in its source.
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            detail = format!("{detail}: {inner}");
            source = inner.source();
        }
        if detail.to_lowercase().contains("quota") {
            StorageError::Full { what: what.to_string() }
        } else {
            StorageError::Failed { what: what.to_string(), detail }
        }
    }
}

impl Local {
    /// Opens (creating if new) the database holding one register.
    pub async fn open(register: &str) -> Result<Local, StorageError> {
        let db = Rexie::builder(&format!("continuity-register:{register}"))
            .version(2)
            .add_object_store(ObjectStore::new(CHUNKS).auto_increment(true))
            .add_object_store(ObjectStore::new(VIEW))
            .build()
            .await
            .map_err(failed("open the register"))?;
        Ok(Local { db })
    }

    /// Every chunk, oldest first.
    pub async fn load(&self) -> Result<Vec<Chunk>, StorageError> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed("read the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("read the register"))?;
        let pairs = store.scan(None, None, None, None).await.map_err(failed("read the register"))?;
        pairs
            .into_iter()
            .map(|(key, value)| {
                let key = chunk_key(&key, "read the register")?;
                if !value.is_instance_of::<Uint8Array>() {
                    let detail = format!("stored chunk {} is not binary data", key.0);
                    return Err(StorageError::Failed { what: "read the register".into(), detail });
                }
                Ok(Chunk { key, bytes: Uint8Array::new(&value).to_vec() })
            })
            .collect()
    }

    /// Stores a chunk and resolves only once the transaction has committed.
    pub async fn append(&self, bytes: &[u8]) -> Result<ChunkKey, StorageError> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadWrite).map_err(failed("save the edit"))?;
        let store = tx.store(CHUNKS).map_err(failed("save the edit"))?;
        let key = store.add(&Uint8Array::from(bytes).into(), None).await.map_err(failed("save the edit"))?;
        committed(tx, "save the edit").await?;
        chunk_key(&key, "save the edit")
    }

    /// Writes `snapshot` and, in the same transaction, deletes the chunks it was built from.
    /// Only those: a chunk another tab wrote meanwhile is kept.
    pub async fn compact(&self, snapshot: &[u8], folded: &[ChunkKey]) -> Result<ChunkKey, StorageError> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadWrite).map_err(failed("compact the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("compact the register"))?;
        let key = store.add(&Uint8Array::from(snapshot).into(), None).await.map_err(failed("compact the register"))?;
        for old in folded {
            store.delete(JsValue::from_f64(old.0 as f64)).await.map_err(failed("compact the register"))?;
        }
        committed(tx, "compact the register").await?;
        chunk_key(&key, "compact the register")
    }

    /// The stored view, if there is one.
    pub async fn load_view(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.transaction(&[VIEW], TransactionMode::ReadOnly).map_err(failed("read the register"))?;
        let store = tx.store(VIEW).map_err(failed("read the register"))?;
        let value = store.get(JsValue::from_str(VIEW_KEY)).await.map_err(failed("read the register"))?;
        Ok(value.filter(|v| v.is_instance_of::<Uint8Array>()).map(|v| Uint8Array::new(&v).to_vec()))
    }

    /// Replaces the stored view.
    pub async fn save_view(&self, bytes: &[u8]) -> Result<(), StorageError> {
        let what = "keep a copy of the register for opening";
        let tx = self.db.transaction(&[VIEW], TransactionMode::ReadWrite).map_err(failed(what))?;
        let store = tx.store(VIEW).map_err(failed(what))?;
        let key = JsValue::from_str(VIEW_KEY);
        store.put(&Uint8Array::from(bytes).into(), Some(&key)).await.map_err(failed(what))?;
        committed(tx, what).await
    }

    /// One chunk by key, as another tab announces it.
    pub async fn get(&self, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed("read the register"))?;
        let store = tx.store(CHUNKS).map_err(failed("read the register"))?;
        let value = store.get(JsValue::from_f64(key.0 as f64)).await.map_err(failed("read the register"))?;
        Ok(value.filter(|v| v.is_instance_of::<Uint8Array>()).map(|v| Uint8Array::new(&v).to_vec()))
    }
}

async fn committed(tx: rexie::Transaction, what: &str) -> Result<(), StorageError> {
    let result = tx.done().await.map_err(failed(what))?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(StorageError::Failed { what: what.into(), detail: "the browser aborted the write".into() })
    }
}

/// IndexedDB's auto-increment keys are whole numbers, handed over as JavaScript numbers.
fn chunk_key(key: &JsValue, what: &str) -> Result<ChunkKey, StorageError> {
    match key.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(ChunkKey(n as u64)),
        _ => {
            Err(StorageError::Failed { what: what.into(), detail: "a stored chunk's key is not a whole number".into() })
        }
    }
}
