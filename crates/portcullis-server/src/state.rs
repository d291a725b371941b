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

use jsonwebtoken::DecodingKey;
use portcullis_core::{
    keys::{KeyCipher, KeyRing},
    secrets::SecretHasher,
    Clock,
};
use portcullis_store::Store;

use crate::{metrics::Metrics, settings::Settings, templates::Templates};

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
    pub keys: KeyCache,
    pub origins: OriginCache,
    pub templates: Templates,
    pub metrics: Metrics,
    /// Batched audit-log writes for high-volume events.
    pub deferred_log: crate::audit::DeferredLog,
    /// Applications, APIs and client grants, as the protocol endpoints read them.
    pub tenant: crate::tenant_cache::TenantCache,
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
}

/// The key ring, plus decoding keys for the tokens we verify ourselves (`/userinfo`).
pub struct KeyCache {
    inner: RwLock<Arc<LoadedKeys>>,
}

pub struct LoadedKeys {
    pub ring: KeyRing,
    pub decoding: Vec<(String, DecodingKey)>,
}

impl KeyCache {
    pub fn new(ring: KeyRing) -> Self {
        KeyCache {
            inner: RwLock::new(Arc::new(Self::load(ring))),
        }
    }

    fn load(ring: KeyRing) -> LoadedKeys {
        let decoding = ring
            .published()
            .iter()
            .filter_map(|jwk| {
                DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
                    .ok()
                    .map(|key| (jwk.kid.clone(), key))
            })
            .collect();
        LoadedKeys { ring, decoding }
    }

    pub fn current(&self) -> Arc<LoadedKeys> {
        match self.inner.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, ring: KeyRing) {
        if ring.jwks_json() == self.current().ring.jwks_json()
            && ring.current_kid() == self.current().ring.current_kid()
        {
            return;
        }
        let loaded = Arc::new(Self::load(ring));
        match self.inner.write() {
            Ok(mut guard) => *guard = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
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
