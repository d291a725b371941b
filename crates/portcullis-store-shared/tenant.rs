// Shared by both backends: `crates/portcullis-store-sqlite/src/tenant.rs` and
// `crates/portcullis-store-postgres/src/tenant.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// The tenant's flags: one row per flag, written in one transaction.

use async_trait::async_trait;
use portcullis_store::{StoreError, TenantFlags, TenantRepository};
use sqlx::Row as _;

use crate::backend;

#[async_trait]
impl TenantRepository for Backend {
    async fn tenant_flags(&self) -> Result<TenantFlags, StoreError> {
        let rows = sqlx::query("SELECT name, enabled FROM tenant_flags")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut flags = TenantFlags::default();
        for row in &rows {
            let row: &Row = row;
            let name: String = row.try_get("name").map_err(backend)?;
            flags.set(&name, row.try_get("enabled").map_err(backend)?);
        }
        Ok(flags)
    }

    async fn set_tenant_flags(&self, flags: &TenantFlags) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for (name, enabled) in flags.named() {
            sqlx::query(
                "INSERT INTO tenant_flags (name, enabled) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled",
            )
            .bind(name)
            .bind(enabled)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
