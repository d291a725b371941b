// Shared by both backends: `crates/portcullis-store-sqlite/src/federation.rs` and
// `crates/portcullis-store-postgres/src/federation.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// Connections to other identity providers, the sign-ins at them under way and users'
// identities there. A transaction is taken by one DELETE ... RETURNING, so two replicas (or a
// replayed callback) cannot both finish it; no lock hook is needed.

use async_trait::async_trait;
use portcullis_store::{
    FederatedIdentity, FederationRepository, StoreError, UpstreamConnection, UpstreamTransaction,
    User,
};
use sqlx::Row as _;

use crate::{
    backend,
    clients::found,
    rows::{from_json, parse_stored, to_json},
    users::insert_user_row,
};

fn connection_from_row(row: &Row) -> Result<UpstreamConnection, StoreError> {
    Ok(UpstreamConnection {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        display_name: row.try_get("display_name").map_err(backend)?,
        strategy: parse_stored(row.try_get("strategy").map_err(backend)?)?,
        options: from_json(row.try_get::<&str, _>("options").map_err(backend)?)?,
        sealed_client_secret: row.try_get("client_secret").map_err(backend)?,
        enabled_clients: from_json(row.try_get::<&str, _>("enabled_clients").map_err(backend)?)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn transaction_from_row(row: &Row) -> Result<UpstreamTransaction, StoreError> {
    Ok(UpstreamTransaction {
        state_hash: row.try_get("state_hash").map_err(backend)?,
        connection_id: row.try_get("connection_id").map_err(backend)?,
        nonce: row.try_get("nonce").map_err(backend)?,
        pkce_verifier: row.try_get("pkce_verifier").map_err(backend)?,
        authorize_query: row.try_get("authorize_query").map_err(backend)?,
        expires_at: row.try_get("expires_at").map_err(backend)?,
    })
}

fn identity_from_row(row: &Row) -> Result<FederatedIdentity, StoreError> {
    Ok(FederatedIdentity {
        user_id: row.try_get("user_id").map_err(backend)?,
        provider: parse_stored(row.try_get("provider").map_err(backend)?)?,
        connection: row.try_get("connection").map_err(backend)?,
        upstream_id: row.try_get("upstream_id").map_err(backend)?,
        profile: from_json(row.try_get::<&str, _>("profile").map_err(backend)?)?,
        sealed_tokens: row.try_get("tokens").map_err(backend)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

/// Inserts an identity's row, on the pool or within a transaction.
async fn insert_identity<'e>(
    executor: impl sqlx::Executor<'e, Database = crate::Db>,
    identity: &FederatedIdentity,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_identities (connection, upstream_id, user_id, provider, profile, tokens,
           created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&identity.connection)
    .bind(&identity.upstream_id)
    .bind(&identity.user_id)
    .bind(identity.provider.as_str())
    .bind(to_json(&identity.profile)?)
    .bind(&identity.sealed_tokens)
    .bind(identity.created_at)
    .execute(executor)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl FederationRepository for Backend {
    async fn insert_upstream_connection(
        &self,
        connection: &UpstreamConnection,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO upstream_connections (id, name, display_name, strategy, options,
               client_secret, enabled_clients, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&connection.id)
        .bind(&connection.name)
        .bind(&connection.display_name)
        .bind(connection.strategy.as_str())
        .bind(to_json(&connection.options)?)
        .bind(&connection.sealed_client_secret)
        .bind(to_json(&connection.enabled_clients)?)
        .bind(connection.created_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn update_upstream_connection(
        &self,
        connection: &UpstreamConnection,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE upstream_connections SET name = $1, display_name = $2, options = $3,
               client_secret = $4, enabled_clients = $5
             WHERE id = $6",
        )
        .bind(&connection.name)
        .bind(&connection.display_name)
        .bind(to_json(&connection.options)?)
        .bind(&connection.sealed_client_secret)
        .bind(to_json(&connection.enabled_clients)?)
        .bind(&connection.id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn delete_upstream_connection(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM upstream_connections WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn upstream_connections(&self) -> Result<Vec<UpstreamConnection>, StoreError> {
        sqlx::query("SELECT * FROM upstream_connections ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(connection_from_row)
            .collect()
    }

    async fn upstream_connection_by_id(
        &self,
        id: &str,
    ) -> Result<Option<UpstreamConnection>, StoreError> {
        connection_where(&self.pool, "SELECT * FROM upstream_connections WHERE id = $1", id).await
    }

    async fn upstream_connection_by_name(
        &self,
        name: &str,
    ) -> Result<Option<UpstreamConnection>, StoreError> {
        connection_where(&self.pool, "SELECT * FROM upstream_connections WHERE name = $1", name)
            .await
    }

    async fn insert_upstream_transaction(
        &self,
        transaction: &UpstreamTransaction,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM upstream_transactions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query(
            "INSERT INTO upstream_transactions (state_hash, connection_id, nonce, pkce_verifier,
               authorize_query, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&transaction.state_hash)
        .bind(&transaction.connection_id)
        .bind(&transaction.nonce)
        .bind(&transaction.pkce_verifier)
        .bind(&transaction.authorize_query)
        .bind(transaction.expires_at)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn take_upstream_transaction(
        &self,
        state_hash: &[u8],
        now: i64,
    ) -> Result<Option<UpstreamTransaction>, StoreError> {
        let taken = sqlx::query("DELETE FROM upstream_transactions WHERE state_hash = $1 RETURNING *")
            .bind(state_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(transaction_from_row)
            .transpose()?;
        Ok(taken.filter(|transaction| transaction.expires_at > now))
    }

    async fn federated_identity(
        &self,
        connection: &str,
        upstream_id: &str,
    ) -> Result<Option<FederatedIdentity>, StoreError> {
        sqlx::query("SELECT * FROM user_identities WHERE connection = $1 AND upstream_id = $2")
            .bind(connection)
            .bind(upstream_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .as_ref()
            .map(identity_from_row)
            .transpose()
    }

    async fn federated_identities(
        &self,
        user_id: &str,
    ) -> Result<Vec<FederatedIdentity>, StoreError> {
        sqlx::query(
            "SELECT * FROM user_identities WHERE user_id = $1
             ORDER BY created_at, connection, upstream_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(identity_from_row)
        .collect()
    }

    async fn create_federated_user(
        &self,
        user: &User,
        identity: &FederatedIdentity,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        insert_user_row(&mut *tx, user).await?;
        insert_identity(&mut *tx, identity).await?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn insert_federated_identity(
        &self,
        identity: &FederatedIdentity,
    ) -> Result<(), StoreError> {
        insert_identity(&self.pool, identity).await
    }

    async fn update_federated_identity(
        &self,
        identity: &FederatedIdentity,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE user_identities SET profile = $1, tokens = $2
             WHERE connection = $3 AND upstream_id = $4",
        )
        .bind(to_json(&identity.profile)?)
        .bind(&identity.sealed_tokens)
        .bind(&identity.connection)
        .bind(&identity.upstream_id)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }

    async fn link_users(&self, primary: &str, secondary: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let primary_exists: Option<String> =
            sqlx::query_scalar("SELECT user_id FROM users WHERE user_id = $1")
                .bind(primary)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if primary_exists.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE user_identities SET user_id = $1 WHERE user_id = $2")
            .bind(primary)
            .bind(secondary)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let deleted = sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(secondary)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        found(deleted.rows_affected())?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn unlink_federated_identity(
        &self,
        user_id: &str,
        connection: &str,
        upstream_id: &str,
        new_user: &User,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        insert_user_row(&mut *tx, new_user).await?;
        let moved = sqlx::query(
            "UPDATE user_identities SET user_id = $1
             WHERE user_id = $2 AND connection = $3 AND upstream_id = $4",
        )
        .bind(&new_user.user_id)
        .bind(user_id)
        .bind(connection)
        .bind(upstream_id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if moved.rows_affected() == 0 {
            tx.rollback().await.map_err(backend)?;
            return Ok(false);
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }
}

/// The one connection `query` finds by its single parameter `key` (an id or a name).
async fn connection_where(
    pool: &sqlx::Pool<crate::Db>,
    query: &'static str,
    key: &str,
) -> Result<Option<UpstreamConnection>, StoreError> {
    sqlx::query(query)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(connection_from_row)
        .transpose()
}
