// Shared by both backends: `crates/portcullis-store-sqlite/src/admin_sessions.rs` and
// `crates/portcullis-store-postgres/src/admin_sessions.rs` include this file with the alias
// `Backend` (the store) in scope. Placeholders are `$N`, which PostgreSQL and SQLite both
// read, so one text of SQL serves both.
//
// Dashboard sessions of administrators.
//
// It calls none of the backends' lock hooks; only signing keys and refresh-token families
// need them.

use async_trait::async_trait;
use portcullis_store::{AdminSession, AdminSessionRepository, StoreError};
use sqlx::Row as _;

use crate::backend;

#[async_trait]
impl AdminSessionRepository for Backend {
    async fn create_admin_session(&self, session: &AdminSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO admin_sessions (id_hash, admin_id, created_at, expires_at, mfa_pending)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.admin_id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.mfa_pending)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn admin_session_by_hash(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<AdminSession>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2")
                .bind(id_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        row.map(|row| {
            Ok(AdminSession {
                id_hash: row.try_get("id_hash").map_err(backend)?,
                admin_id: row.try_get("admin_id").map_err(backend)?,
                created_at: row.try_get("created_at").map_err(backend)?,
                expires_at: row.try_get("expires_at").map_err(backend)?,
                mfa_pending: row.try_get("mfa_pending").map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn delete_admin_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
