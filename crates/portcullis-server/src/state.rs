//! Shared state of a running server: the store, and the caches a replica keeps of it.
//!
//! Caches are short-lived copies (reloaded every `cache_refresh_seconds`), so a change made
//! by the CLI or another replica is seen within that bound.

use std::{
    collections::HashSet,
    ops::Deref,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use portcullis_admin::AdminState;
use portcullis_core::{
    audit::{AuditSink, Entry, StoreAudit},
    keys::{KeyCache, KeyCipher, KeyRing},
    secrets::{Mac, SecretHasher},
    sign_in::SignIn,
    tokens::Minter,
    Clock,
};
use portcullis_store::Store;

use crate::{
    audit::DeferredLog, metrics::Metrics, settings::Settings, templates::Templates,
    tenant_cache::TenantCache,
};

/// The state every handler gets.
#[derive(Clone)]
pub struct AppState(Arc<AppInner>);

pub struct AppInner {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub hasher: SecretHasher,
    /// Opens the private signing keys the store holds sealed.
    pub key_cipher: KeyCipher,
    /// The signing keys, shared with the administration surfaces.
    pub keys: Arc<KeyCache>,
    pub origins: OriginCache,
    pub templates: Templates,
    pub metrics: Metrics,
    /// Audit entries written at once.
    pub audit_log: StoreAudit,
    /// Batched audit-log writes for high-volume events.
    pub deferred_log: DeferredLog,
    /// Applications, APIs and client grants, as the protocol endpoints read them.
    pub tenant: TenantCache,
    /// The hosted login page's credential checks, throttled.
    pub sign_in: SignIn,
    /// Binds the login form's CSRF value to its authorization request.
    pub csrf_mac: Mac,
    /// The Management API and the dashboard (and the sign-up page's account operations).
    pub admin: AdminState,
}

impl Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: AppInner) -> Self {
        AppState(Arc::new(inner))
    }

    /// Reloads the caches from the store.
    pub async fn refresh_caches(&self) -> anyhow::Result<()> {
        self.tenant.invalidate();
        let keys = self.store.live_keys().await?;
        let ring = KeyRing::from_keys(&keys, &self.key_cipher, self.clock.now())?;
        self.keys.replace(ring);
        let origins = self.store.all_client_origins().await?;
        self.origins.replace(
            origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
        );
        Ok(())
    }

    /// Mints tokens with this server's keys and issuer.
    pub fn minter(&self) -> Minter<'_> {
        Minter {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            keys: &self.keys,
            issuer: &self.settings.issuer,
        }
    }

    /// Appends `entry` to the audit log, stamped with the server's clock, before returning.
    pub async fn audit(&self, entry: Entry) {
        self.audit_log.record(entry).await;
    }

    /// Queues `entry` for the batched writer (see [`DeferredLog`]).
    pub async fn audit_deferred(&self, entry: Entry) {
        self.deferred_log
            .queue(entry.stamp(self.clock.as_ref()))
            .await;
    }
}

/// Origins registered by any client, for CORS preflights (which do not name the client).
pub struct OriginCache {
    inner: RwLock<(HashSet<String>, Instant)>,
}

impl OriginCache {
    pub fn new(origins: HashSet<String>) -> Self {
        OriginCache {
            inner: RwLock::new((origins, Instant::now())),
        }
    }

    pub fn contains(&self, origin: &str) -> bool {
        match self.inner.read() {
            Ok(guard) => guard.0.contains(origin),
            Err(poisoned) => poisoned.into_inner().0.contains(origin),
        }
    }

    /// Whether the cache is older than `max_age`.
    pub fn is_older_than(&self, max_age: Duration) -> bool {
        match self.inner.read() {
            Ok(guard) => guard.1.elapsed() > max_age,
            Err(_) => true,
        }
    }

    fn replace(&self, origins: HashSet<String>) {
        match self.inner.write() {
            Ok(mut guard) => *guard = (origins, Instant::now()),
            Err(poisoned) => *poisoned.into_inner() = (origins, Instant::now()),
        }
    }
}
