//! Auth0 Actions, their versions and bindings. The code is shared with the other backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/actions.rs");
