//! The tenant's flags. The code is shared with the SQLite backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/tenant.rs");
