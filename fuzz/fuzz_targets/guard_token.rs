//! The guard's token parsing and verification: header policy, key lookup, signature, claims.
//!
//! An input with a newline is `header JSON\nclaims JSON`, signed with the fixture's key under
//! RS256 whatever the header says, so the claims checks are reached; any other input is the
//! token itself. A token that passes must carry our issuer, our audience and a future `exp`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::guard::{now, AUDIENCE, GUARD, ISSUER};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let token = match data.iter().position(|byte| *byte == b'\n') {
        Some(split) => GUARD.sign(&data[..split], &data[split + 1..]),
        None => match std::str::from_utf8(data) {
            Ok(token) => token.to_owned(),
            Err(_) => return,
        },
    };
    let Ok(verified) = GUARD.verify(&token) else {
        return;
    };
    let claims = verified.claims();
    assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISSUER));
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    assert!(
        audience_ok,
        "accepted a token for another audience: {claims:?}"
    );
    // Within the guard's default 30-second tolerance.
    assert!(
        verified.expires_at() + 30 >= now(),
        "accepted an expired token"
    );
});
