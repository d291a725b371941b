// Shared by both backends (included by each one's `src/rows.rs`).
//
// JSON columns: arrays and small objects stored as TEXT.

use portcullis_store::StoreError;
use serde::{de::DeserializeOwned, Serialize};

use crate::backend;

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(backend)
}
