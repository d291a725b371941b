//! Signing keys and their rotation.

use async_trait::async_trait;
use portcullis_store::{KeyRepository, KeyState, SigningKey, StoreError};
use sqlx::{postgres::PgRow, Row};

use crate::{backend, PgStore, KEYS_LOCK};

/// Serialises key initialisation and rotation across every process on the database, until the
/// transaction ends.
async fn lock_keys(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEYS_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

fn key_from_row(row: &PgRow) -> Result<SigningKey, StoreError> {
    let state: String = row.try_get("state").map_err(backend)?;
    Ok(SigningKey {
        kid: row.try_get("kid").map_err(backend)?,
        state: KeyState::parse(&state)
            .ok_or_else(|| StoreError::Backend(format!("unknown key state {state}")))?,
        private_pkcs8: row.try_get("private_pkcs8").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        retire_after: row.try_get("retire_after").map_err(backend)?,
    })
}

#[async_trait]
impl KeyRepository for PgStore {
    async fn live_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM signing_keys WHERE state != 'retired' ORDER BY created_at")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn initialize_keys(
        &self,
        current: &SigningKey,
        next: &SigningKey,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Replicas starting at once on an empty database queue here; the first inserts, the
        // others then see its keys (each statement reads what committed before it began).
        lock_keys(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (kid, state, private_pkcs8, created_at, retire_after)
             SELECT $1, 'current', $2, $3, NULL WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(&current.kid)
        .bind(&current.private_pkcs8)
        .bind(current.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await.map_err(backend)?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, state, private_pkcs8, created_at, retire_after)
             VALUES ($1, 'next', $2, $3, NULL)",
        )
        .bind(&next.kid)
        .bind(&next.private_pkcs8)
        .bind(next.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn rotate_keys(
        &self,
        new_next: &SigningKey,
        previous_retire_after: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_keys(&mut tx).await?;
        sqlx::query(
            "UPDATE signing_keys SET state = 'retired'
             WHERE state = 'previous' AND retire_after <= $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE signing_keys SET state = 'previous', retire_after = $1 WHERE state = 'current'",
        )
        .bind(previous_retire_after)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE signing_keys SET state = 'current' WHERE state = 'next'")
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, state, private_pkcs8, created_at, retire_after)
             VALUES ($1, 'next', $2, $3, NULL)",
        )
        .bind(&new_next.kid)
        .bind(&new_next.private_pkcs8)
        .bind(new_next.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn insert_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, state, private_pkcs8, created_at, retire_after)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(key.state.as_str())
        .bind(&key.private_pkcs8)
        .bind(key.created_at)
        .bind(key.retire_after)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}
