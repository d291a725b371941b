//! The background sender: claims due messages from the outbox under a lease and sends them
//! through the SMTP server, one at a time. A message that fails for now is due again after an
//! exponential backoff; one the server refuses for good, or that has run out of attempts, is
//! marked failed. Every replica with an SMTP server runs one: the store's lease decides which
//! sends each message, and a replica that dies mid-delivery leaves its messages to another
//! once their lease ends (a message is then sent at least once, never twice by two live
//! replicas). The command line delivers the same way, once, after a change that wrote
//! messages (`users import --send-completion-email`).

use std::time::Duration;

use portcullis_core::{secrets::random_token, Clock};
use portcullis_store::{Email, EmailLease, EmailOutcome, Store};

use crate::mail::{settings::EmailSettings, transport::Smtp};
use crate::state::AppState;

/// Messages claimed at once: few, so that a lease never outlives its deliveries.
const BATCH: u32 = 10;

/// What delivering works with: the store's outbox, the time, the retry settings and the
/// SMTP client.
#[derive(Clone, Copy)]
pub struct Sender<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub settings: &'a EmailSettings,
    pub smtp: &'a Smtp,
}

impl<'a> Sender<'a> {
    /// The server's sender.
    pub fn of(app: &'a AppState, smtp: &'a Smtp) -> Self {
        Sender {
            store: app.store.as_ref(),
            clock: app.clock.as_ref(),
            settings: &app.settings.email,
            smtp,
        }
    }
}

/// What became of the messages one [`deliver_due`] claimed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Due again after a backoff.
    pub retrying: usize,
    pub failed: usize,
}

/// Sends every due message, batch after batch, until none is left.
pub async fn deliver_due(sender: Sender<'_>) -> Delivered {
    let mut delivered = Delivered::default();
    loop {
        let now = sender.clock.now();
        let lease = EmailLease {
            token: random_token(16),
            until: now + sender.settings.lease_seconds,
        };
        let claimed = match sender.store.claim_emails(&lease, now, BATCH).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "could not claim due emails; trying again later");
                return delivered;
            }
        };
        let full = claimed.len() == BATCH as usize;
        for email in claimed {
            match deliver(sender, &lease, &email).await {
                EmailOutcome::Sent { .. } => delivered.sent += 1,
                EmailOutcome::Retry { .. } => delivered.retrying += 1,
                EmailOutcome::Failed { .. } => delivered.failed += 1,
            }
        }
        if !full {
            return delivered;
        }
    }
}

/// Sends one claimed message and records what became of it.
async fn deliver(sender: Sender<'_>, lease: &EmailLease, email: &Email) -> EmailOutcome {
    let Sender {
        store,
        clock,
        settings,
        smtp,
    } = sender;
    let max_attempts = i64::from(settings.max_attempts.max(1));
    let outcome = if email.attempts > max_attempts {
        // Claimed again after its sender died on the last attempt.
        EmailOutcome::Failed {
            at: clock.now(),
            error: format!("gave up after {max_attempts} attempts"),
        }
    } else {
        match smtp.send(email).await {
            Ok(()) => EmailOutcome::Sent { at: clock.now() },
            Err(error) if error.permanent || email.attempts >= max_attempts => {
                EmailOutcome::Failed {
                    at: clock.now(),
                    error: error.message,
                }
            }
            Err(error) => {
                let now = clock.now();
                EmailOutcome::Retry {
                    at: now,
                    next_attempt_at: now + settings.backoff(email.attempts),
                    error: error.message,
                }
            }
        }
    };
    match &outcome {
        EmailOutcome::Sent { .. } => {
            tracing::info!(id = %email.id, kind = %email.kind, attempt = email.attempts, "email sent");
        }
        EmailOutcome::Retry {
            next_attempt_at,
            error,
            ..
        } => tracing::warn!(
            id = %email.id,
            attempt = email.attempts,
            next_attempt_at,
            %error,
            "email not sent; it is tried again later"
        ),
        EmailOutcome::Failed { error, .. } => tracing::error!(
            id = %email.id,
            attempt = email.attempts,
            %error,
            "email not sent; giving up"
        ),
    }
    match store.finish_email(&email.id, &lease.token, &outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            id = %email.id,
            "the email's lease ended before it was delivered; another sender took it over"
        ),
        Err(error) => tracing::warn!(
            id = %email.id,
            %error,
            "could not record the email's delivery; it is claimed again when its lease ends"
        ),
    }
    outcome
}

/// Starts the sender on the current runtime: it delivers what is due at every poll, and at
/// once when this replica writes a message. Abort the handle to stop it.
pub fn spawn(app: AppState, smtp: Smtp) -> tokio::task::JoinHandle<()> {
    let every = app
        .settings
        .email
        .poll_interval
        .max(Duration::from_millis(10));
    tokio::spawn(async move {
        loop {
            deliver_due(Sender::of(&app, &smtp)).await;
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = app.admin.cx.outbox.written() => {}
            }
        }
    })
}
