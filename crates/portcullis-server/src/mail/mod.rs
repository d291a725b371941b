//! Email delivery: the SMTP settings ([`settings`]) and the SMTP client over lettre
//! ([`transport`]). The background sender that claims due messages from the store's outbox
//! and sends them, retrying with backoff, is `crate::mail_sender`: it reads the application
//! state, which holds these settings, so it lives outside this module.
//!
//! Messages are written by `portcullis_core::email::send`; without an SMTP server they stay in
//! the outbox, where the dashboard's Emails page shows them. Nothing here logs a message's
//! parts or its recipient: a message holds a link (a ticket).

pub mod settings;
pub mod transport;
