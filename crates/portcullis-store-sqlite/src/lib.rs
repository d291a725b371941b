//! The embedded SQLite implementation of the Portcullis store: one file under the data
//! directory, WAL mode, versioned migrations run at open.
//!
//! This crate and its PostgreSQL sibling are the only places that contain SQL. Row shapes stay
//! private; every method maps rows into `portcullis_store` types.

mod admin_sessions;
mod audit;
mod clients;
mod keys;
mod protocol;
mod rbac;
mod rows;
mod users;

use std::{path::Path, str::FromStr, time::Duration};

use portcullis_store::StoreError;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A Portcullis store on an SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(backend)?;
        MIGRATOR.run(&pool).await.map_err(backend)?;
        Ok(SqliteStore { pool })
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a backend failure to `StoreError`, turning unique-constraint violations into conflicts.
pub(crate) fn backend(error: impl Into<BackendError>) -> StoreError {
    match error.into() {
        BackendError::Sqlx(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // Only ever raised by an assignment naming a role, user or API that does not exist.
        BackendError::Sqlx(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            StoreError::NotFound
        }
        BackendError::Sqlx(other) => StoreError::Backend(other.to_string()),
        BackendError::Migrate(other) => StoreError::Backend(other.to_string()),
        BackendError::Json(other) => StoreError::Backend(format!("stored JSON: {other}")),
    }
}

pub(crate) enum BackendError {
    Sqlx(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
    Json(serde_json::Error),
}

impl From<sqlx::Error> for BackendError {
    fn from(e: sqlx::Error) -> Self {
        BackendError::Sqlx(e)
    }
}
impl From<sqlx::migrate::MigrateError> for BackendError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        BackendError::Migrate(e)
    }
}
impl From<serde_json::Error> for BackendError {
    fn from(e: serde_json::Error) -> Self {
        BackendError::Json(e)
    }
}

/// Page bounds as SQL parameters.
pub(crate) fn limits(page: portcullis_store::Page) -> (i64, i64) {
    (i64::from(page.per_page), page.offset())
}

/// A case-insensitive LIKE pattern matching text that contains `needle`; LIKE wildcards in the
/// needle match literally (use with `ESCAPE '\\'` on a lower-cased column).
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut escaped = String::new();
    for c in needle.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("%{escaped}%")
}
