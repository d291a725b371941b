// Shared by both backends: `crates/portcullis-store-sqlite/src/webauthn.rs` and
// `crates/portcullis-store-postgres/src/webauthn.rs` include this file with the alias `Backend`
// (the backend's store) in scope; rows are read by the backend's `mfa::authenticator_from_row`. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// WebAuthn credentials and ceremonies. A credential's use moves its sign count by one
// conditional UPDATE and a ceremony is taken by one DELETE ... RETURNING, so two replicas (or
// a replayed request) cannot both win; no lock hook is needed.

use async_trait::async_trait;
use portcullis_store::{Authenticator, StoreError, User, WebauthnChallenge, WebauthnRepository};
use sqlx::Row as _;

use crate::{
    backend,
    mfa::{authenticator_from_row, insert_authenticator_in},
    users::insert_user_row,
};

#[async_trait]
impl WebauthnRepository for Backend {
    async fn insert_webauthn_authenticator(
        &self,
        authenticator: &Authenticator,
        credential_id: &str,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .insert_authenticator_row(authenticator, Some(credential_id))
            .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn create_user_with_passkey(
        &self,
        user: &User,
        authenticator: &Authenticator,
        credential_id: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        insert_user_row(&mut *tx, user).await?;
        // A failure drops the transaction, which rolls the user back with it.
        match insert_authenticator_in(&mut *tx, authenticator, Some(credential_id)).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(error) => return Err(error),
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn authenticator_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<Authenticator>, StoreError> {
        sqlx::query(
            "SELECT * FROM authenticators WHERE credential_id = $1 AND confirmed = TRUE",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(authenticator_from_row)
        .transpose()
    }

    async fn use_webauthn_credential(
        &self,
        id: &str,
        counter: i64,
        credential: &[u8],
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE authenticators SET counter = $1, secret = $2, last_used_at = $3
             WHERE id = $4 AND (counter < $1 OR (counter = 0 AND $1 = 0))",
        )
        .bind(counter)
        .bind(credential)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_webauthn_challenge(
        &self,
        challenge: &WebauthnChallenge,
        now: i64,
    ) -> Result<(), StoreError> {
        // Ceremonies abandoned in the browser are never taken: each new one clears the
        // expired ones, so the table holds at most a few minutes of ceremonies.
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO webauthn_challenges (id_hash, session_hash, state, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&challenge.id_hash)
        .bind(&challenge.session_hash)
        .bind(&challenge.state)
        .bind(challenge.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn live_webauthn_challenges(&self, now: i64) -> Result<i64, StoreError> {
        sqlx::query("SELECT COUNT(*) AS live FROM webauthn_challenges WHERE expires_at > $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?
            .try_get("live")
            .map_err(backend)
    }

    async fn take_webauthn_challenge(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<WebauthnChallenge>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM webauthn_challenges WHERE id_hash = $1
             RETURNING id_hash, session_hash, state, expires_at",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let challenge = WebauthnChallenge {
            id_hash: row.try_get("id_hash").map_err(backend)?,
            session_hash: row.try_get("session_hash").map_err(backend)?,
            state: row.try_get("state").map_err(backend)?,
            expires_at: row.try_get("expires_at").map_err(backend)?,
        };
        Ok((challenge.expires_at > now).then_some(challenge))
    }
}
