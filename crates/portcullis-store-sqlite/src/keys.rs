//! Signing keys and their rotation. The code is shared with the PostgreSQL backend; this
//! backend's part is the `crate::lock_keys` hook.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/keys.rs");
