//! Short-lived protocol state: login sessions, authorization codes, refresh tokens and
//! throttling counters. Every race here is decided by one conditional UPDATE.

use async_trait::async_trait;
use portcullis_store::{
    AuthorizationCode, AuthorizationCodeRepository, LoginSession, Redeemed, RefreshToken,
    RefreshTokenRepository, RotationOutcome, SessionRepository, StoreError, ThrottleRepository,
};
use sqlx::{sqlite::SqliteRow, Row};

use crate::{backend, SqliteStore};

#[async_trait]
impl SessionRepository for SqliteStore {
    async fn create_session(&self, session: &LoginSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_sessions (id_hash, sid, user_id, auth_time, expires_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&session.id_hash)
        .bind(&session.sid)
        .bind(&session.user_id)
        .bind(session.auth_time)
        .bind(session.expires_at)
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
        let row = sqlx::query("SELECT * FROM login_sessions WHERE id_hash = ? AND expires_at > ?")
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
            })
        })
        .transpose()
    }

    async fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn code_from_row(row: &SqliteRow) -> Result<AuthorizationCode, StoreError> {
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
    })
}

#[async_trait]
impl AuthorizationCodeRepository for SqliteStore {
    async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope,
               audience, nonce, code_challenge, sid, auth_time, expires_at, consumed_at, family_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
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
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &[u8], now: i64) -> Result<Redeemed, StoreError> {
        let won = sqlx::query(
            "UPDATE authorization_codes SET consumed_at = ?
             WHERE code_hash = ? AND consumed_at IS NULL AND expires_at > ?
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
             WHERE code_hash = ? AND consumed_at IS NOT NULL",
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
        sqlx::query("UPDATE authorization_codes SET family_id = ? WHERE code_hash = ?")
            .bind(family_id)
            .bind(code_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn refresh_from_row(row: &SqliteRow) -> Result<RefreshToken, StoreError> {
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
    })
}

#[async_trait]
impl RefreshTokenRepository for SqliteStore {
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience,
               scope, sid, auth_time, created_at, family_expires_at, idle_expires_at, rotated_at,
               revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
               ?13 OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ?2 AND revoked))",
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
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        now: i64,
        leeway: i64,
    ) -> Result<RotationOutcome, StoreError> {
        let won = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = ?
             WHERE token_hash = ? AND rotated_at IS NULL AND revoked = 0
               AND idle_expires_at > ? AND family_expires_at > ?
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
        let Some(token) = self.refresh_token_by_hash(token_hash).await? else {
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
                self.revoke_family(&token.family_id).await?;
                Ok(RotationOutcome::ReuseDetected(token))
            }
            // Live but idle-expired.
            None => Ok(RotationOutcome::Invalid),
        }
    }

    async fn refresh_token_by_hash(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<RefreshToken>, StoreError> {
        sqlx::query("SELECT * FROM refresh_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(refresh_from_row)
            .transpose()
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?")
            .bind(family_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn revoke_user_client_families(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ? AND client_id = ?")
            .bind(user_id)
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ThrottleRepository for SqliteStore {
    async fn hit(&self, key: &str, window_start: i64) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "INSERT INTO throttle_counters (key, window_start, count) VALUES (?, ?, 1)
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
            "SELECT count FROM throttle_counters WHERE key = ? AND window_start = ?",
        )
        .bind(key)
        .bind(window_start)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(count.unwrap_or(0).unsigned_abs())
    }

    async fn clear(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle_counters WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl portcullis_store::OpaqueTokenRepository for SqliteStore {
    async fn insert_opaque_token(
        &self,
        token: &portcullis_store::OpaqueToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO opaque_tokens (token_hash, client_id, user_id, scope, expires_at)
             VALUES (?, ?, ?, ?, ?)",
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
            sqlx::query("SELECT * FROM opaque_tokens WHERE token_hash = ? AND expires_at > ?")
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
}
