// Shared by both backends: `crates/portcullis-store-sqlite/src/protocol.rs` and
// `crates/portcullis-store-postgres/src/protocol.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Short-lived protocol state: login sessions, authorization codes, refresh tokens and
// throttling counters. Every race here is decided by the database: one conditional UPDATE, an
// upsert, or the serialisation of a refresh-token family's insertions with its revocation.
// For that last one each writing transaction on refresh tokens first calls the backend's hook,
// `crate::lock_family` or `crate::lock_user_client_families`: PostgreSQL takes an advisory lock
// per family there; SQLite does nothing, because its single writer already serialises the
// transactions, and a read before their first write could fail them with SQLITE_BUSY_SNAPSHOT.

use async_trait::async_trait;
use portcullis_store::{
    AuthorizationCode, AuthorizationCodeRepository, LoginSession, Redeemed, RefreshToken,
    RefreshTokenRepository, RotationOutcome, SessionRepository, StoreError, ThrottleRepository,
};
use sqlx::Row as _;

use crate::{
    backend, lock_family, lock_user_client_families,
    mfa::{amr_from, amr_text},
};

#[async_trait]
impl SessionRepository for Backend {
    async fn create_session(&self, session: &LoginSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_sessions (id_hash, sid, user_id, auth_time, expires_at,
               idle_expires_at, amr, mfa_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&session.id_hash)
        .bind(&session.sid)
        .bind(&session.user_id)
        .bind(session.auth_time)
        .bind(session.expires_at)
        .bind(session.idle_expires_at)
        .bind(amr_text(&session.amr))
        .bind(session.mfa_time)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session_by_hash(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<LoginSession>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM login_sessions
             WHERE id_hash = $1 AND expires_at > $2 AND idle_expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|row| {
            Ok(LoginSession {
                id_hash: row.try_get("id_hash").map_err(backend)?,
                sid: row.try_get("sid").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                auth_time: row.try_get("auth_time").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
                idle_expires_at: row.try_get("idle_expires_at").map_err(backend)?,
                amr: amr_from(row.try_get("amr").map_err(backend)?)?,
                mfa_time: row.try_get("mfa_time").map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn touch_session(&self, id_hash: &[u8], idle_expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE login_sessions SET idle_expires_at = $1 WHERE id_hash = $2")
            .bind(idle_expires_at)
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn code_from_row(row: &Row) -> Result<AuthorizationCode, StoreError> {
    Ok(AuthorizationCode {
        code_hash: row.try_get("code_hash").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        redirect_uri: row.try_get("redirect_uri").map_err(backend)?,
        scope: row.try_get("scope").map_err(backend)?,
        audience: row.try_get("audience").map_err(backend)?,
        nonce: row.try_get("nonce").map_err(backend)?,
        code_challenge: row.try_get("code_challenge").map_err(backend)?,
        sid: row.try_get("sid").map_err(backend)?,
        auth_time: row.try_get("auth_time").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
        amr: amr_from(row.try_get("amr").map_err(backend)?)?,
        acr: row.try_get("acr").map_err(backend)?,
        dpop_jkt: row.try_get("dpop_jkt").map_err(backend)?,
        actions: row
            .try_get::<Option<&str>, _>("actions")
            .map_err(backend)?
            .map(crate::rows::from_json)
            .transpose()?,
    })
}

#[async_trait]
impl AuthorizationCodeRepository for Backend {
    async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope,
               audience, nonce, code_challenge, sid, auth_time, expires_at, consumed_at, family_id,
               amr, acr, dpop_jkt, actions)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12, $13, $14, $15)",
        )
        .bind(&code.code_hash)
        .bind(&code.client_id)
        .bind(&code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.audience)
        .bind(&code.nonce)
        .bind(&code.code_challenge)
        .bind(&code.sid)
        .bind(code.auth_time)
        .bind(code.expires_at)
        .bind(amr_text(&code.amr))
        .bind(&code.acr)
        .bind(&code.dpop_jkt)
        .bind(code.actions.as_ref().map(crate::rows::to_json).transpose()?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &[u8], now: i64) -> Result<Redeemed, StoreError> {
        let won = sqlx::query(
            "UPDATE authorization_codes SET consumed_at = $1
             WHERE code_hash = $2 AND consumed_at IS NULL AND expires_at > $3
             RETURNING *",
        )
        .bind(now)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(row) = won {
            return Ok(Redeemed::Fresh(Box::new(code_from_row(&row)?)));
        }
        let used = sqlx::query(
            "SELECT family_id FROM authorization_codes
             WHERE code_hash = $1 AND consumed_at IS NOT NULL",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(match used {
            Some(row) => Redeemed::Replayed {
                family_id: row.try_get("family_id").map_err(backend)?,
            },
            None => Redeemed::Invalid,
        })
    }

    async fn link_code_family(&self, code_hash: &[u8], family_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE authorization_codes SET family_id = $1 WHERE code_hash = $2")
            .bind(family_id)
            .bind(code_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn refresh_from_row(row: &Row) -> Result<RefreshToken, StoreError> {
    Ok(RefreshToken {
        token_hash: row.try_get("token_hash").map_err(backend)?,
        family_id: row.try_get("family_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        audience: row.try_get("audience").map_err(backend)?,
        scope: row.try_get("scope").map_err(backend)?,
        sid: row.try_get("sid").map_err(backend)?,
        auth_time: row.try_get("auth_time").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        family_expires_at: row.try_get("family_expires_at").map_err(backend)?,
        idle_expires_at: row.try_get("idle_expires_at").map_err(backend)?,
        rotated_at: row.try_get("rotated_at").map_err(backend)?,
        revoked: row.try_get("revoked").map_err(backend)?,
        dpop_jkt: row.try_get("dpop_jkt").map_err(backend)?,
    })
}

#[async_trait]
impl RefreshTokenRepository for Backend {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // Under the family's lock a concurrent revocation has either committed (and the new
        // token is stored revoked) or has not started (and its UPDATE will see the new token).
        // On SQLite the insert is the transaction's first statement and holds the write lock
        // from its start, which has the same effect.
        lock_family(&mut tx, &token.family_id).await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience,
               scope, sid, auth_time, created_at, family_expires_at, idle_expires_at, rotated_at,
               revoked, dpop_jkt)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
               $13 OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = $2 AND revoked),
               $14)",
        )
        .bind(&token.token_hash)
        .bind(&token.family_id)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.audience)
        .bind(&token.scope)
        .bind(&token.sid)
        .bind(token.auth_time)
        .bind(token.created_at)
        .bind(token.family_expires_at)
        .bind(token.idle_expires_at)
        .bind(token.rotated_at)
        .bind(token.revoked)
        .bind(&token.dpop_jkt)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
        leeway: i64,
    ) -> Result<RotationOutcome, StoreError> {
        let won = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $1
             WHERE token_hash = $2 AND rotated_at IS NULL AND revoked = FALSE
               AND idle_expires_at > $3 AND family_expires_at > $4
             RETURNING *",
        )
        .bind(now)
        .bind(token_hash)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(row) = won {
            return Ok(RotationOutcome::Rotated(refresh_from_row(&row)?));
        }
        not_live(self, token_hash, now, leeway).await
    }

