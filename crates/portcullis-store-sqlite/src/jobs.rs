//! Bulk user import and export jobs. The code is shared with the other backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/jobs.rs");
