//! The Redis key-value backend (Spin's `type = "redis"`): plain GET/SET/
//! DEL/EXISTS on the key itself, whatever the label, as Spin does.

use super::KeyValueBackend;
use anyhow::{anyhow, Context, Result};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::future::Future;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long one connection attempt, and one command, may take: a guest
/// gets `other(..)` after this instead of a request that never ends.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Connecting, retries included, gives up after this.
const CONNECT_BUDGET: Duration = Duration::from_secs(5);

/// Compare-and-swap as one script, so the comparison and the write are one
/// step for the server; GET answers false for an absent key. Built once:
/// `Script::new` hashes its source, and every locker heartbeat swaps.
static SWAP_IF: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "local now = redis.call('GET', KEYS[1]) \
         if ARGV[1] == '0' then if now then return 0 end \
         elseif now ~= ARGV[2] then return 0 end \
         redis.call('SET', KEYS[1], ARGV[3]) return 1",
    )
});

/// One Redis server, connected on first use (as Spin does) through a
/// `ConnectionManager` shared app-wide, which reconnects after failures.
pub struct RedisBackend {
    client: redis::Client,
    address: String,
    connection: OnceCell<ConnectionManager>,
}

impl RedisBackend {
    pub fn new(url: &str) -> Result<Self> {
        let client =
            redis::Client::open(url).with_context(|| format!("invalid Redis URL {url:?}"))?;
        let address = client.get_connection_info().addr.to_string();
        Ok(Self {
            client,
            address,
            connection: OnceCell::new(),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(TIMEOUT)
                    .set_response_timeout(TIMEOUT)
                    .set_number_of_retries(1)
                    .set_max_delay(500);
                // The outer timeout bounds the manager's own retries too.
                tokio::time::timeout(
                    CONNECT_BUDGET,
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                .map_err(|_| anyhow!("timed out connecting to Redis at {}", self.address))?
                .with_context(|| format!("connecting to Redis at {}", self.address))
            })
            .await?;
        Ok(connection.clone())
    }

    async fn run<T, F, Fut>(&self, command: F) -> Result<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        tokio::time::timeout(TIMEOUT, command(connection))
            .await
            .map_err(|_| anyhow!("Redis at {} did not answer in time", self.address))?
            .with_context(|| format!("Redis at {}", self.address))
    }
}

#[async_trait::async_trait]
impl KeyValueBackend for RedisBackend {
    async fn ready(&self) -> Result<()> {
        self.connection().await.map(drop)
    }

    async fn get(&self, _store: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.run(|mut c| async move { c.get::<_, Option<Vec<u8>>>(key).await })
            .await
    }

    async fn set(&self, _store: &str, key: &str, value: &[u8]) -> Result<()> {
        self.run(|mut c| async move { c.set::<_, _, ()>(key, value).await })
            .await
    }

    async fn delete(&self, _store: &str, key: &str) -> Result<()> {
        self.run(|mut c| async move { c.del::<_, ()>(key).await })
            .await
    }

    async fn exists(&self, _store: &str, key: &str) -> Result<bool> {
        self.run(|mut c| async move { c.exists::<_, bool>(key).await })
            .await
    }

    /// Every key on the server (Spin sends `KEYS *`); SCAN gives the same
    /// set without blocking the server on a large keyspace.
    async fn get_keys(&self, _store: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = self
                .run(|mut c| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await
                })
                .await?;
            keys.extend(batch);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key more than once.
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// Sent as Spin 4.0.2's Redis store sends it (read at its source):
    /// `KEYS key...`, a pattern match, not `MGET`. So a guest sees here
    /// what it would see there: Redis refuses more than one key, and one
    /// key comes back as a name, not a value. The app does not use it.
    async fn get_many(
        &self,
        _store: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        self.run(|mut c| async move { c.keys::<_, Vec<(String, Option<Vec<u8>>)>>(keys).await })
            .await
    }

    async fn set_many(&self, _store: &str, pairs: Vec<(String, Vec<u8>)>) -> Result<()> {
        self.run(|mut c| async move { c.mset::<_, _, ()>(&pairs).await })
            .await
    }

    async fn delete_many(&self, _store: &str, keys: Vec<String>) -> Result<()> {
        self.run(|mut c| async move { c.del::<_, ()>(keys).await })
            .await
    }

    async fn increment(&self, _store: &str, key: &str, delta: i64) -> Result<i64> {
        self.run(|mut c| async move { c.incr::<_, _, i64>(key, delta).await })
            .await
    }

    fn swap_reports_failure_after_writing(&self) -> bool {
        true
    }

    async fn swap_if(
        &self,
        _store: &str,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
    ) -> Result<bool> {
        let script = &*SWAP_IF;
        let (present, expected) = match expected {
            Some(bytes) => ("1", bytes),
            None => ("0", &[][..]),
        };
        self.run(|mut c| async move {
            script
                .key(key)
                .arg(present)
                .arg(expected)
                .arg(value)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|swapped| swapped == 1)
    }
}
