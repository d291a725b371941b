//! The background sender: claims due messages from the outbox under a lease and sends them
//! through the SMTP server, one at a time. A message that fails for now is due again after an
//! exponential backoff; one the server refuses for good, or that has run out of attempts, is
//! marked failed. Every replica with an SMTP server runs one: the store's lease decides which
//! sends each message, and a replica that dies mid-delivery leaves its messages to another
//! once their lease ends (a message is then sent at least once, never twice by two live
//! replicas).

use std::time::Duration;

use portcullis_core::secrets::random_token;
use portcullis_store::{Email, EmailLease, EmailOutcome};

use crate::mail::transport::Smtp;
use crate::state::AppState;

/// Messages claimed at once: few, so that a lease never outlives its deliveries.
const BATCH: u32 = 10;

/// Sends every due message, batch after batch, until none is left.
pub async fn deliver_due(app: &AppState, smtp: &Smtp) {
    loop {
        let now = app.clock.now();
        let lease = EmailLease {
            token: random_token(16),
            until: now + app.settings.email.lease_seconds,
        };
        let claimed = match app.store.claim_emails(&lease, now, BATCH).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "could not claim due emails; trying again later");
                return;
            }
        };
        let full = claimed.len() == BATCH as usize;
        for email in claimed {
            deliver(app, smtp, &lease, &email).await;
        }
        if !full {
            return;
        }
    }
}

/// Sends one claimed message and records what became of it.
async fn deliver(app: &AppState, smtp: &Smtp, lease: &EmailLease, email: &Email) {
    let settings = &app.settings.email;
    let max_attempts = i64::from(settings.max_attempts.max(1));
    let outcome = if email.attempts > max_attempts {
        // Claimed again after its sender died on the last attempt.
        EmailOutcome::Failed {
            at: app.clock.now(),
            error: format!("gave up after {max_attempts} attempts"),
        }
    } else {
        match smtp.send(email).await {
            Ok(()) => EmailOutcome::Sent {
                at: app.clock.now(),
            },
            Err(error) if error.permanent || email.attempts >= max_attempts => {
                EmailOutcome::Failed {
                    at: app.clock.now(),
                    error: error.message,
                }
            }
            Err(error) => {
                let now = app.clock.now();
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
    match app
        .store
        .finish_email(&email.id, &lease.token, &outcome)
        .await
    {
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
            deliver_due(&app, &smtp).await;
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = app.admin.cx.outbox.written() => {}
            }
        }
    })
}
