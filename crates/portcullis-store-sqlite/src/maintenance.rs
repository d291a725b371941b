//! Ending a user's sessions and sweeping what has expired. The code is shared with the other
//! backend; it uses no lock hook of its own.

type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/maintenance.rs");
