//! Users' consents to applications. The code is shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/consents.rs");
