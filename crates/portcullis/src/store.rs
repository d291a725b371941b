//! Where the tenant lives, and opening it: the binary chooses the backend, so the server and
//! the administrative commands work on whichever store they are handed. Opening runs the
//! backend's migrations.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use portcullis_store::Store;
use portcullis_store_postgres::{PgStore, PoolLimits};
use portcullis_store_sqlite::SqliteStore;
use portcullis_types::Secret;

/// The SQLite database in the data directory when no database URL is given.
const DEFAULT_DATABASE: &str = "portcullis.db";

/// The store's location: a database URL when one is given, else the data directory.
#[derive(Clone, Debug)]
pub struct StoreLocation {
    /// Holds the SQLite database (by default) and the generated master key.
    pub data_dir: PathBuf,
    /// `postgres://...`, `postgresql://...` or `sqlite://PATH`. A PostgreSQL URL carries the
    /// database password, so it is a secret that never prints.
    pub database_url: Option<Secret>,
    /// How long a PostgreSQL statement waits for a connection (and connecting, which sqlx
    /// bounds by the same deadline) before it fails as unavailable: a request then gets a 503.
    pub acquire_timeout: Duration,
}

impl StoreLocation {
    pub fn uses_postgres(&self) -> bool {
        self.database_url
            .as_ref()
            .is_some_and(|url| is_postgres_url(url.expose_str()))
    }

    /// What the store is, for people: never the URL, which may hold a password.
    pub fn describe(&self) -> String {
        if self.uses_postgres() {
            "postgresql".to_owned()
        } else {
            self.data_dir.display().to_string()
        }
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens (and migrates) the store at `location`.
pub async fn open_store(location: &StoreLocation) -> anyhow::Result<Arc<dyn Store>> {
    let url = location.database_url.as_ref().map(Secret::expose_str);
    match url {
        Some(url) if is_postgres_url(url) => {
            let store =
                PgStore::connect_with_timeout(url, PoolLimits::default(), location.acquire_timeout)
                    .await
                    .context("opening the PostgreSQL store")?;
            Ok(Arc::new(store))
        }
        Some(url) if url.starts_with("sqlite://") => {
            let path = std::path::Path::new(url.trim_start_matches("sqlite://"));
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let store = SqliteStore::open(path)
                .await
                .context("opening the SQLite store")?;
            Ok(Arc::new(store))
        }
        // Only the scheme is shown: the rest of a URL may hold a password.
        Some(other) => anyhow::bail!(
            "unsupported database URL scheme in {:?}: use postgres://... or sqlite://PATH",
            other.split("://").next().unwrap_or_default()
        ),
        None => {
            let data_dir = &location.data_dir;
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating data directory {}", data_dir.display()))?;
            let store = SqliteStore::open(&data_dir.join(DEFAULT_DATABASE))
                .await
                .context("opening the SQLite store")?;
            Ok(Arc::new(store))
        }
    }
}
