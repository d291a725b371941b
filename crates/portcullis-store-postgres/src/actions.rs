//! Auth0 Actions, their versions and bindings. The code is shared with the other backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/actions.rs");
