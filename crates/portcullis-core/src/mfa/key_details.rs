//! What the Management API tells of a WebAuthn key (`GET /users/{id}/authentication-methods`),
//! read from the credential stored at registration.

use portcullis_store::Authenticator;
use serde::Serialize;

use super::webauthn::{credential_key, is_webauthn, stored_passkey};

/// What the Management API tells of a key, as Auth0 names it: its credential id
/// (`key_id`), whether it may be synced between devices (`credential_device_type`:
/// `multi_device` or `single_device`) and is backed up, and the transports the browser
/// reported. Read from the credential stored at registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyDetails {
    pub key_id: String,
    pub credential_device_type: &'static str,
    pub credential_backed_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
}

/// The details of a WebAuthn authenticator's key; `None` for any other factor.
pub fn key_details(authenticator: &Authenticator) -> Option<KeyDetails> {
    if !is_webauthn(authenticator.kind) {
        return None;
    }
    let passkey = stored_passkey(authenticator)?;
    // The library keeps the flags on its credential, which it exposes only serialised.
    let stored = serde_json::to_value(&passkey).ok()?;
    let flag = |name: &str| {
        stored
            .pointer(&format!("/cred/{name}"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let transports = stored
        .pointer("/cred/transports")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|transport| transport.as_str().map(str::to_lowercase))
                .collect()
        });
    Some(KeyDetails {
        key_id: credential_key(passkey.cred_id()),
        credential_device_type: if flag("backup_eligible") {
            "multi_device"
        } else {
            "single_device"
        },
        credential_backed_up: flag("backup_state"),
        transports,
    })
}
