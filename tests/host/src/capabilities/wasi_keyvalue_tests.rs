//! `wasi:keyvalue` store, atomics and batch against real backends: a SQLite file
//! in a temp dir, and the Redis at 127.0.0.1:6379 (keys under a unique
//! prefix, removed after).

use super::super::bindings::wasi::keyvalue::atomics::{CasError, Host as _, HostCas};
use super::super::bindings::wasi::keyvalue::batch::Host as _;
use super::super::bindings::wasi::keyvalue::store::{Error, Host as _, HostBucket};
use super::super::test_support::{capabilities, grants, redis_config, unique};
use super::super::{Capabilities, RuntimeConfig};
use super::KvStore;
use wasmtime::component::Resource;

fn borrow(bucket: &Resource<KvStore>) -> Resource<KvStore> {
    Resource::new_borrow(bucket.rep())
}

/// Capabilities over `config` with the label `default` granted, and that
/// bucket opened; the temp dir holds the SQLite file and must outlive them.
async fn default_bucket(
    config: &RuntimeConfig,
    dir: &tempfile::TempDir,
) -> (Capabilities, Resource<KvStore>) {
    let mut caps = capabilities(config, dir.path(), grants(&["default"], &[], &[])).await;
    let bucket = caps
        .open("default".into())
        .await
        .expect("no trap")
        .expect("open");
    (caps, bucket)
}

/// increment, then the three ways of a compare-and-swap: written, refused
/// with a fresh handle after another write, and on an absent key.
async fn exercise(caps: &mut Capabilities, bucket: &Resource<KvStore>, prefix: &str) {
    let (n, s) = (format!("{prefix}:n"), format!("{prefix}:s"));
    for (delta, want) in [(1, 1), (41, 42), (-2, 40)] {
        let got = caps
            .increment(borrow(bucket), n.clone(), delta)
            .await
            .expect("no trap");
        assert_eq!(got.expect("increment"), want);
    }
    let got = caps.get(borrow(bucket), n.clone()).await.expect("no trap");
    assert_eq!(got.expect("get").as_deref(), Some(&b"40"[..]));

    // Absent key: a swap from "nothing" writes.
    let cas = caps
        .new(borrow(bucket), s.clone())
        .await
        .expect("no trap")
        .expect("cas");
    assert_eq!(
        caps.current(Resource::new_borrow(cas.rep()))
            .await
            .expect("no trap")
            .expect("current"),
        None
    );
    caps.swap(cas, b"one".to_vec())
        .await
        .expect("no trap")
        .expect("first swap");

    // Someone writes between our read and our swap: refused, nothing lost.
    let cas = caps
        .new(borrow(bucket), s.clone())
        .await
        .expect("no trap")
        .expect("cas");
    caps.set(borrow(bucket), s.clone(), b"theirs".to_vec())
        .await
        .expect("no trap")
        .expect("set");
    let fresh = match caps.swap(cas, b"ours".to_vec()).await.expect("no trap") {
        Err(CasError::CasFailed(fresh)) => fresh,
        other => panic!("expected cas-failed, got {:?}", other.map_err(|_| "error")),
    };
    let seen = caps
        .current(Resource::new_borrow(fresh.rep()))
        .await
        .expect("no trap");
    assert_eq!(seen.expect("current").as_deref(), Some(&b"theirs"[..]));
    caps.swap(fresh, b"ours".to_vec())
        .await
        .expect("no trap")
        .expect("retried swap");
    let got = caps.get(borrow(bucket), s.clone()).await.expect("no trap");
    assert_eq!(got.expect("get").as_deref(), Some(&b"ours"[..]));

    // A swap from "nothing" on a key someone created is refused.
    caps.delete(borrow(bucket), s.clone())
        .await
        .expect("no trap")
        .expect("delete");
    let cas = caps
        .new(borrow(bucket), s.clone())
        .await
        .expect("no trap")
        .expect("cas");
    caps.set(borrow(bucket), s.clone(), b"first".to_vec())
        .await
        .expect("no trap")
        .expect("set");
    assert!(matches!(
        caps.swap(cas, b"second".to_vec()).await.expect("no trap"),
        Err(CasError::CasFailed(_))
    ));

    let text = caps
        .increment(borrow(bucket), s.clone(), 1)
        .await
        .expect("no trap");
    assert!(text.is_err(), "incrementing text must fail");
    for key in [n, s] {
        caps.delete(borrow(bucket), key)
            .await
            .expect("no trap")
            .expect("delete");
    }
}

