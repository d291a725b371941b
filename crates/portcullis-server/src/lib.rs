//! The Portcullis HTTP server: the Auth0-compatible Authentication API and hosted login pages.
//!
//! [`Application::build`] takes an opened store, makes sure signing keys exist, bootstraps the
//! administration (the Management API's client, the first administrator), binds the listener
//! and returns an application the binary runs and the tests spawn on port 0. The protocol
//! endpoints live here (`routes`); the Management API and the dashboard are
//! `portcullis-admin`'s, nested under `/api/v2` and `/dashboard`.

pub(crate) mod actions;
pub mod audit;
pub mod error;
pub mod listener;
pub mod mail;
pub mod mail_sender;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod settings;
pub mod state;
pub mod sweeper;
pub mod templates;
pub mod tenant_cache;
pub mod upstream;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use portcullis_admin::{AdminInner, AdminSettings, AdminState};
use portcullis_core::{
    admin,
    audit::StoreAudit,
    email::Outbox,
    keys::{KeyCache, KeyCipher, KeyRing},
    password::Passwords,
    secrets::{Mac, SecretHasher},
    sign_in::SignIn,
    Clock,
};
use portcullis_store::Store;

pub use portcullis_admin::management::bootstrap::Outcome as BootstrapOutcome;
pub use settings::Settings;
pub use state::AppState;

use crate::{
    listener::serve,
    rate_limit::Limiters,
    state::{AppInner, OriginCache},
};

/// How long a graceful shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often the rate limiters forget addresses that have been quiet.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

