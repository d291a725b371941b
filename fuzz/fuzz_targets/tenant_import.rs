//! The export document on import, as `portcullis import` reads it: parsed with serde_json
//! into `TenantDocument`, then written into an empty SQLite store by `tenant::import` (only
//! for documents that parse, since a fresh store per input is the slow part). An import may
//! refuse the document; it must not panic.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use portcullis_core::{keys::KeyCipher, tenant};
use portcullis_store_sqlite::SqliteStore;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(portcullis_fuzz::runtime);

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<tenant::TenantDocument>(data) else {
        return;
    };
    if document.format != tenant::FORMAT || document.version != tenant::FORMAT_VERSION {
        return;
    }
    let cipher = KeyCipher::new(&[42u8; 32]).expect("cipher");
    RUNTIME.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("import.db"))
            .await
            .expect("store");
        let _ = tenant::import(&store, &cipher, &document, 1_700_000_000).await;
        store.close().await;
    });
});
