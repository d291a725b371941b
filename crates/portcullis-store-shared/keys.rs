// Shared by both backends: `crates/portcullis-store-sqlite/src/keys.rs` and
// `crates/portcullis-store-postgres/src/keys.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Signing keys and their rotation. Initialisation and rotation call the backend's hook
// `crate::lock_keys` as the first thing in their transaction: PostgreSQL takes its advisory
// lock on the keys there, so that replicas take turns; SQLite does nothing, because its
// single writer already serialises them.

use async_trait::async_trait;
use portcullis_store::{KeyRepository, KeyState, SigningKey, StoreError};
use sqlx::Row as _;

use crate::{backend, lock_keys, rows::parse_stored};

fn key_from_row(row: &Row) -> Result<SigningKey, StoreError> {
    let state: String = row.try_get("state").map_err(backend)?;
    Ok(SigningKey {
        kid: row.try_get("kid").map_err(backend)?,
        alg: parse_stored(row.try_get("alg").map_err(backend)?)?,
        state: KeyState::parse(&state)
            .ok_or_else(|| StoreError::Backend(format!("unknown key state {state}")))?,
        private_pkcs8: row.try_get("private_pkcs8").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        retire_after: row.try_get("retire_after").map_err(backend)?,
    })
}

#[async_trait]
impl KeyRepository for Backend {
    async fn live_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM signing_keys WHERE state != 'retired' ORDER BY created_at, alg, kid")
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
        // PostgreSQL: replicas starting at once on an empty database queue here; the first
        // inserts, the others then see its keys (each statement reads what committed before it
        // began). SQLite: the hook adds no statement, so the conditional insert is the first
        // statement and takes the write lock at once: of two processes starting on one empty
        // file, exactly one inserts.
        lock_keys(&mut tx).await?;
        // Each algorithm has its own keys: the first keys of one algorithm are stored when
        // that algorithm has none yet.
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, state, private_pkcs8, created_at, retire_after)
             SELECT $1, $4, 'current', $2, $3, NULL
             WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = $4)",
        )
        .bind(&current.kid)
        .bind(&current.private_pkcs8)
        .bind(current.created_at)
        .bind(current.alg.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await.map_err(backend)?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, state, private_pkcs8, created_at, retire_after)
             VALUES ($1, $4, 'next', $2, $3, NULL)",
        )
        .bind(&next.kid)
        .bind(&next.private_pkcs8)
        .bind(next.created_at)
        .bind(next.alg.as_str())
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
        // The algorithm of `new_next` is the one rotated; the others keep their keys.
        let alg = new_next.alg.as_str();
        sqlx::query(
            "UPDATE signing_keys SET state = 'retired'
             WHERE state = 'previous' AND retire_after <= $1 AND alg = $2",
        )
        .bind(now)
        .bind(alg)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE signing_keys SET state = 'previous', retire_after = $1
             WHERE state = 'current' AND alg = $2",
        )
        .bind(previous_retire_after)
        .bind(alg)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query("UPDATE signing_keys SET state = 'current' WHERE state = 'next' AND alg = $1")
            .bind(alg)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, alg, state, private_pkcs8, created_at, retire_after)
             VALUES ($1, $4, 'next', $2, $3, NULL)",
        )
        .bind(&new_next.kid)
        .bind(&new_next.private_pkcs8)
        .bind(new_next.created_at)
        .bind(alg)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn insert_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, state, private_pkcs8, created_at, retire_after, alg)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.kid)
        .bind(key.state.as_str())
        .bind(&key.private_pkcs8)
        .bind(key.created_at)
        .bind(key.retire_after)
        .bind(key.alg.as_str())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }
}
