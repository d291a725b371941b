//! The PostgreSQL implementation of the Portcullis store, for several replicas sharing one
//! tenant: versioned migrations (the same files as SQLite's) run at open under sqlx's
//! migration lock, and every race between replicas is decided by the database — conditional
//! UPDATE ... RETURNING for codes and refresh tokens, unique indexes and a transaction-level
//! advisory lock for signing keys, an advisory lock per refresh-token family so that a
//! revocation and the insertion of a successor never interleave.
//!
//! This crate and its SQLite sibling are the only places that contain SQL. Row shapes stay
//! private; every method maps rows into `portcullis_store` types.
//!
//! The repositories are written once in `crates/portcullis-store-shared` and included by the
//! small modules below; what is this backend's own is here: connecting the pool, the
//! migrations, the type aliases the shared code reads, and the lock hook, which takes the
//! advisory locks named above.

mod actions;
mod admin_sessions;
mod audit;
mod clients;
mod common;
mod connection;
mod consents;
mod dpop;
mod emails;
mod federation;
mod jobs;
mod keys;
mod maintenance;
mod mfa;
mod mfa_tokens;
mod protocol;
mod rbac;
mod rows;
mod tenant;
mod tickets;
mod users;
mod webauthn;

use std::{str::FromStr, time::Duration};

use portcullis_store::StoreError;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

pub(crate) use common::{backend, like_pattern, limits};

/// The sqlx database of this backend, for the lock hook the shared code calls.
pub(crate) type Db = sqlx::Postgres;

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

/// How long a statement waits for a connection by default: a connection from the pool, or a
/// new one (sqlx connects within the same deadline, so this bounds connecting too). Short, so
/// that a request meets an unreachable database with a prompt 503 rather than a hang.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

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
        Self::connect_with_timeout(url, limits, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`PgStore::connect_with`] with an explicit acquire timeout (see
    /// [`DEFAULT_ACQUIRE_TIMEOUT`]); past it a statement fails with
    /// `StoreError::Unavailable`.
    pub async fn connect_with_timeout(
        url: &str,
        limits: PoolLimits,
        acquire_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(limits.max_connections)
            .min_connections(limits.min_connections)
            .acquire_timeout(acquire_timeout)
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

/// Advisory-lock namespace of the signing keys (an arbitrary constant: "PCKEYS").
pub(crate) const KEYS_LOCK: i64 = 0x5043_4b45_5953;

// The lock hook: transaction-level advisory locks, released when the transaction ends. The
// shared code calls each one before the first statement that depends on it.

/// Serialises key initialisation and rotation across every process on the database, until the
/// transaction ends.
pub(crate) async fn lock_keys(tx: &mut sqlx::Transaction<'_, Db>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(KEYS_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Serialises the insertion of a family's tokens with its revocation, until the transaction
/// ends.
pub(crate) async fn lock_family(
    tx: &mut sqlx::Transaction<'_, Db>,
    family_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(family_id)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Locks every family the user holds at the client, as [`lock_family`] does for one.
pub(crate) async fn lock_user_client_families(
    tx: &mut sqlx::Transaction<'_, Db>,
    user_id: &str,
    client_id: &str,
) -> Result<(), StoreError> {
    let families: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT family_id FROM refresh_tokens
         WHERE user_id = $1 AND client_id = $2 ORDER BY family_id",
    )
    .bind(user_id)
    .bind(client_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(backend)?;
    // In a fixed order, so that two such revocations cannot deadlock.
    for family in &families {
        lock_family(tx, family).await?;
    }
    Ok(())
}
