// Shared by both backends: `crates/portcullis-store-sqlite/src/consents.rs` and
// `crates/portcullis-store-postgres/src/consents.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Users' consents to applications (Auth0's user grants). The scope is stored as its
// space-separated string and parsed back into a `Scope`.
//
// It calls none of the backends' lock hooks: each write is one statement, and the unique
// (user, application, audience) index decides between concurrent first approvals.

use async_trait::async_trait;
use portcullis_store::{Consent, ConsentFilter, ConsentRepository, Page, StoreError};
use portcullis_types::Scope;
use sqlx::Row as _;

use crate::{backend, clients::found, limits};

fn consent_from_row(row: &Row) -> Result<Consent, StoreError> {
    let scope: &str = row.try_get("scope").map_err(backend)?;
    Ok(Consent {
        id: row.try_get("id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        client_id: row.try_get("client_id").map_err(backend)?,
        audience: row.try_get("audience").map_err(backend)?,
        scope: Scope::parse(scope)
            .map_err(|error| StoreError::Backend(format!("stored consent scope: {error}")))?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

/// The WHERE clause of a consent listing or deletion: every filter is bound, absent ones as
/// NULL.
const CONSENT_FILTER: &str = "($1 IS NULL OR user_id = $1)
    AND ($2 IS NULL OR client_id = $2)
    AND ($3 IS NULL OR audience = $3)";

#[async_trait]
impl ConsentRepository for Backend {
    async fn upsert_consent(&self, consent: &Consent) -> Result<Consent, StoreError> {
        let row = sqlx::query(
            "INSERT INTO consents (id, user_id, client_id, audience, scope, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_id, client_id, audience) DO UPDATE SET
               scope = excluded.scope,
               updated_at = excluded.updated_at
             RETURNING *",
        )
        .bind(&consent.id)
        .bind(&consent.user_id)
        .bind(&consent.client_id)
        .bind(&consent.audience)
        .bind(consent.scope.to_string())
        .bind(consent.created_at)
        .bind(consent.updated_at)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        consent_from_row(&row)
    }

    async fn consent_for(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> Result<Option<Consent>, StoreError> {
        sqlx::query(
            "SELECT * FROM consents WHERE user_id = $1 AND client_id = $2 AND audience = $3",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(audience)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(consent_from_row)
        .transpose()
    }

    async fn consent_by_id(&self, id: &str) -> Result<Option<Consent>, StoreError> {
        sqlx::query("SELECT * FROM consents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(consent_from_row)
            .transpose()
    }

    async fn list_consents(
        &self,
        filter: &ConsentFilter,
        page: Page,
    ) -> Result<(Vec<Consent>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let rows = sqlx::query(&format!(
            "SELECT * FROM consents WHERE {CONSENT_FILTER}
             ORDER BY created_at, id LIMIT $4 OFFSET $5"
        ))
        .bind(&filter.user_id)
        .bind(&filter.client_id)
        .bind(&filter.audience)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM consents WHERE {CONSENT_FILTER}"))
                .bind(&filter.user_id)
                .bind(&filter.client_id)
                .bind(&filter.audience)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        let items = rows.iter().map(consent_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn delete_consent(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM consents WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_consents(&self, filter: &ConsentFilter) -> Result<u64, StoreError> {
        let done = sqlx::query(&format!("DELETE FROM consents WHERE {CONSENT_FILTER}"))
            .bind(&filter.user_id)
            .bind(&filter.client_id)
            .bind(&filter.audience)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}
