//! Signing keys and their rotation. The code is shared with the SQLite backend; this
//! backend's part is the `crate::lock_keys` hook.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/keys.rs");
