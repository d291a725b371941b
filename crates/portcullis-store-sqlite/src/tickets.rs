//! Tickets, the single-use links sent by email. The code is shared with the PostgreSQL backend.

type Row = sqlx::sqlite::SqliteRow;
type Backend = crate::SqliteStore;

include!("../../portcullis-store-shared/tickets.rs");
