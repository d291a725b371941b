//! Connections to other identity providers, sign-ins under way and users' identities there.
//! The code is shared with the other backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/federation.rs");
