//! The embedded SQLite implementation of the Portcullis store: one file under the data
//! directory, WAL mode, versioned migrations run at open.
//!
//! This crate and its PostgreSQL sibling are the only places that contain SQL. Row shapes stay
//! private; every method maps rows into `portcullis_store` types.
//!
//! The repositories are written once in `crates/portcullis-store-shared` and included by the
//! small modules below; what is this backend's own is here: opening the pool, the migrations,
//! the type aliases the shared code reads, and the lock hook, which on SQLite takes no lock.

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
mod stats;
mod tenant;
mod tickets;
mod users;
mod webauthn;

use std::{path::Path, str::FromStr, time::Duration};

use portcullis_store::StoreError;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

pub(crate) use common::{backend, like_pattern, limits};
pub use stats::Composition;

/// The sqlx database of this backend, for the lock hook the shared code calls.
pub(crate) type Db = sqlx::Sqlite;

/// The migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The bytes the WAL file is cut back to after a checkpoint (`PRAGMA journal_size_limit`).
const WAL_SIZE_LIMIT: u64 = 4 * 1024 * 1024;

/// A Portcullis store on an SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        create_private(path)
            .map_err(|e| StoreError::Backend(format!("creating {}: {e}", path.display())))?;
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // A checkpoint that empties the WAL also truncates it to this size: the file does
            // not stay at its busiest peak.
            .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
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

    /// SQLite's own consistency check of the whole file (`PRAGMA integrity_check`): `ok`, or
    /// the problems it found, one a line.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(lines.join("\n"))
    }

    /// Closes the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// The lock hook. SQLite has one writer at a time: a transaction takes the write lock with its
// first write and holds it to the end, so the transactions that PostgreSQL serialises with
// advisory locks (key initialisation and rotation, a refresh-token family's insertions and
// revocations) are already serialised here, and the hook does nothing. It must stay that way:
// a read before the first write of a deferred transaction could fail it with
// SQLITE_BUSY_SNAPSHOT when another writer commits in between.

/// Key initialisation and rotation: nothing to lock, their first statement is a write.
pub(crate) async fn lock_keys(_tx: &mut sqlx::Transaction<'_, Db>) -> Result<(), StoreError> {
    Ok(())
}

/// A refresh-token family: nothing to lock, the insert or revocation is the first statement.
pub(crate) async fn lock_family(
    _tx: &mut sqlx::Transaction<'_, Db>,
    _family_id: &str,
) -> Result<(), StoreError> {
    Ok(())
}

/// A user's families at a client: nothing to lock, and nothing to read before the revocation.
pub(crate) async fn lock_user_client_families(
    _tx: &mut sqlx::Transaction<'_, Db>,
    _user_id: &str,
    _client_id: &str,
) -> Result<(), StoreError> {
    Ok(())
}

/// Creates the database file readable by its owner only, unless it exists: it holds password
/// hashes and sealed keys. SQLite gives its `-wal` and `-shm` files the database's permissions.
#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
