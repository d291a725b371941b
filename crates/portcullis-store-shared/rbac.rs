// Shared by both backends: `crates/portcullis-store-sqlite/src/rbac.rs` and
// `crates/portcullis-store-postgres/src/rbac.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Roles, permissions and assignments (RBAC), and access rules.
//
// It calls none of the backends' lock hooks; only signing keys and refresh-token families
// need them.

use async_trait::async_trait;
use portcullis_store::{
    AccessRule, AccessRuleRepository, Page, Permission, Role, RoleRepository, StoreError,
};
use sqlx::Row as _;

use crate::{
    backend,
    clients::found,
    like_pattern, limits,
    rows::{from_json, to_json},
};

fn role_from_row(row: &Row) -> Result<Role, StoreError> {
    Ok(Role {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn permission_from_row(row: &Row) -> Result<Permission, StoreError> {
    Ok(Permission {
        resource_server_identifier: row.try_get("resource_server_identifier").map_err(backend)?,
        permission_name: row.try_get("permission_name").map_err(backend)?,
    })
}

fn rule_from_row(row: &Row) -> Result<AccessRule, StoreError> {
    let condition: String = row.try_get("condition").map_err(backend)?;
    Ok(AccessRule {
        id: row.try_get("id").map_err(backend)?,
        resource_server_id: row.try_get("resource_server_id").map_err(backend)?,
        scope: row.try_get("scope").map_err(backend)?,
        condition: from_json(&condition)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

/// `NotFound` unless a row with `id` exists in `table` (`table` and `column` are ours).
async fn exists(store: &Backend, table: &str, column: &str, id: &str) -> Result<(), StoreError> {
    let found: Option<i32> =
        sqlx::query_scalar(&format!("SELECT 1 FROM {table} WHERE {column} = $1"))
            .bind(id)
            .fetch_optional(&store.pool)
            .await
            .map_err(backend)?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Runs `sql` (binding `$1` owner, `$2` API identifier, `$3` permission name) once per
/// permission, all in one transaction.
async fn for_each_permission(
    store: &Backend,
    sql: &str,
    owner: &str,
    permissions: &[Permission],
) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await.map_err(backend)?;
    for permission in permissions {
        sqlx::query(sql)
            .bind(owner)
            .bind(&permission.resource_server_identifier)
            .bind(&permission.permission_name)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

/// Runs `sql` (binding `$1` user id, `$2` role id) once per role, all in one transaction.
async fn for_each_role(
    store: &Backend,
    sql: &str,
    user_id: &str,
    role_ids: &[String],
) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await.map_err(backend)?;
    for role_id in role_ids {
        sqlx::query(sql)
            .bind(user_id)
            .bind(role_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

#[async_trait]
impl RoleRepository for Backend {
    async fn create_role(&self, role: &Role) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO roles (id, name, name_lower, description, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&role.id)
        .bind(&role.name)
        .bind(role.name.to_lowercase())
        .bind(&role.description)
        .bind(role.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn role_by_id(&self, id: &str) -> Result<Option<Role>, StoreError> {
        sqlx::query("SELECT * FROM roles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(role_from_row)
            .transpose()
    }

    async fn list_roles(
        &self,
        name_filter: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Role>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let pattern = like_pattern(name_filter.unwrap_or(""));
        let rows = sqlx::query(
            "SELECT * FROM roles WHERE name_lower LIKE $1 ESCAPE '\\' ORDER BY name_lower, id
             LIMIT $2 OFFSET $3",
        )
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM roles WHERE name_lower LIKE $1 ESCAPE '\\'")
                .bind(&pattern)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        let items = rows.iter().map(role_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn update_role(&self, role: &Role) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE roles SET name = $1, name_lower = $2, description = $3 WHERE id = $4",
        )
        .bind(&role.name)
        .bind(role.name.to_lowercase())
        .bind(&role.description)
        .bind(&role.id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_role(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM roles WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn role_permissions(&self, role_id: &str) -> Result<Vec<Permission>, StoreError> {
        exists(self, "roles", "id", role_id).await?;
        sqlx::query(
            "SELECT resource_server_identifier, permission_name FROM role_permissions
             WHERE role_id = $1 ORDER BY resource_server_identifier, permission_name",
        )
        .bind(role_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn add_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> Result<(), StoreError> {
        for_each_permission(
            self,
            "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            role_id,
            permissions,
        )
        .await
    }

    async fn remove_role_permissions(
        &self,
        role_id: &str,
        permissions: &[Permission],
    ) -> Result<(), StoreError> {
        for_each_permission(
            self,
            "DELETE FROM role_permissions WHERE role_id = $1
                   AND resource_server_identifier = $2 AND permission_name = $3",
            role_id,
            permissions,
        )
        .await
    }

    async fn role_users(
        &self,
        role_id: &str,
        page: Page,
    ) -> Result<(Vec<String>, u64), StoreError> {
        exists(self, "roles", "id", role_id).await?;
        let (limit, offset) = limits(page);
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM user_roles WHERE role_id = $1 ORDER BY user_id
             LIMIT $2 OFFSET $3",
        )
        .bind(role_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_roles WHERE role_id = $1")
            .bind(role_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok((users, total.unsigned_abs()))
    }

    async fn user_roles(&self, user_id: &str) -> Result<Vec<Role>, StoreError> {
        exists(self, "users", "user_id", user_id).await?;
        sqlx::query(
            "SELECT roles.* FROM roles JOIN user_roles ON user_roles.role_id = roles.id
             WHERE user_roles.user_id = $1 ORDER BY roles.name_lower, roles.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(role_from_row)
        .collect()
    }

    async fn assign_user_roles(
        &self,
        user_id: &str,
        role_ids: &[String],
    ) -> Result<(), StoreError> {
        for_each_role(
            self,
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            role_ids,
        )
        .await
    }

    async fn remove_user_roles(
        &self,
        user_id: &str,
        role_ids: &[String],
    ) -> Result<(), StoreError> {
        for_each_role(
            self,
            "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
            user_id,
            role_ids,
        )
        .await
    }

    async fn user_permissions(&self, user_id: &str) -> Result<Vec<Permission>, StoreError> {
        exists(self, "users", "user_id", user_id).await?;
        sqlx::query(
            "SELECT resource_server_identifier, permission_name FROM user_permissions
             WHERE user_id = $1 ORDER BY resource_server_identifier, permission_name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn add_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> Result<(), StoreError> {
        for_each_permission(
            self,
            "INSERT INTO user_permissions (user_id, resource_server_identifier, permission_name)
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            user_id,
            permissions,
        )
        .await
    }

    async fn remove_user_permissions(
        &self,
        user_id: &str,
        permissions: &[Permission],
    ) -> Result<(), StoreError> {
        for_each_permission(
            self,
            "DELETE FROM user_permissions WHERE user_id = $1
                   AND resource_server_identifier = $2 AND permission_name = $3",
            user_id,
            permissions,
        )
        .await
    }

    async fn effective_permissions(
        &self,
        user_id: &str,
        identifier: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT permission_name FROM user_permissions
               WHERE user_id = $1 AND resource_server_identifier = $2
             UNION
             SELECT role_permissions.permission_name FROM role_permissions
               JOIN user_roles ON user_roles.role_id = role_permissions.role_id
               WHERE user_roles.user_id = $1 AND role_permissions.resource_server_identifier = $2
             ORDER BY 1",
        )
        .bind(user_id)
        .bind(identifier)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

#[async_trait]
impl AccessRuleRepository for Backend {
    async fn create_access_rule(&self, rule: &AccessRule) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO access_rules (id, resource_server_id, scope, condition, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&rule.id)
        .bind(&rule.resource_server_id)
        .bind(&rule.scope)
        .bind(to_json(&rule.condition)?)
        .bind(rule.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn access_rules(&self, resource_server_id: &str) -> Result<Vec<AccessRule>, StoreError> {
        sqlx::query(
            "SELECT * FROM access_rules WHERE resource_server_id = $1 ORDER BY created_at, id",
        )
        .bind(resource_server_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(rule_from_row)
        .collect()
    }

    async fn delete_access_rule(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM access_rules WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }
}
