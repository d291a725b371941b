// Shared by both backends: `crates/portcullis-store-sqlite/src/connection.rs` and
// `crates/portcullis-store-postgres/src/connection.rs` include this file with the aliases `Row`
// (the backend's row type) and `Backend` (its store) in scope. Placeholders are `$N`, which
// PostgreSQL and SQLite both read, so one text of SQL serves both.
//
// The database connection's settings: one row, inserted by the migration that made the table.
//
// It calls none of the backends' lock hooks: the row is replaced by one statement.

use async_trait::async_trait;
use portcullis_store::{
    ConnectionRepository, DatabaseConnection, PasswordDictionary, PasswordHistory, StoreError,
};
use sqlx::Row as _;

use crate::{
    backend,
    clients::found,
    rows::{from_json, parse_stored, to_json},
};

/// A count stored as a signed integer, read back as the model's unsigned one.
fn count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Backend(format!("stored count out of range: {value}")))
}

fn connection_from_row(row: &Row) -> Result<DatabaseConnection, StoreError> {
    Ok(DatabaseConnection {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        disable_signup: row.try_get("disable_signup").map_err(backend)?,
        password_policy: parse_stored(row.try_get("password_policy").map_err(backend)?)?,
        min_length: row
            .try_get::<Option<i64>, _>("min_length")
            .map_err(backend)?
            .map(count)
            .transpose()?,
        dictionary: PasswordDictionary {
            enable: row.try_get("dictionary_enable").map_err(backend)?,
            entries: from_json(row.try_get::<&str, _>("dictionary_entries").map_err(backend)?)?,
        },
        no_personal_info: row.try_get("no_personal_info").map_err(backend)?,
        history: PasswordHistory {
            enable: row.try_get("history_enable").map_err(backend)?,
            size: count(row.try_get("history_size").map_err(backend)?)?,
        },
    })
}

#[async_trait]
impl ConnectionRepository for Backend {
    async fn database_connection(&self) -> Result<DatabaseConnection, StoreError> {
        let row = sqlx::query("SELECT * FROM database_connections ORDER BY name LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::Backend("the database connection's row is missing".into()))?;
        connection_from_row(&row)
    }

    async fn update_database_connection(
        &self,
        connection: &DatabaseConnection,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE database_connections SET id = $1, name = $2, disable_signup = $3,
               password_policy = $4, min_length = $5, dictionary_enable = $6,
               dictionary_entries = $7, no_personal_info = $8, history_enable = $9,
               history_size = $10",
        )
        .bind(&connection.id)
        .bind(&connection.name)
        .bind(connection.disable_signup)
        .bind(connection.password_policy.as_str())
        .bind(connection.min_length.map(i64::from))
        .bind(connection.dictionary.enable)
        .bind(to_json(&connection.dictionary.entries)?)
        .bind(connection.no_personal_info)
        .bind(connection.history.enable)
        .bind(i64::from(connection.history.size))
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        found(done.rows_affected())
    }
}
