//! The SQLite key-value backend (Spin's `type = "spin"`): Spin's own table
//! layout, so a store file written here reads the same under `spin up` and
//! back.

use super::KeyValueBackend;
use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::OnceCell;

/// One store file (or in-memory database), opened on first use as Spin
/// does, then one connection shared by every instance.
pub struct SqliteBackend {
    path: Option<PathBuf>,
    connection: OnceCell<Arc<Mutex<Connection>>>,
}

impl SqliteBackend {
    /// `None` keeps the store in memory for the life of the process.
    pub fn new(path: Option<PathBuf>) -> Self {
        Self {
            path,
            connection: OnceCell::new(),
        }
    }

    async fn connection(&self) -> Result<Arc<Mutex<Connection>>> {
        let connection = self
            .connection
            .get_or_try_init(|| {
                let path = self.path.clone();
                async move {
                    let connection = tokio::task::spawn_blocking(move || open(path.as_deref()))
                        .await
                        .context("opening the key-value database")??;
                    Ok::<_, anyhow::Error>(Arc::new(Mutex::new(connection)))
                }
            })
            .await?;
        Ok(connection.clone())
    }

    /// Runs `work` on the shared connection. On the server's multi-thread
    /// runtime it runs in place (`block_in_place`), as Spin's SQLite store
    /// does: a hop to the blocking pool and back cost a context switch
    /// each way on every call. Unit tests' single-thread runtimes hop.
    async fn with<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let connection = self.connection().await?;
        let run = move || {
            // A panic elsewhere cannot leave a rusqlite connection half-way
            // through a statement, so a poisoned lock is still usable.
            let connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&connection)
        };
        let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread;
        if multi_thread {
            tokio::task::block_in_place(run).map_err(anyhow::Error::from)
        } else {
            tokio::task::spawn_blocking(run)
                .await
                .context("key-value database task")?
                .map_err(anyhow::Error::from)
        }
    }
}

fn open(path: Option<&std::path::Path>) -> Result<Connection> {
    let connection = match path {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            Connection::open(path).with_context(|| format!("opening {}", path.display()))?
        }
        None => Connection::open_in_memory()?,
    };
    // Other processes (a second host, `spin up`, sqlite3) may hold the file.
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.execute(
        "CREATE TABLE IF NOT EXISTS spin_key_value (
            store TEXT NOT NULL,
            key   TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (store, key)
        )",
        [],
    )?;
    Ok(connection)
}

#[async_trait::async_trait]
impl KeyValueBackend for SqliteBackend {
    async fn get(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.with(move |c| {
            c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .query_row([&store, &key], |row| row.get::<_, Vec<u8>>(0))
                .optional()
        })
        .await
    }

    async fn set(&self, store: &str, key: &str, value: &[u8]) -> Result<()> {
        let (store, key, value) = (store.to_owned(), key.to_owned(), value.to_vec());
        self.with(move |c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store, key) DO UPDATE SET value = ?3",
            )?
            .execute(rusqlite::params![store, key, value])
            .map(drop)
        })
        .await
    }

    async fn delete(&self, store: &str, key: &str) -> Result<()> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.with(move |c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .execute([&store, &key])
                .map(drop)
        })
        .await
    }

    async fn exists(&self, store: &str, key: &str) -> Result<bool> {
        let (store, key) = (store.to_owned(), key.to_owned());
        self.with(move |c| {
            c.prepare_cached("SELECT 1 FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                .exists([&store, &key])
        })
        .await
    }

    async fn get_keys(&self, store: &str) -> Result<Vec<String>> {
        let store = store.to_owned();
        self.with(move |c| {
            c.prepare_cached("SELECT key FROM spin_key_value WHERE store = ?1")?
                .query_map([&store], |row| row.get::<_, String>(0))?
                .collect()
        })
        .await
    }

    /// Only the keys present, as Spin's SQLite store answers.
    async fn get_many(
        &self,
        store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        let store = store.to_owned();
        self.with(move |c| {
            let mut found = Vec::new();
            for key in keys {
                if let Some(value) = read(c, &store, &key)? {
                    found.push((key, Some(value)));
                }
            }
            Ok(found)
        })
        .await
    }

    async fn set_many(&self, store: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<()> {
        let store = store.to_owned();
        self.with(move |c| {
            let tx = Transaction::new_unchecked(c, TransactionBehavior::Immediate)?;
            for (key, value) in &pairs {
                write(&tx, &store, key, value)?;
            }
            tx.commit()
        })
        .await
    }

    /// One write transaction for the lot, as Spin's single `DELETE ... IN`.
    async fn delete_many(&self, store: &str, keys: Vec<String>) -> Result<()> {
        let store = store.to_owned();
        self.with(move |c| {
            let tx = Transaction::new_unchecked(c, TransactionBehavior::Immediate)?;
            for key in &keys {
                tx.prepare_cached("DELETE FROM spin_key_value WHERE store = ?1 AND key = ?2")?
                    .execute([&store, key])?;
            }
            tx.commit()
        })
        .await
    }

    async fn increment(&self, store: &str, key: &str, delta: i64) -> Result<i64> {
        let (store, owned_key) = (store.to_owned(), key.to_owned());
        let outcome = self
            .with(move |c| {
                // IMMEDIATE: another process sharing the file waits for us.
                let tx = Transaction::new_unchecked(c, TransactionBehavior::Immediate)?;
                let old = match read(&tx, &store, &owned_key)? {
                    None => 0,
                    Some(bytes) => match std::str::from_utf8(&bytes).ok().map(str::parse::<i64>) {
                        Some(Ok(number)) => number,
                        _ => return Ok(None),
                    },
                };
                let Some(new) = old.checked_add(delta) else {
                    return Ok(None);
                };
                write(&tx, &store, &owned_key, new.to_string().as_bytes())?;
                tx.commit()?;
                Ok(Some(new))
            })
            .await?;
        outcome.ok_or_else(|| {
            anyhow::anyhow!("key {key:?} does not hold a number that {delta} can be added to")
        })
    }

    async fn swap_if(
        &self,
        store: &str,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool> {
        let (store, key, value) = (store.to_owned(), key.to_owned(), value.to_vec());
        let expected = expected.map(<[u8]>::to_vec);
        self.with(move |c| {
            let tx = Transaction::new_unchecked(c, TransactionBehavior::Immediate)?;
            if read(&tx, &store, &key)? != expected {
                return Ok(false);
            }
            write(&tx, &store, &key, &value)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}

fn read(c: &Connection, store: &str, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    c.prepare_cached("SELECT value FROM spin_key_value WHERE store = ?1 AND key = ?2")?
        .query_row([store, key], |row| row.get::<_, Vec<u8>>(0))
        .optional()
}

fn write(c: &Connection, store: &str, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO spin_key_value (store, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (store, key) DO UPDATE SET value = ?3",
    )?
    .execute(rusqlite::params![store, key, value])
    .map(drop)
}
