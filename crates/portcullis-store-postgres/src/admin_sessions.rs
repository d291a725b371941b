//! Dashboard sessions of administrators. The code is shared with the SQLite backend.

type Backend = crate::PgStore;

include!("../../portcullis-store-shared/admin_sessions.rs");
