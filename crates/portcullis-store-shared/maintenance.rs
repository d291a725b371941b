// Shared by both backends: `crates/portcullis-store-sqlite/src/maintenance.rs` and
// `crates/portcullis-store-postgres/src/maintenance.rs` include this file with the alias
// `Backend` (the backend's store) in scope. Placeholders are `$N`, which PostgreSQL and SQLite
// both read. No lock hook: refresh-token families are revoked through `revoke_family`, which
// takes the backend's lock.
//
// Housekeeping: ending everything a user holds, and sweeping what has expired. Every sweep
// statement deletes a bounded batch (a primary key `IN` a limited subquery, which both
// databases read), so a sweep never holds SQLite's write lock for long, and several processes
// sweeping at once only delete what the others have not.

use async_trait::async_trait;
use portcullis_store::{
    MaintenanceRepository, RefreshTokenRepository, StoreError, SweepBefore, SweepCounts,
};

use crate::backend;

/// Rows one sweep statement deletes at most.
const SWEEP_BATCH: i64 = 500;

impl Backend {
    /// Deletes the rows of `table` (primary key `key`) where `condition` holds for `$1` =
    /// `bound`, batch by batch; returns how many went.
    async fn sweep_table(
        &self,
        table: &str,
        key: &str,
        condition: &str,
        bound: i64,
    ) -> Result<u64, StoreError> {
        let statement = format!(
            "DELETE FROM {table} WHERE {key} IN
               (SELECT {key} FROM {table} WHERE {condition} LIMIT {SWEEP_BATCH})"
        );
        let mut deleted = 0;
        loop {
            let done = sqlx::query(&statement)
                .bind(bound)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected();
            deleted += done;
            if done < SWEEP_BATCH as u64 {
                return Ok(deleted);
            }
        }
    }

    /// Deletes, batch by batch, the refresh-token families none of whose tokens is usable
    /// any more at `now` (the newest one's idle lifetime is over); returns the rows that went.
    async fn sweep_idle_families(&self, now: i64) -> Result<u64, StoreError> {
        let statement = format!(
            "DELETE FROM refresh_tokens WHERE family_id IN
               (SELECT family_id FROM refresh_tokens GROUP BY family_id
                HAVING MAX(idle_expires_at) <= $1 LIMIT {SWEEP_BATCH})"
        );
        let mut deleted = 0;
        loop {
            let done = sqlx::query(&statement)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected();
            deleted += done;
            if done == 0 {
                return Ok(deleted);
            }
        }
    }
}

#[async_trait]
impl MaintenanceRepository for Backend {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let families: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT family_id FROM refresh_tokens
             WHERE user_id = $1 AND revoked = FALSE ORDER BY family_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        for family in &families {
            self.revoke_family(family).await?;
        }
        sqlx::query("DELETE FROM opaque_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn sweep(&self, before: SweepBefore) -> Result<SweepCounts, StoreError> {
        let now = before.now;
        let mut counts = SweepCounts {
            sessions: self
                .sweep_table(
                    "login_sessions",
                    "id_hash",
                    "expires_at <= $1 OR idle_expires_at <= $1",
                    now,
                )
                .await?,
            admin_sessions: self
                .sweep_table("admin_sessions", "id_hash", "expires_at <= $1", now)
                .await?,
            codes: self
                .sweep_table(
                    "authorization_codes",
                    "code_hash",
                    "expires_at <= $1",
                    before.codes_before,
                )
                .await?,
            // A family goes whole, once it has expired: until then its rotated tokens are what
            // reuse detection recognises.
            refresh_tokens: self
                .sweep_table(
                    "refresh_tokens",
                    "token_hash",
                    "family_expires_at <= $1",
                    now,
                )
                .await?,
            opaque_tokens: self
                .sweep_table("opaque_tokens", "token_hash", "expires_at <= $1", now)
                .await?,
            throttle_counters: self
                .sweep_table(
                    "throttle_counters",
                    "key",
                    "window_start < $1",
                    before.throttle_windows_before,
                )
                .await?,
            tickets: self
                .sweep_table("tickets", "ticket_hash", "expires_at <= $1", now)
                .await?,
            dpop_proofs: self
                .sweep_table("dpop_proofs", "proof_hash", "expires_at <= $1", now)
                .await?,
            mfa_tokens: self
                .sweep_table("mfa_tokens", "token_hash", "expires_at <= $1", now)
                .await?,
            log_events: 0,
            emails: 0,
        };
        // Families whose newest token has been idle past its lifetime can no longer be used,
        // so they go whole too, without waiting for their absolute expiry.
        counts.refresh_tokens += self.sweep_idle_families(now).await?;
        if let Some(cutoff) = before.log_events_before_ms {
            counts.log_events = self
                .sweep_table("audit_log", "log_id", "date < $1", cutoff)
                .await?;
        }
        if let Some(kept) = before.log_events_kept {
            // The date of the oldest event kept; everything older goes (events of that very
            // millisecond stay, so a few more than `kept` may remain).
            let cutoff: Option<i64> = sqlx::query_scalar(
                "SELECT date FROM audit_log ORDER BY date DESC LIMIT 1 OFFSET $1",
            )
            .bind(i64::try_from(kept.max(1) - 1).unwrap_or(i64::MAX))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
            if let Some(cutoff) = cutoff {
                counts.log_events += self
                    .sweep_table("audit_log", "log_id", "date < $1", cutoff)
                    .await?;
            }
        }
        if let Some(cutoff) = before.emails_before {
            counts.emails = self
                .sweep_table("emails", "id", "created_at < $1", cutoff)
                .await?;
        }
        Ok(counts)
    }
}
