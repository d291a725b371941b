//! The background sweep: every `sweep_interval_seconds`, delete what has expired (sessions,
//! codes, refresh-token families, opaque tokens, throttling counters, email tickets), and
//! audit log events and outbox messages older than their retention. Every replica sweeps; the
//! deletes are idempotent and batched, so sweeping at once costs only the repeated reads.

use std::time::Duration;

use portcullis_store::SweepBefore;

use crate::state::AppState;

/// How long an authorization code is kept past its expiry: a replay within this time is still
/// recognised as one (and revokes what the code produced).
const KEEP_EXPIRED_CODES: i64 = 3_600;

/// What a sweep at `now` deletes, by the settings.
pub fn bounds(app: &AppState, now: i64) -> SweepBefore {
    let settings = &app.settings;
    SweepBefore {
        now,
        codes_before: now - KEEP_EXPIRED_CODES,
        // A counter's window is over once it started a whole window ago.
        throttle_windows_before: now - settings.throttle.window_seconds,
        log_events_before_ms: settings
            .audit_retention_days
            .map(|days| (now - i64::from(days) * 86_400) * 1000),
        log_events_kept: settings.audit_retention_events,
        emails_before: settings
            .email
            .retention_days
            .map(|days| now - i64::from(days) * 86_400),
    }
}

/// Sweeps once; failures are logged, never fatal.
pub async fn sweep_once(app: &AppState) {
    match app.store.sweep(bounds(app, app.clock.now())).await {
        Ok(counts) => tracing::debug!(?counts, "swept expired state"),
        Err(error) => tracing::warn!(%error, "the sweep failed; it runs again later"),
    }
    // Import and export jobs, and the exports' files, past their day.
    match app.store.delete_expired_jobs(app.clock.now()).await {
        Ok(jobs) => tracing::debug!(jobs, "swept expired jobs"),
        Err(error) => tracing::warn!(%error, "the job sweep failed; it runs again later"),
    }
}

/// Starts the sweep on the current runtime; abort the handle to stop it.
pub fn spawn(app: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(app.settings.sweep_interval_seconds.max(1));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            sweep_once(&app).await;
        }
    })
}
