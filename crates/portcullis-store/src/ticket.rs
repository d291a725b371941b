//! Tickets: the single-use, expiring links sent by email to verify an address or choose a new
//! password (Auth0's email-verification and password-change tickets), or to lift a
//! brute-force block (the blocked-account email's link).

use async_trait::async_trait;
use portcullis_types::TicketKind;

use crate::StoreResult;

/// A ticket. Stored by the SHA-256 of its value only: the value is in the email, never in
/// the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub ticket_hash: Vec<u8>,
    pub kind: TicketKind,
    pub user_id: String,
    /// The application the ticket was asked for, if any (the email names it).
    pub client_id: Option<String>,
    /// Where the page sends the user once the ticket is used (Auth0's `result_url`).
    pub result_url: Option<String>,
    /// Whether that redirect carries the user's address as `email`.
    pub include_email_in_redirect: bool,
    /// Whether using a password-change ticket also marks the address verified.
    pub mark_email_verified: bool,
    /// The client address (its throttling group) whose block an unblock ticket lifts; `None`
    /// for the other kinds.
    pub address: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// When it was used; a used ticket is never accepted again.
    pub used_at: Option<i64>,
}

/// Tickets, consumed at most once.
#[async_trait]
pub trait TicketRepository: Send + Sync {
    async fn insert_ticket(&self, ticket: &Ticket) -> StoreResult<()>;
    /// The ticket of this hash and kind if it is unused and unexpired at `now`, without
    /// using it (a page that only shows a form).
    async fn live_ticket(
        &self,
        ticket_hash: &[u8],
        kind: TicketKind,
        now: i64,
    ) -> StoreResult<Option<Ticket>>;
    /// Marks the ticket used and returns it, if it is unused and unexpired at `now`: one
    /// conditional UPDATE, so that of concurrent uses exactly one wins.
    async fn consume_ticket(
        &self,
        ticket_hash: &[u8],
        kind: TicketKind,
        now: i64,
    ) -> StoreResult<Option<Ticket>>;
}
