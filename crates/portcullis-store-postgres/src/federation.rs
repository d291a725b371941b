//! Connections to other identity providers, sign-ins under way and users' identities there.
//! The code is shared with the other backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/federation.rs");
