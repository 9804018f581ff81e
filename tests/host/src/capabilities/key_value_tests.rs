//! Key-value against real backends: SQLite files in temp dirs, and the
//! Redis at 127.0.0.1:6379 (keys under a unique prefix, removed after).

use super::super::bindings::fermyon::spin::key_value::{Error, HostStore};
use super::super::test_support::{capabilities, grants, redis_config, unique};
use super::super::{Capabilities, KeyValueStoreConfig, RuntimeConfig};
use std::time::{Duration, Instant};
use wasmtime::component::Resource;

const REDIS_URL: &str = "redis://127.0.0.1:6379";

async fn open(caps: &mut Capabilities, label: &str) -> Result<Resource<super::KvStore>, Error> {
    caps.open(label.to_string()).await.expect("no trap")
}

async fn open_ok(caps: &mut Capabilities, label: &str) -> Resource<super::KvStore> {
    match open(caps, label).await {
        Ok(store) => store,
        Err(err) => panic!("open({label}) failed: {err:?}"),
    }
}

fn borrow(store: &Resource<super::KvStore>) -> Resource<super::KvStore> {
    Resource::new_borrow(store.rep())
}

/// get/set/delete/exists/get-keys on one open store; `prefix` keeps keys
/// apart from anything else on a shared backend.
async fn exercise(caps: &mut Capabilities, store: &Resource<super::KvStore>, prefix: &str) {
    let (a, b) = (format!("{prefix}:a"), format!("{prefix}:b"));
    let s = || borrow(store);
    assert!(matches!(
        caps.get(s(), a.clone()).await.expect("no trap"),
        Ok(None)
    ));
    assert!(matches!(
        caps.exists(s(), a.clone()).await.expect("no trap"),
        Ok(false)
    ));
    caps.set(s(), a.clone(), b"one".to_vec())
        .await
        .expect("no trap")
        .expect("set a");
    caps.set(s(), b.clone(), vec![0, 255, 1])
        .await
        .expect("no trap")
        .expect("set b");
    caps.set(s(), a.clone(), b"two".to_vec())
        .await
        .expect("no trap")
        .expect("overwrite a");
    let got = caps
        .get(s(), a.clone())
        .await
        .expect("no trap")
        .expect("get a");
    assert_eq!(got.as_deref(), Some(&b"two"[..]));
    let got = caps
        .get(s(), b.clone())
        .await
        .expect("no trap")
        .expect("get b");
    assert_eq!(got.as_deref(), Some(&[0u8, 255, 1][..]));
    assert!(matches!(
        caps.exists(s(), b.clone()).await.expect("no trap"),
        Ok(true)
    ));
    let keys = caps
        .get_keys(s())
        .await
        .expect("no trap")
        .expect("get-keys");
    assert!(keys.contains(&a) && keys.contains(&b), "{keys:?}");
    caps.delete(s(), a.clone())
        .await
        .expect("no trap")
        .expect("delete a");
    caps.delete(s(), a.clone())
        .await
        .expect("no trap")
        .expect("deleting a missing key is fine");
    assert!(matches!(
        caps.get(s(), a.clone()).await.expect("no trap"),
        Ok(None)
    ));
    caps.delete(s(), b.clone())
        .await
        .expect("no trap")
        .expect("delete b");
    let keys = caps
        .get_keys(s())
        .await
        .expect("no trap")
        .expect("get-keys");
    assert!(!keys.contains(&a) && !keys.contains(&b), "{keys:?}");
}

#[tokio::test]
async fn default_store_is_sqlite_in_the_state_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&["default"], &[], &[]),
    )
    .await;
    let store = open_ok(&mut caps, "default").await;
    exercise(&mut caps, &store, "k").await;
    caps.set(borrow(&store), "kept".into(), b"v".to_vec())
        .await
        .expect("no trap")
        .expect("set");
    HostStore::drop(&mut caps, store).await.expect("drop");
    assert!(dir.path().join("sqlite_key_value.db").is_file());

    // Spin's layout, so `spin up` reads what this host wrote.
    let db = rusqlite::Connection::open(dir.path().join("sqlite_key_value.db")).expect("open file");
    let value: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'kept'",
            [],
            |row| row.get(0),
        )
        .expect("row in Spin's table");
    assert_eq!(value, b"v");
}