#[tokio::test]
async fn atomics_on_the_default_sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut caps, bucket) = default_bucket(&RuntimeConfig::default(), &dir).await;
    exercise(&mut caps, &bucket, "k").await;
    HostBucket::drop(&mut caps, bucket).await.expect("drop");
}

#[tokio::test]
async fn atomics_on_redis_as_spin_4_0_2_serves_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = redis_config("redis://127.0.0.1:6379");
    let (mut caps, bucket) = default_bucket(&config, &dir).await;
    let prefix = unique("wasi_kv_test");
    let (n, s) = (format!("{prefix}:n"), format!("{prefix}:s"));
    for (delta, want) in [(1, 1), (41, 42), (-2, 40)] {
        let got = caps.increment(borrow(&bucket), n.clone(), delta).await;
        assert_eq!(got.expect("no trap").expect("increment"), want);
    }
    // A swap nobody raced: written, and reported failed all the same.
    let cas = caps
        .new(borrow(&bucket), s.clone())
        .await
        .expect("no trap")
        .expect("cas");
    let swapped = caps.swap(cas, b"one".to_vec()).await.expect("no trap");
    assert!(
        matches!(swapped, Err(CasError::CasFailed(_))),
        "{swapped:?}"
    );
    let got = caps.get(borrow(&bucket), s.clone()).await.expect("no trap");
    assert_eq!(got.expect("get").as_deref(), Some(&b"one"[..]));
    for key in [n, s] {
        caps.delete(borrow(&bucket), key)
            .await
            .expect("no trap")
            .expect("delete");
    }
}

#[tokio::test]
async fn an_ungranted_bucket_is_access_denied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut caps = capabilities(&RuntimeConfig::default(), dir.path(), grants(&[], &[], &[])).await;
    let opened = caps.open("default".into()).await.expect("no trap");
    assert!(matches!(opened, Err(Error::AccessDenied)));
}

/// set-many, then delete-many of two of them and a key never written:
/// the third stays. Empty lists are answered without a backend call.
async fn batch_writes(caps: &mut Capabilities, bucket: &Resource<KvStore>, prefix: &str) {
    let key = |i: u8| format!("{prefix}:b{i}");
    let pairs: Vec<_> = (1..=3).map(|i| (key(i), vec![i])).collect();
    caps.set_many(borrow(bucket), pairs)
        .await
        .expect("no trap")
        .expect("set-many");
    caps.delete_many(borrow(bucket), vec![key(1), key(2), key(9)])
        .await
        .expect("no trap")
        .expect("delete-many");
    for (i, want) in [(1, None), (2, None), (3, Some(vec![3u8]))] {
        let got = caps.get(borrow(bucket), key(i)).await.expect("no trap");
        assert_eq!(got.expect("get"), want, "{}", key(i));
    }
    let nothing = caps.delete_many(borrow(bucket), Vec::new()).await;
    assert!(nothing.expect("no trap").is_ok());
    caps.delete(borrow(bucket), key(3))
        .await
        .expect("no trap")
        .expect("delete");
}

#[tokio::test]
async fn batches_on_the_default_sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut caps, bucket) = default_bucket(&RuntimeConfig::default(), &dir).await;
    caps.set_many(borrow(&bucket), vec![("g1".into(), b"one".to_vec())])
        .await
        .expect("no trap")
        .expect("set-many");
    // Spin's SQLite store answers the keys present only.
    let got = caps
        .get_many(borrow(&bucket), vec!["g1".into(), "g2".into()])
        .await
        .expect("no trap")
        .expect("get-many");
    assert_eq!(got, [("g1".to_string(), Some(b"one".to_vec()))]);
    batch_writes(&mut caps, &bucket, "k").await;
}

#[tokio::test]
async fn batches_on_redis_as_spin_4_0_2_serves_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = redis_config("redis://127.0.0.1:6379");
    let (mut caps, bucket) = default_bucket(&config, &dir).await;
    let prefix = unique("wasi_kv_batch");
    batch_writes(&mut caps, &bucket, &prefix).await;
    // Spin 4.0.2 sends get-many as `KEYS k1 k2`, which Redis refuses.
    let keys = vec![format!("{prefix}:g1"), format!("{prefix}:g2")];
    let got = caps.get_many(borrow(&bucket), keys).await.expect("no trap");
    assert!(got.is_err(), "{got:?}");
}
