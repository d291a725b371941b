//! Email delivery: the SMTP settings ([`settings`]), the SMTP client over lettre
//! ([`transport`]), and the background sender ([`sender`]) that claims due messages from the
//! store's outbox and sends them, retrying with backoff.
//!
//! Messages are written by `portcullis_core::email::send`; without an SMTP server they stay in
//! the outbox, where the dashboard's Emails page shows them. Nothing here logs a message's
//! parts or its recipient: a message holds a link (a ticket).

pub mod sender;
pub mod settings;
pub mod transport;
