//! An Action's secrets, sealed under the master key like every other secret the store keeps:
//! the Action's id (or the version's) as associated data, so sealed secrets copied onto
//! another row do not open.

use std::collections::BTreeMap;

use portcullis_store::{Action, ActionVersion};
use serde::{Deserialize, Serialize};

use crate::keys::{KeyCipher, KeyError};

/// One secret as sealed: its value and when it was last set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSecret {
    pub name: String,
    pub value: String,
    pub updated_at: i64,
}

fn data(kind: &str, id: &str) -> String {
    format!("action-secrets:{kind}:{id}")
}

/// Seals `secrets` for the Action (`kind` "action") or version (`kind` "version") `id`.
pub(crate) fn seal(
    cipher: &KeyCipher,
    kind: &str,
    id: &str,
    secrets: &[SealedSecret],
) -> Result<Option<Vec<u8>>, KeyError> {
    if secrets.is_empty() {
        return Ok(None);
    }
    let plain = serde_json::to_vec(secrets).map_err(|_| KeyError::Seal)?;
    cipher.seal(&data(kind, id), &plain).map(Some)
}

fn open(
    cipher: &KeyCipher,
    kind: &str,
    id: &str,
    sealed: Option<&[u8]>,
) -> Result<Vec<SealedSecret>, KeyError> {
    let Some(sealed) = sealed else {
        return Ok(Vec::new());
    };
    let plain = cipher
        .open(&data(kind, id), sealed)
        .map_err(|_| KeyError::Decrypt(format!("secrets of Action {id}")))?;
    serde_json::from_slice(&plain).map_err(|_| KeyError::Decrypt(format!("secrets of Action {id}")))
}

/// The secrets of the Action being edited.
pub fn open_action(cipher: &KeyCipher, action: &Action) -> Result<Vec<SealedSecret>, KeyError> {
    open(
        cipher,
        "action",
        &action.id,
        action.sealed_secrets.as_deref(),
    )
}

/// The secrets a deployed version runs with, by name.
pub fn open_version(
    cipher: &KeyCipher,
    version: &ActionVersion,
) -> Result<BTreeMap<String, String>, KeyError> {
    Ok(open(
        cipher,
        "version",
        &version.id,
        version.sealed_secrets.as_deref(),
    )?
    .into_iter()
    .map(|secret| (secret.name, secret.value))
    .collect())
}
