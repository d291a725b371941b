//! Dashboard administrators and the audit log. The code is shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Database = sqlx::Sqlite;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/audit.rs");
