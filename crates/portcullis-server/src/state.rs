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

use tokio::sync::Mutex;

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
    audit::DeferredLog,
    metrics::{Metrics, ReloadScope},
    rate_limit::Limiters,
    settings::Settings,
    templates::Templates,
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
    /// Rate limits per client address.
    pub limiters: Limiters,
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
        self.metrics.cache_reloaded(ReloadScope::All);
        self.tenant.invalidate();
        let keys = self.store.live_keys().await?;
        let ring = KeyRing::from_keys(&keys, &self.key_cipher, self.clock.now())?;
        self.keys.replace(ring);
        self.origins.replace(self.store.all_client_origins().await?);
        Ok(())
    }

    /// Whether some client registered `origin` (for CORS preflights, which do not name the
    /// client). An origin missing from the cache may have been registered elsewhere since the
    /// last reload, so the origins alone are read again, but never more than one read at a
    /// time nor more often than [`OriginCache::LOOKUP_INTERVAL`], and an origin still missing
    /// is answered from memory until the next reload: a flood of made-up origins costs at most
    /// one store read a second.
    pub async fn origin_allowed(&self, origin: &str) -> bool {
        match self.origins.lookup(origin) {
            Some(known) => return known,
            None if !self.origins.is_older_than(OriginCache::LOOKUP_INTERVAL) => return false,
            None => {}
        }
        {
            let _one_at_a_time = self.origins.lookups.lock().await;
            // Whoever held the lock before may have read the store just now.
            if self.origins.is_older_than(OriginCache::LOOKUP_INTERVAL) {
                self.metrics.cache_reloaded(ReloadScope::Origins);
                match self.store.all_client_origins().await {
                    Ok(origins) => self.origins.replace(origins),
                    Err(error) => {
                        tracing::warn!(%error, "could not reload the CORS origins");
                        self.origins.touch();
                    }
                }
            }
        }
        let known = self.origins.lookup(origin) == Some(true);
        if !known {
            self.origins.remember_unknown(origin);
        }
        known
    }

    /// Mints tokens with this server's keys and issuer.
    pub fn minter(&self) -> Minter<'_> {
        Minter {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            keys: &self.keys,
            cipher: &self.key_cipher,
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

/// Origins registered by any client, for CORS preflights, and origins found unregistered since
/// the last reload (at most [`OriginCache::MAX_UNKNOWN`]).
pub struct OriginCache {
    inner: RwLock<Origins>,
    /// Held while the store is read for an unknown origin.
    lookups: Mutex<()>,
}

struct Origins {
    known: HashSet<String>,
    unknown: HashSet<String>,
    loaded_at: Instant,
}

impl OriginCache {
    /// The least time between two reads of the origins for an unknown origin.
    pub const LOOKUP_INTERVAL: Duration = Duration::from_secs(1);
    /// How many unknown origins are remembered until the next reload.
    pub const MAX_UNKNOWN: usize = 1024;

    pub fn new(origins: Vec<String>) -> Self {
        OriginCache {
            inner: RwLock::new(Origins {
                known: normalize(origins),
                unknown: HashSet::new(),
                loaded_at: Instant::now(),
            }),
            lookups: Mutex::new(()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Origins> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Origins> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Some(true)` for a registered origin, `Some(false)` for one found unregistered since
    /// the last reload, `None` for one not seen since.
    pub fn lookup(&self, origin: &str) -> Option<bool> {
        let origins = self.read();
        if origins.known.contains(origin) {
            Some(true)
        } else if origins.unknown.contains(origin) {
            Some(false)
        } else {
            None
        }
    }

    /// Whether the origins were loaded longer than `max_age` ago.
    pub fn is_older_than(&self, max_age: Duration) -> bool {
        self.read().loaded_at.elapsed() > max_age
    }

    fn replace(&self, origins: Vec<String>) {
        *self.write() = Origins {
            known: normalize(origins),
            unknown: HashSet::new(),
            loaded_at: Instant::now(),
        };
    }

    /// A failed reload counts as one, so that the store is not asked again at once.
    fn touch(&self) {
        self.write().loaded_at = Instant::now();
    }

    fn remember_unknown(&self, origin: &str) {
        let mut origins = self.write();
        if origins.unknown.len() < Self::MAX_UNKNOWN {
            origins.unknown.insert(origin.to_owned());
        }
    }
}

/// Registered origins as preflights send them: without a trailing slash.
fn normalize(origins: Vec<String>) -> HashSet<String> {
    origins
        .into_iter()
        .map(|origin| origin.trim_end_matches('/').to_owned())
        .collect()
}
