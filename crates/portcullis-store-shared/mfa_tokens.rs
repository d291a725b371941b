// Shared by both backends: `crates/portcullis-store-sqlite/src/mfa_tokens.rs` and
// `crates/portcullis-store-postgres/src/mfa_tokens.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read.
//
// The MFA API's pending logins (`mfa_token`): taken by one conditional DELETE, so that two
// replicas asked at once cannot both finish the same login; no lock hook is needed.

use async_trait::async_trait;
use portcullis_store::{MfaTokenRepository, PendingMfaLogin, StoreError};
use sqlx::Row as _;

use crate::backend;

fn pending_from_row(row: &Row) -> Result<PendingMfaLogin, StoreError> {
    Ok(PendingMfaLogin {
        token_hash: row.try_get("token_hash").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        audience: row.try_get("audience").map_err(backend)?,
        scope: row.try_get("scope").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
    })
}

#[async_trait]
impl MfaTokenRepository for Backend {
    async fn insert_mfa_token(&self, login: &PendingMfaLogin) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mfa_tokens
                 (token_hash, user_id, client_id, audience, scope, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&login.token_hash)
        .bind(&login.user_id)
        .bind(&login.client_id)
        .bind(&login.audience)
        .bind(&login.scope)
        .bind(login.created_at)
        .bind(login.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn mfa_token(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<PendingMfaLogin>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, client_id, audience, scope, created_at, expires_at
             FROM mfa_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(pending_from_row).transpose()
    }

    async fn take_mfa_token(&self, token_hash: &[u8], now: i64) -> Result<bool, StoreError> {
        let taken = sqlx::query("DELETE FROM mfa_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(taken == 1)
    }
}
