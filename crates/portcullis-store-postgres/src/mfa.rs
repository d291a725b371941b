//! Multi-factor authentication: factors, policies, authenticators, recovery codes. The code is
//! shared with the SQLite backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/mfa.rs");
