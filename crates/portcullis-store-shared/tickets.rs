// Shared by both backends: `crates/portcullis-store-sqlite/src/tickets.rs` and
// `crates/portcullis-store-postgres/src/tickets.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read.
//
// Tickets, stored by hash. Using one is a single conditional UPDATE, so that two concurrent
// uses (two replicas, a double click) cannot both win; no lock hook is needed.

use async_trait::async_trait;
use portcullis_store::{StoreError, Ticket, TicketRepository};
use portcullis_types::TicketKind;
use sqlx::Row as _;

use crate::{backend, rows::parse_stored};

fn ticket_from_row(row: &Row) -> Result<Ticket, StoreError> {
    Ok(Ticket {
        ticket_hash: row.try_get("ticket_hash").map_err(backend)?,
        kind: parse_stored(row.try_get("kind").map_err(backend)?)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        result_url: row.try_get("result_url").map_err(backend)?,
        include_email_in_redirect: row.try_get("include_email_in_redirect").map_err(backend)?,
        mark_email_verified: row.try_get("mark_email_verified").map_err(backend)?,
        address: row.try_get("address").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        used_at: row.try_get("used_at").map_err(backend)?,
    })
}

#[async_trait]
impl TicketRepository for Backend {
    async fn insert_ticket(&self, ticket: &Ticket) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tickets (ticket_hash, kind, user_id, client_id, result_url,
               include_email_in_redirect, mark_email_verified, address, created_at, expires_at,
               used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&ticket.ticket_hash)
        .bind(ticket.kind.as_str())
        .bind(&ticket.user_id)
        .bind(&ticket.client_id)
        .bind(&ticket.result_url)
        .bind(ticket.include_email_in_redirect)
        .bind(ticket.mark_email_verified)
        .bind(&ticket.address)
        .bind(ticket.created_at)
        .bind(ticket.expires_at)
        .bind(ticket.used_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn live_ticket(
        &self,
        ticket_hash: &[u8],
        kind: TicketKind,
        now: i64,
    ) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM tickets
             WHERE ticket_hash = $1 AND kind = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(ticket_hash)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn consume_ticket(
        &self,
        ticket_hash: &[u8],
        kind: TicketKind,
        now: i64,
    ) -> Result<Option<Ticket>, StoreError> {
        let row = sqlx::query(
            "UPDATE tickets SET used_at = $1
             WHERE ticket_hash = $2 AND kind = $3 AND used_at IS NULL AND expires_at > $4
             RETURNING *",
        )
        .bind(now)
        .bind(ticket_hash)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(ticket_from_row).transpose()
    }
}
