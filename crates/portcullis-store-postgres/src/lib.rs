//! The PostgreSQL implementation of the Portcullis store, for several replicas sharing one
//! tenant: versioned migrations (the same files as SQLite's) run at open under sqlx's
//! migration lock, and every race between replicas is decided by the database — conditional
//! UPDATE ... RETURNING for codes and refresh tokens, unique indexes and a transaction-level
//! advisory lock for signing keys, an advisory lock per refresh-token family so that a
//! revocation and the insertion of a successor never interleave.
//!
//! This crate and its SQLite sibling are the only places that contain SQL. Row shapes stay
//! private; every method maps rows into `portcullis_store` types.

mod admin_sessions;
mod audit;
mod clients;
mod keys;
mod protocol;
mod rbac;
mod rows;
mod users;

use std::{str::FromStr, time::Duration};

use portcullis_store::StoreError;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connection pool limits of one process.
#[derive(Clone, Copy, Debug)]
pub struct PoolLimits {
    pub max_connections: u32,
    pub min_connections: u32,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_connections: 16,
            min_connections: 1,
        }
    }
}

/// A Portcullis store on a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the schema
    /// up to date. Replicas starting at once are serialised by the migration lock.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, PoolLimits::default()).await
    }

    /// [`PgStore::connect`] with explicit pool limits.
    pub async fn connect_with(url: &str, limits: PoolLimits) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(limits.max_connections)
            .min_connections(limits.min_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(backend)?;
        MIGRATOR.run(&pool).await.map_err(backend)?;
        Ok(PgStore { pool })
    }

    /// Closes the pool.
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

/// Advisory-lock namespace of the signing keys (an arbitrary constant: "PCKEYS").
pub(crate) const KEYS_LOCK: i64 = 0x5043_4b45_5953;

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
