// Shared by both backends: `crates/portcullis-store-sqlite/src/actions.rs` and
// `crates/portcullis-store-postgres/src/actions.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`.
//
// Auth0 Actions, their deployed versions and the triggers' bindings.

use async_trait::async_trait;
use portcullis_store::{Action, ActionBinding, ActionRepository, ActionVersion, StoreError};
use portcullis_types::ActionTrigger;
use sqlx::Row as _;

use crate::{backend, rows::parse_stored};

fn action_from_row(row: &Row) -> Result<Action, StoreError> {
    Ok(Action {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        trigger: parse_stored(row.try_get::<&str, _>("trigger_id").map_err(backend)?)?,
        code: row.try_get("code").map_err(backend)?,
        runtime: row.try_get("runtime").map_err(backend)?,
        sealed_secrets: row.try_get("secrets").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

fn version_from_row(row: &Row) -> Result<ActionVersion, StoreError> {
    Ok(ActionVersion {
        id: row.try_get("version_id").map_err(backend)?,
        action_id: row.try_get("action_id").map_err(backend)?,
        number: row.try_get("number").map_err(backend)?,
        code: row.try_get("code").map_err(backend)?,
        runtime: row.try_get("runtime").map_err(backend)?,
        sealed_secrets: row.try_get("secrets").map_err(backend)?,
        created_at: row.try_get("version_created_at").map_err(backend)?,
    })
}

fn binding_from_row(row: &Row) -> Result<ActionBinding, StoreError> {
    Ok(ActionBinding {
        id: row.try_get("binding_id").map_err(backend)?,
        trigger: parse_stored(row.try_get::<&str, _>("trigger_id").map_err(backend)?)?,
        action_id: row.try_get("action_id").map_err(backend)?,
        display_name: row.try_get("display_name").map_err(backend)?,
        created_at: row.try_get("binding_created_at").map_err(backend)?,
    })
}

const VERSION_COLUMNS: &str = "v.id AS version_id, v.action_id, v.number, v.code, v.runtime, \
                               v.secrets, v.created_at AS version_created_at";
const BINDING_COLUMNS: &str = "b.id AS binding_id, b.trigger_id, b.display_name, \
                               b.created_at AS binding_created_at";

#[async_trait]
impl ActionRepository for Backend {
    async fn insert_action(&self, action: &Action) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO actions (id, name, trigger_id, code, runtime, secrets, created_at,
               updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&action.id)
        .bind(&action.name)
        .bind(action.trigger.as_str())
        .bind(&action.code)
        .bind(&action.runtime)
        .bind(&action.sealed_secrets)
        .bind(action.created_at)
        .bind(action.updated_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn update_action(&self, action: &Action) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE actions SET name = $2, code = $3, runtime = $4, secrets = $5, updated_at = $6
             WHERE id = $1",
        )
        .bind(&action.id)
        .bind(&action.name)
        .bind(&action.code)
        .bind(&action.runtime)
        .bind(&action.sealed_secrets)
        .bind(action.updated_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn action_by_id(&self, id: &str) -> Result<Option<Action>, StoreError> {
        sqlx::query("SELECT * FROM actions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(action_from_row)
            .transpose()
    }

    async fn actions(&self) -> Result<Vec<Action>, StoreError> {
        sqlx::query("SELECT * FROM actions ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(action_from_row)
            .collect()
    }

    async fn delete_action(&self, id: &str) -> Result<(), StoreError> {
        // The versions and bindings go with it (ON DELETE CASCADE), in one statement.
        let done = sqlx::query("DELETE FROM actions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_action_version(&self, version: &ActionVersion) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO action_versions (id, action_id, number, code, runtime, secrets,
               created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&version.id)
        .bind(&version.action_id)
        .bind(version.number)
        .bind(&version.code)
        .bind(&version.runtime)
        .bind(&version.sealed_secrets)
        .bind(version.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn action_versions(&self, action_id: &str) -> Result<Vec<ActionVersion>, StoreError> {
        sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM action_versions v WHERE v.action_id = $1
             ORDER BY v.number DESC"
        ))
        .bind(action_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(version_from_row)
        .collect()
    }

    async fn action_bindings(
        &self,
        trigger: ActionTrigger,
    ) -> Result<Vec<ActionBinding>, StoreError> {
        sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS}, b.action_id FROM action_bindings b
             WHERE b.trigger_id = $1 ORDER BY b.position"
        ))
        .bind(trigger.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(binding_from_row)
        .collect()
    }

    async fn replace_action_bindings(
        &self,
        trigger: ActionTrigger,
        bindings: &[ActionBinding],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM action_bindings WHERE trigger_id = $1")
            .bind(trigger.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        for (position, binding) in bindings.iter().enumerate() {
            sqlx::query(
                "INSERT INTO action_bindings (id, trigger_id, position, action_id, display_name,
                   created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&binding.id)
            .bind(trigger.as_str())
            .bind(position as i64)
            .bind(&binding.action_id)
            .bind(&binding.display_name)
            .bind(binding.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn bound_action_versions(
        &self,
        trigger: ActionTrigger,
    ) -> Result<Vec<(ActionBinding, ActionVersion)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BINDING_COLUMNS}, {VERSION_COLUMNS}
             FROM action_bindings b
             JOIN action_versions v ON v.action_id = b.action_id
             WHERE b.trigger_id = $1
               AND v.number = (SELECT MAX(number) FROM action_versions
                               WHERE action_id = b.action_id)
             ORDER BY b.position"
        ))
        .bind(trigger.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| Ok((binding_from_row(row)?, version_from_row(row)?)))
            .collect()
    }
}
