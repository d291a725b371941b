//! The database connection's settings. The code is shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/connection.rs");