    async fn keep_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
        idle_expires_at: i64,
        leeway: i64,
    ) -> Result<RotationOutcome, StoreError> {
        // `CASE` rather than `MIN`/`LEAST`, which the two databases spell differently.
        let kept = sqlx::query(
            "UPDATE refresh_tokens
             SET idle_expires_at = CASE WHEN $1 < family_expires_at THEN $1
                                        ELSE family_expires_at END
             WHERE token_hash = $2 AND rotated_at IS NULL AND revoked = FALSE
               AND idle_expires_at > $3 AND family_expires_at > $3
             RETURNING *",
        )
        .bind(idle_expires_at)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(row) = kept {
            return Ok(RotationOutcome::Kept(refresh_from_row(&row)?));
        }
        not_live(self, token_hash, now, leeway).await
    }

    async fn refresh_token_by_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<RefreshToken>, StoreError> {
        sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(refresh_from_row)
            .transpose()
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_family(&mut tx, family_id).await?;
        sqlx::query("UPDATE refresh_tokens SET revoked = TRUE WHERE family_id = $1")
            .bind(family_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn revoke_user_client_families(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        lock_user_client_families(&mut tx, user_id, client_id).await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked = TRUE WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}

/// What presenting a token that the conditional UPDATE did not take means: reuse of a rotated
/// token (tolerated within `leeway`, otherwise its family is revoked), or an invalid one.
async fn not_live(
    store: &Backend,
    token_hash: &[u8],
    now: i64,
    leeway: i64,
) -> Result<RotationOutcome, StoreError> {
    let Some(token) = store.refresh_token_by_hash(token_hash).await? else {
        return Ok(RotationOutcome::Invalid);
    };
    if token.revoked || token.family_expires_at <= now {
        return Ok(RotationOutcome::Invalid);
    }
    match token.rotated_at {
        Some(rotated_at) if now < rotated_at.saturating_add(leeway) => {
            Ok(RotationOutcome::ReusedWithinLeeway(token))
        }
        Some(_) => {
            store.revoke_family(&token.family_id).await?;
            Ok(RotationOutcome::ReuseDetected(token))
        }
        // Live but idle-expired.
        None => Ok(RotationOutcome::Invalid),
    }
}

#[async_trait]
impl ThrottleRepository for Backend {
    async fn hit(&self, key: &str, window_start: i64) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO throttle_counters (key, window_start, count) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN throttle_counters.window_start = excluded.window_start
                            THEN throttle_counters.count + 1 ELSE 1 END,
               window_start = excluded.window_start
             RETURNING count",
        )
        .bind(key)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(count.unsigned_abs())
    }

    async fn hits(&self, key: &str, window_start: i64) -> Result<u64, StoreError> {
        let count: Option<i64> = sqlx::query_scalar(
            "SELECT count FROM throttle_counters WHERE key = $1 AND window_start = $2",
        )
        .bind(key)
        .bind(window_start)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(count.unwrap_or(0).unsigned_abs())
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle_counters WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn take_back(&self, key: &str, window_start: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE throttle_counters SET count = count - 1
             WHERE key = $1 AND window_start = $2 AND count > 0",
        )
        .bind(key)
        .bind(window_start)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn counters_with_prefix(
        &self,
        prefix: &str,
        window_start: i64,
        min_count: u64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        // A prefix comparison rather than LIKE: keys may hold `_` and `%`.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT key, count FROM throttle_counters
             WHERE substr(key, 1, length(CAST($1 AS TEXT))) = $1
               AND window_start = $2 AND count >= $3
             ORDER BY key",
        )
        .bind(prefix)
        .bind(window_start)
        .bind(i64::try_from(min_count).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|(key, count)| (key, count.unsigned_abs()))
            .collect())
    }

    async fn clear_prefix(&self, prefix: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM throttle_counters WHERE substr(key, 1, length(CAST($1 AS TEXT))) = $1",
        )
        .bind(prefix)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl portcullis_store::OpaqueTokenRepository for Backend {
    async fn insert_opaque_token(
        &self,
        token: &portcullis_store::OpaqueToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO opaque_tokens (token_hash, client_id, user_id, scope, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.token_hash)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn opaque_token_by_hash(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> Result<Option<portcullis_store::OpaqueToken>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM opaque_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|row| {
            Ok(portcullis_store::OpaqueToken {
                token_hash: row.try_get("token_hash").map_err(backend)?,
                client_id: row.try_get("client_id").map_err(backend)?,
                user_id: row.try_get("user_id").map_err(backend)?,
                scope: row.try_get("scope").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn delete_opaque_token(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM opaque_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