#[tokio::test]
async fn labels_in_one_file_stay_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shared.db");
    let mut config = RuntimeConfig::default();
    for label in ["one", "two"] {
        config.key_value_stores.insert(
            label.into(),
            KeyValueStoreConfig::Spin {
                path: Some(path.clone()),
            },
        );
    }
    let mut caps = capabilities(&config, dir.path(), grants(&["one", "two"], &[], &[])).await;
    let one = open_ok(&mut caps, "one").await;
    let two = open_ok(&mut caps, "two").await;
    caps.set(borrow(&one), "k".into(), b"1".to_vec())
        .await
        .expect("no trap")
        .expect("set");
    let in_two = caps
        .get(borrow(&two), "k".into())
        .await
        .expect("no trap")
        .expect("get");
    assert_eq!(in_two, None);
    let keys = caps
        .get_keys(borrow(&two))
        .await
        .expect("no trap")
        .expect("keys");
    assert!(keys.is_empty());
}

#[tokio::test]
async fn in_memory_store_without_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = RuntimeConfig::default();
    config
        .key_value_stores
        .insert("default".into(), KeyValueStoreConfig::Spin { path: None });
    let mut caps = capabilities(&config, dir.path(), grants(&["default"], &[], &[])).await;
    let store = open_ok(&mut caps, "default").await;
    exercise(&mut caps, &store, "mem").await;
    assert!(!dir.path().join("sqlite_key_value.db").exists());
}

#[tokio::test]
async fn ungranted_and_undefined_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    // "ghost" is granted but not defined (the host core's check_labels
    // refuses that at start; here it reaches open anyway).
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&["ghost"], &[], &[]),
    )
    .await;
    assert!(matches!(
        open(&mut caps, "default").await,
        Err(Error::AccessDenied)
    ));
    assert!(matches!(
        open(&mut caps, "nope").await,
        Err(Error::AccessDenied)
    ));
    assert!(matches!(
        open(&mut caps, "ghost").await,
        Err(Error::NoSuchStore)
    ));
}

#[tokio::test]
async fn check_labels_refuses_undefined_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = super::super::test_support::app(&RuntimeConfig::default(), dir.path()).await;
    assert!(app
        .check_labels("c", &grants(&["default"], &["default"], &[]))
        .is_ok());
    let err = app
        .check_labels("c", &grants(&["cache"], &[], &[]))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("\"cache\"") && err.contains("\"c\""), "{err}");
    assert!(app
        .check_labels("c", &grants(&[], &["other"], &[]))
        .is_err());
}

#[tokio::test]
async fn redis_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &redis_config(REDIS_URL),
        dir.path(),
        grants(&["default"], &[], &[]),
    )
    .await;
    let store = open_ok(&mut caps, "default").await;
    exercise(&mut caps, &store, &unique("cap_test")).await;
    assert!(!dir.path().join("sqlite_key_value.db").exists());
}

#[tokio::test]
async fn redis_unreachable_or_silent_is_a_prompt_error() {
    // A server that takes the connection and never answers: only loopback
    // addresses are targets on these machines.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_url = format!("redis://{}", silent.local_addr().expect("port"));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    for url in ["redis://127.0.0.1:1", silent_url.as_str()] {
        let mut caps = capabilities(
            &redis_config(url),
            dir.path(),
            grants(&["default"], &[], &[]),
        )
        .await;
        let started = Instant::now();
        let outcome = open(&mut caps, "default").await;
        let took = started.elapsed();
        match outcome {
            Err(Error::Other(message)) => assert!(message.contains("Redis"), "{message}"),
            Err(other) => panic!("{url}: expected other(..), got {other:?}"),
            Ok(_) => panic!("{url}: open succeeded"),
        }
        assert!(took < Duration::from_secs(7), "{url}: took {took:?}");
    }
}

#[tokio::test]
async fn open_stores_are_limited_like_spin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(
        &RuntimeConfig::default(),
        dir.path(),
        grants(&["default"], &[], &[]),
    )
    .await;
    let mut stores = Vec::new();
    for _ in 0..256 {
        stores.push(open_ok(&mut caps, "default").await);
    }
    assert!(matches!(
        open(&mut caps, "default").await,
        Err(Error::StoreTableFull)
    ));
    if let Some(store) = stores.pop() {
        HostStore::drop(&mut caps, store).await.expect("drop");
    }
    open_ok(&mut caps, "default").await;
}
