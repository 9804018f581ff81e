//! Host bindings for the world `wangjie:platform/spin-imports`.

wasmtime::component::bindgen!({
    world: "wangjie:platform/spin-imports",
    path: "../../wit",
    // Async so the backends can await I/O; trappable so a stale resource
    // handle traps the guest, as in Spin, instead of inventing a WIT error.
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": super::key_value::KvStore,
        "wasi:keyvalue/store.bucket": super::key_value::KvStore,
        "wasi:keyvalue/atomics.cas": super::wasi_keyvalue::Cas,
        "fermyon:spin/sqlite.connection": super::sqlite::SqliteConnection,
        "spin:postgres/postgres.connection": super::postgres::PgConnection,
    },
});
