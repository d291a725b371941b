//! The MFA API's pending logins. The code is shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/mfa_tokens.rs");
