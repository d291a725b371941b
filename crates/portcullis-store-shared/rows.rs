// Shared by both backends (included by each one's `src/rows.rs`).
//
// JSON columns: arrays and small objects stored as TEXT.
//
// No SQL here, so no alias and no lock hook.

use portcullis_store::StoreError;
use serde::{de::DeserializeOwned, Serialize};

use crate::backend;

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(backend)
}

/// A protocol value stored as its spelling: one the code no longer knows is a backend error
/// naming it, never a silent default.
pub(crate) fn parse_stored<T>(text: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = portcullis_types::UnknownValue>,
{
    text.parse()
        .map_err(|e: portcullis_types::UnknownValue| StoreError::Backend(format!("stored value: {e} (found {:?})", e.value)))
}
