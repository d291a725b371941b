//! Bulk user import and export jobs. The code is shared with the other backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/jobs.rs");
