//! The MFA API's pending logins. The code is shared with the SQLite backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/mfa_tokens.rs");
