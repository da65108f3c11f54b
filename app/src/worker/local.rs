//! The register's copy in the browser's IndexedDB: per register, an append-only log of
//! Automerge chunks, folded into a snapshot now and then. A write never rewrites what another
//! tab wrote, so tabs sharing one database cannot corrupt each other.

use idb::builder::{DatabaseBuilder, ObjectStoreBuilder};
use idb::{Database, Transaction, TransactionMode};
use js_sys::Uint8Array;
use shared::replica::{Chunk, ChunkKey, StorageError};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbTransaction};

// `IDBDatabase.transaction(names, mode, options)`, bound by hand: web-sys has it only behind
// its unstable-APIs flag, which would change how every web-sys binding in the app is built.
#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase`, seen only for this one method.
    #[wasm_bindgen(extends = js_sys::Object)]
    type DatabaseWithOptions;
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        names: &JsValue,
        mode: &str,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;
}

const CHUNKS: &str = "chunks";
/// One value: the replica's view of the register (`Effect::SaveView`), shown while opening.
const VIEW: &str = "view";
const VIEW_KEY: &str = "view";

/// The `idb` crate is used rather than a wrapper over it because a write that must be on
/// disk before the app says "saved" asks for strict durability (Chromium's default is relaxed:
/// committed to the operating system, not flushed), and only the raw `IdbDatabase` can open
/// a transaction with that option.
pub struct Local {
    db: Database,
    raw: IdbDatabase,
}

/// Says what failed in words a person can act on; quota and blocked databases arrive here.
fn failed(what: &str) -> impl Fn(idb::Error) -> StorageError + '_ {
    move |e| {
        let detail = e.to_string();
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
        let db = DatabaseBuilder::new(&format!("continuity-register:{register}"))
            .version(2)
            .add_object_store(ObjectStoreBuilder::new(CHUNKS).auto_increment(true))
            .add_object_store(ObjectStoreBuilder::new(VIEW))
            .build()
            .await
            .map_err(failed("open the register"))?;
        let raw: IdbDatabase = db.into();
        Ok(Local { db: Database::from(raw.clone()), raw })
    }

    /// A read-write transaction on the chunks that resolves only once it is on disk.
    pub fn strict(&self, what: &str) -> Result<Transaction, StorageError> {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"durability".into(), &"strict".into())
            .map_err(|e| StorageError::Failed { what: what.into(), detail: js_text(&e) })?;
        let names = js_sys::Array::of1(&JsValue::from_str(CHUNKS));
        self.raw
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(&names, "readwrite", &options)
            .map(Transaction::from)
            .map_err(|e| StorageError::Failed { what: what.into(), detail: js_text(&e) })
    }

    /// Every chunk, oldest first.
    pub async fn load(&self) -> Result<Vec<Chunk>, StorageError> {
        let what = "read the register";
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed(what))?;
        let store = tx.object_store(CHUNKS).map_err(failed(what))?;
        // Both lists come from one transaction, in key order, so they pair up.
        let keys = store.get_all_keys(None, None).map_err(failed(what))?.await.map_err(failed(what))?;
        let values = store.get_all(None, None).map_err(failed(what))?.await.map_err(failed(what))?;
        keys.iter()
            .zip(values)
            .map(|(key, value)| {
                let key = chunk_key(key, what)?;
                if !value.is_instance_of::<Uint8Array>() {
                    let detail = format!("stored chunk {} is not binary data", key.0);
                    return Err(StorageError::Failed { what: what.into(), detail });
                }
                Ok(Chunk { key, bytes: Uint8Array::new(&value).to_vec() })
            })
            .collect()
    }

    /// Stores a chunk and resolves only once the transaction has committed, to disk.
    pub async fn append(&self, bytes: &[u8]) -> Result<ChunkKey, StorageError> {
        let what = "save the edit";
        let tx = self.strict(what)?;
        let store = tx.object_store(CHUNKS).map_err(failed(what))?;
        let key =
            store.add(&Uint8Array::from(bytes).into(), None).map_err(failed(what))?.await.map_err(failed(what))?;
        committed(tx, what).await?;
        chunk_key(&key, what)
    }

    /// Writes `snapshot` and, in the same transaction, deletes the chunks it was built from.
    /// Only those: a chunk another tab wrote meanwhile is kept.
    pub async fn compact(&self, snapshot: &[u8], folded: &[ChunkKey]) -> Result<ChunkKey, StorageError> {
        let what = "compact the register";
        let tx = self.strict(what)?;
        let store = tx.object_store(CHUNKS).map_err(failed(what))?;
        let key =
            store.add(&Uint8Array::from(snapshot).into(), None).map_err(failed(what))?.await.map_err(failed(what))?;
        for old in folded {
            store.delete(JsValue::from_f64(old.0 as f64)).map_err(failed(what))?.await.map_err(failed(what))?;
        }
        committed(tx, what).await?;
        chunk_key(&key, what)
    }

    /// The stored view, if there is one.
    pub async fn load_view(&self) -> Result<Option<Vec<u8>>, StorageError> {
        let what = "read the register";
        let tx = self.db.transaction(&[VIEW], TransactionMode::ReadOnly).map_err(failed(what))?;
        let store = tx.object_store(VIEW).map_err(failed(what))?;
        let value = store.get(JsValue::from_str(VIEW_KEY)).map_err(failed(what))?.await.map_err(failed(what))?;
        Ok(value.filter(|v| v.is_instance_of::<Uint8Array>()).map(|v| Uint8Array::new(&v).to_vec()))
    }

    /// Replaces the stored view. Relaxed durability is enough: the view is a copy for showing
    /// quickly, and the chunks are the register.
    pub async fn save_view(&self, bytes: &[u8]) -> Result<(), StorageError> {
        let what = "keep a copy of the register for opening";
        let tx = self.db.transaction(&[VIEW], TransactionMode::ReadWrite).map_err(failed(what))?;
        let store = tx.object_store(VIEW).map_err(failed(what))?;
        let key = JsValue::from_str(VIEW_KEY);
        store.put(&Uint8Array::from(bytes).into(), Some(&key)).map_err(failed(what))?.await.map_err(failed(what))?;
        committed(tx, what).await
    }

    /// One chunk by key, as another tab announces it.
    pub async fn get(&self, key: ChunkKey) -> Result<Option<Vec<u8>>, StorageError> {
        let what = "read the register";
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(failed(what))?;
        let store = tx.object_store(CHUNKS).map_err(failed(what))?;
        let value = store.get(JsValue::from_f64(key.0 as f64)).map_err(failed(what))?.await.map_err(failed(what))?;
        Ok(value.filter(|v| v.is_instance_of::<Uint8Array>()).map(|v| Uint8Array::new(&v).to_vec()))
    }
}

async fn committed(tx: Transaction, what: &str) -> Result<(), StorageError> {
    let result = tx.commit().map_err(failed(what))?.await.map_err(failed(what))?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(StorageError::Failed { what: what.into(), detail: "the browser aborted the write".into() })
    }
}

/// What the browser said, from an exception or any other value it threw.
fn js_text(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
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
