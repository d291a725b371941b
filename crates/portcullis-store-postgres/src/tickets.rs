//! Tickets, the single-use links sent by email. The code is shared with the SQLite backend.

type Row = sqlx::postgres::PgRow;
type Backend = crate::PgStore;

include!("../../portcullis-store-shared/tickets.rs");
