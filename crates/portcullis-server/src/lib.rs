//! The Portcullis HTTP server: the Auth0-compatible Authentication API and hosted login pages.
//!
//! [`Application::build`] opens the store, makes sure signing keys exist, binds the listener
//! and returns an application the binary runs and the tests spawn on port 0.

pub mod audit;
pub mod dashboard;
pub mod error;
pub mod management;
pub mod master_key;
pub mod metrics;
pub mod routes;
pub mod session;
pub mod settings;
pub mod shapes;
pub mod state;
pub mod templates;
pub mod tenant_cache;
pub mod tokens;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use portcullis_core::{
    keys::{KeyCipher, KeyRing},
    secrets::SecretHasher,
    Clock,
};
use portcullis_store::Store;
use portcullis_store_postgres::PgStore;
use portcullis_store_sqlite::SqliteStore;

pub use settings::Settings;
pub use state::AppState;

use crate::state::{AppInner, KeyCache, OriginCache};

/// Opens the store `settings` name: PostgreSQL when `database_url` is a `postgres://` (or
/// `postgresql://`) URL, otherwise SQLite (`database_url` `sqlite://PATH`, or by default
/// `portcullis.db` in the data directory). Migrations run here, for either backend. This is
/// the only place that picks a backend.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    match settings.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PgStore::connect(url)
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
        Some(other) => anyhow::bail!(
            "unsupported database URL scheme in {:?}: use postgres://... or sqlite://PATH",
            other.split("://").next().unwrap_or_default()
        ),
        None => {
            std::fs::create_dir_all(&settings.data_dir).with_context(|| {
                format!("creating data directory {}", settings.data_dir.display())
            })?;
            let store = SqliteStore::open(&settings.data_dir.join("portcullis.db"))
                .await
                .context("opening the SQLite store")?;
            Ok(Arc::new(store))
        }
    }
}

/// A built server, bound and ready to run.
pub struct Application {
    listener: std::net::TcpListener,
    state: AppState,
    bootstrap: management::bootstrap::Outcome,
}

impl Application {
    /// Builds the application on `store`, listening on `settings.listen`: keys are created on
    /// first start.
    pub async fn build(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind(settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        Self::build_on(listener, settings, store, clock).await
    }

    /// Builds the application on an already bound listener (tests bind port 0 first, to put
    /// the port in the issuer).
    pub async fn build_on(
        listener: std::net::TcpListener,
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let key_cipher = KeyCipher::new(&settings.master_key)?;
        portcullis_core::keys::ensure_initialized(store.as_ref(), clock.as_ref(), &key_cipher)
            .await
            .context("initialising signing keys")?;
        let hasher = SecretHasher::new(&settings.master_key);
        let bootstrap =
            management::bootstrap::run(store.as_ref(), &hasher, clock.as_ref(), &settings)
                .await
                .context("bootstrapping the Management API")?;
        let ring = KeyRing::from_keys(&store.live_keys().await?, &key_cipher, clock.now())
            .context("loading the signing keys")?;
        let origins = store.all_client_origins().await?;
        listener.set_nonblocking(true)?;
        let state = AppState::new(AppInner {
            hasher,
            key_cipher,
            keys: KeyCache::new(ring),
            origins: OriginCache::new(
                origins
                    .into_iter()
                    .map(|o| o.trim_end_matches('/').to_owned())
                    .collect(),
            ),
            templates: templates::Templates::new(),
            metrics: metrics::Metrics::new(),
            deferred_log: audit::DeferredLog::spawn(store.clone()),
            tenant: tenant_cache::TenantCache::default(),
            store,
            clock,
            settings,
        });
        dashboard::bootstrap_admin(&state).await?;
        Ok(Application {
            listener,
            state,
            bootstrap,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What the Management API bootstrap did at build.
    pub fn bootstrap_outcome(&self) -> &management::bootstrap::Outcome {
        &self.bootstrap
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let refresh_every = Duration::from_secs(state.settings.cache_refresh_seconds.max(1));
        let refresher = tokio::spawn({
            let state = state.clone();
            async move {
                let mut interval = tokio::time::interval(refresh_every);
                loop {
                    interval.tick().await;
                    if let Err(error) = state.refresh_caches().await {
                        tracing::warn!(%error, "cache refresh failed; keeping the previous copy");
                    }
                }
            }
        });
        let app = routes::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let result = match &state.settings.tls {
            Some(tls) => {
                // Two TLS stacks are linked (ours and the HTTP client's); choose aws-lc-rs, the
                // crypto of the rest of the server. An error only means it is already chosen.
                let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .context("loading the TLS certificate and key")?;
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    stopper.graceful_shutdown(Some(Duration::from_secs(10)));
                });
                axum_server::from_tcp_rustls(self.listener, config)
                    .handle(handle)
                    .serve(app)
                    .await
                    .map_err(anyhow::Error::from)
            }
            None => {
                let listener = tokio::net::TcpListener::from_std(self.listener)?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                    .map_err(anyhow::Error::from)
            }
        };
        refresher.abort();
        state.deferred_log.flush().await;
        result
    }
}
