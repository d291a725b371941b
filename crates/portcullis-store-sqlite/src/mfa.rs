//! Multi-factor authentication: factors, policies, authenticators, recovery codes. The code is
//! shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/mfa.rs");
