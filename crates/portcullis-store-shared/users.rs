// Shared by both backends: `crates/portcullis-store-sqlite/src/users.rs` and
// `crates/portcullis-store-postgres/src/users.rs` include this file with the aliases `Row` (the
// backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Users, their metadata and their previous passwords.
//
// It calls none of the backends' lock hooks; only signing keys and refresh-token families
// need them.

use async_trait::async_trait;
use portcullis_store::{Page, StoreError, User, UserRepository};
use sqlx::Row as _;

use crate::{
    backend,
    clients::found,
    like_pattern, limits,
    rows::{from_json, to_json},
};

fn user_from_row(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        user_id: row.try_get("user_id").map_err(backend)?,
        email: row.try_get("email").map_err(backend)?,
        email_verified: row.try_get("email_verified").map_err(backend)?,
        password_hash: row.try_get("password_hash").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        given_name: row.try_get("given_name").map_err(backend)?,
        family_name: row.try_get("family_name").map_err(backend)?,
        nickname: row.try_get("nickname").map_err(backend)?,
        picture: row.try_get("picture").map_err(backend)?,
        blocked: row.try_get("blocked").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
        last_login: row.try_get("last_login").map_err(backend)?,
        logins_count: row.try_get("logins_count").map_err(backend)?,
        user_metadata: from_json(row.try_get::<&str, _>("user_metadata").map_err(backend)?)?,
        app_metadata: from_json(row.try_get::<&str, _>("app_metadata").map_err(backend)?)?,
    })
}

/// Inserts a user's row through `executor` (the pool, or a transaction that also stores
/// something the user must not exist without).
pub(crate) async fn insert_user_row<'e, E>(executor: E, user: &User) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = crate::Db>,
{
    sqlx::query(
        "INSERT INTO users (user_id, email, email_lower, email_verified, password_hash, name,
           nickname, picture, blocked, created_at, updated_at, last_login, logins_count,
           user_metadata, app_metadata, given_name, family_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&user.user_id)
    .bind(&user.email)
    .bind(user.email_key())
    .bind(user.email_verified)
    .bind(&user.password_hash)
    .bind(&user.name)
    .bind(&user.nickname)
    .bind(&user.picture)
    .bind(user.blocked)
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(user.last_login)
    .bind(user.logins_count)
    .bind(to_json(&user.user_metadata)?)
    .bind(to_json(&user.app_metadata)?)
    .bind(&user.given_name)
    .bind(&user.family_name)
    .execute(executor)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl UserRepository for Backend {
    async fn create_user(&self, user: &User) -> Result<(), StoreError> {
        insert_user_row(&self.pool, user).await
    }

    async fn user_by_id(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT * FROM users WHERE email_lower = $1")
            .bind(email.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn list_users(
        &self,
        email_contains: Option<&str>,
        page: Page,
    ) -> Result<(Vec<User>, u64), StoreError> {
        let (limit, offset) = limits(page);
        let pattern = like_pattern(email_contains.unwrap_or(""));
        let rows = sqlx::query(
            "SELECT * FROM users WHERE email_lower LIKE $1 ESCAPE '\\' ORDER BY created_at, user_id
             LIMIT $2 OFFSET $3",
        )
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email_lower LIKE $1 ESCAPE '\\'")
                .bind(&pattern)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        let items = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
        Ok((items, total.unsigned_abs()))
    }

    async fn update_user(&self, user: &User) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE users SET email = $1, email_lower = $2, email_verified = $3, password_hash = $4,
               name = $5, nickname = $6, picture = $7, blocked = $8, updated_at = $9,
               user_metadata = $10, app_metadata = $11, given_name = $12, family_name = $13
             WHERE user_id = $14",
        )
        .bind(&user.email)
        .bind(user.email_key())
        .bind(user.email_verified)
        .bind(&user.password_hash)
        .bind(&user.name)
        .bind(&user.nickname)
        .bind(&user.picture)
        .bind(user.blocked)
        .bind(user.updated_at)
        .bind(to_json(&user.user_metadata)?)
        .bind(to_json(&user.app_metadata)?)
        .bind(&user.given_name)
        .bind(&user.family_name)
        .bind(&user.user_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn replace_password_hash(
        &self,
        user_id: &str,
        expected: &str,
        new: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1 WHERE user_id = $2 AND password_hash = $3",
        )
        .bind(new)
        .bind(user_id)
        .bind(expected)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_login(&self, user_id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET last_login = $1, logins_count = logins_count + 1 WHERE user_id = $2",
        )
        .bind(at)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn password_history(&self, user_id: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT password_hash FROM password_history WHERE user_id = $1
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn add_password_history(
        &self,
        user_id: &str,
        password_hash: &str,
        keep: u32,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query("INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND seq NOT IN
               (SELECT seq FROM password_history WHERE user_id = $1 ORDER BY seq DESC LIMIT $2)",
        )
        .bind(user_id)
        .bind(i64::from(keep))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
