//! Dashboard administrators and the audit log. The code is shared with the SQLite backend.

type Row = sqlx::postgres::PgRow;
type Database = sqlx::Postgres;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/audit.rs");