/// A built server, bound and ready to run.
pub struct Application {
    listener: std::net::TcpListener,
    /// `/metrics` on its own address (`Settings::metrics_listen`).
    metrics_listener: Option<std::net::TcpListener>,
    state: AppState,
    bootstrap: BootstrapOutcome,
    /// The SMTP client of the email sender, when an SMTP server is configured.
    smtp: Option<mail::transport::Smtp>,
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
        settings
            .connections
            .validate()
            .map_err(anyhow::Error::msg)?;
        let metrics_listener = settings
            .metrics_listen
            .map(|address| {
                std::net::TcpListener::bind(address)
                    .with_context(|| format!("binding the metrics listener {address}"))
            })
            .transpose()?;
        let master_key = settings.master_key.expose();
        let key_cipher = KeyCipher::new(master_key)?;
        portcullis_core::keys::ensure_initialized(store.as_ref(), clock.as_ref(), &key_cipher)
            .await
            .context("initialising signing keys")?;
        let hasher = SecretHasher::new(master_key);
        let ring = KeyRing::from_keys(&store.live_keys().await?, &key_cipher, clock.now())
            .context("loading the signing keys")?;
        let keys = Arc::new(KeyCache::new(ring));
        let passwords = Passwords::with_limits(settings.hashing);
        let audit_log = StoreAudit::new(store.clone(), clock.clone());
        let sign_in = SignIn::new(settings.throttle, passwords.clone());
        let smtp = match &settings.email.smtp {
            Some(smtp) => Some(mail::transport::Smtp::new(smtp).context("setting up SMTP")?),
            None => None,
        };
        let admin = AdminState::new(AdminInner {
            cx: admin::Context {
                store: store.clone(),
                clock: clock.clone(),
                secrets: hasher.clone(),
                passwords,
                audit: Arc::new(audit_log.clone()),
                throttle: settings.throttle,
                outbox: if smtp.is_some() {
                    Outbox::delivering()
                } else {
                    Outbox::keeping()
                },
                accounts: portcullis_core::tickets::AccountSettings {
                    issuer: settings.issuer.clone(),
                    verify_email_on_signup: settings.verify_email_on_signup,
                },
                key_cipher: Arc::new(KeyCipher::new(master_key)?),
                admin_mfa_required: settings.admin_mfa_required,
                actions: portcullis_core::actions::engine(&settings.actions),
            },
            keys: keys.clone(),
            settings: AdminSettings {
                issuer: settings.issuer.clone(),
            },
            sign_in: sign_in.clone(),
        });
        let bootstrap = portcullis_admin::bootstrap(&admin, settings.bootstrap_client.as_ref())
            .await
            .context("bootstrapping the Management API and the dashboard")?;
        if let Some(enabled) = settings.dynamic_client_registration {
            let changes = admin::tenant_settings::FlagChanges {
                enable_dynamic_client_registration: Some(enabled),
            };
            admin::tenant_settings::update_flags(&admin.cx, &admin::Actor::System, changes)
                .await
                .context("applying the dynamic client registration setting")?;
        }
        let origins = store.all_client_origins().await?;
        let state = AppState::new(AppInner {
            hasher,
            key_cipher,
            keys,
            origins: OriginCache::new(origins),
            templates: templates::Templates::new(),
            metrics: metrics::Metrics::new(),
            audit_log,
            deferred_log: audit::DeferredLog::spawn(store.clone()),
            tenant: tenant_cache::TenantCache::default(),
            sign_in,
            csrf_mac: Mac::new(master_key, b"login-form csrf"),
            admin,
            limiters: Limiters::new(&settings.rate_limits),
            store,
            clock,
            settings,
        });
        Ok(Application {
            listener,
            metrics_listener,
            state,
            bootstrap,
            smtp,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Where `/metrics` is served, when on its own listener.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Sends the outbox's due messages once through the SMTP server of `settings`, as each
    /// replica's sender does at every poll: for the command line, after a change that wrote
    /// messages (`users import --send-completion-email`). `None` without an SMTP server.
    pub async fn deliver_due_emails(
        store: &dyn Store,
        clock: &dyn Clock,
        settings: &Settings,
    ) -> anyhow::Result<Option<mail_sender::Delivered>> {
        let Some(smtp) = &settings.email.smtp else {
            return Ok(None);
        };
        let smtp = mail::transport::Smtp::new(smtp).context("setting up SMTP")?;
        let sender = mail_sender::Sender {
            store,
            clock,
            settings: &settings.email,
            smtp: &smtp,
        };
        Ok(Some(mail_sender::deliver_due(sender).await))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// What the Management API bootstrap did at build.
    pub fn bootstrap_outcome(&self) -> &BootstrapOutcome {
        &self.bootstrap
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests (for at most
    /// [`SHUTDOWN_GRACE`]) and flushes the batched audit log.
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
        let sweeper = sweeper::spawn(state.clone());
        let email_sender = self
            .smtp
            .map(|smtp| mail_sender::spawn(state.clone(), smtp));
        let forgetter = tokio::spawn({
            let state = state.clone();
            async move {
                let mut interval = tokio::time::interval(FORGET_IDLE_EVERY);
                loop {
                    interval.tick().await;
                    state.limiters.forget_idle();
                }
            }
        });
        let tls = match &state.settings.tls {
            Some(tls) => {
                // Two TLS stacks are linked (ours and the HTTP client's); choose aws-lc-rs, the
                // crypto of the rest of the server. An error only means it is already chosen.
                let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .context("loading the TLS certificate and key")?;
                Some(config)
            }
            None => None,
        };
        let handle = axum_server::Handle::new();
        tokio::spawn({
            let handle = handle.clone();
            async move {
                shutdown.await;
                handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
            }
        });
        let limits = state.settings.connections;
        let main = serve(
            self.listener,
            routes::router(state.clone()),
            tls,
            limits,
            handle.clone(),
        );
        let result = match self.metrics_listener {
            Some(listener) => {
                let metrics = serve(
                    listener,
                    routes::metrics_router(state.clone()),
                    None,
                    limits,
                    handle,
                );
                tokio::try_join!(main, metrics).map(|_| ())
            }
            None => main.await,
        };
        refresher.abort();
        sweeper.abort();
        forgetter.abort();
        if let Some(email_sender) = email_sender {
            email_sender.abort();
        }
        state.deferred_log.flush().await;
        result.map_err(anyhow::Error::from)
    }
}
