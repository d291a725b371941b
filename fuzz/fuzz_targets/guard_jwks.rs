//! JWKS documents: the guard fetches the input as its key set over HTTP, then verifies a
//! token signed by the fixture's key. Only a document holding that key's modulus may let the
//! token pass.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::guard::GUARD;

static TOKEN: LazyLock<String> = LazyLock::new(|| GUARD.valid_token());

fuzz_target!(|data: &[u8]| {
    let (_loaded, verified) = GUARD.with_document(data, &TOKEN);
    if verified.is_ok() {
        let text = String::from_utf8_lossy(data);
        assert!(
            text.contains(GUARD.modulus.as_str()),
            "a key set without our key verified our token"
        );
    }
});
