//! Dashboard sessions of administrators. The code is shared with the PostgreSQL backend.

type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/admin_sessions.rs");
