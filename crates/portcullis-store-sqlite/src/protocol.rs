//! Sessions, authorization codes, refresh tokens, throttling counters and opaque tokens. The
//! code is shared with the PostgreSQL backend; this backend's part is the `crate::lock_family`
//! and `crate::lock_user_client_families` hooks.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/protocol.rs");
