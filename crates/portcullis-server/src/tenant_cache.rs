//! A replica's copy of the tenant objects the protocol endpoints read on every request:
//! applications, APIs, client grants, the tenant's flags (the discovery documents), the
//! connections to other identity providers (the login page's buttons, `connection=`) and the
//! Action versions bound to each trigger (every login and machine token asks).
//!
//! Read from the store, they cost three queries per machine token, more than the RSA
//! signature itself. Found objects are kept until the next cache refresh
//! (`cache_refresh_seconds`) and dropped at once after any change made through this replica's
//! Management API or dashboard. So a change made here applies to the next request, and one
//! made elsewhere (the CLI, another replica) within the refresh bound. Objects that were not
//! found are not remembered: a client or API created anywhere is usable at once.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, PoisonError, RwLock,
    },
};

use portcullis_store::{
    ActionBinding, ActionVersion, Client, ClientGrant, ResourceServer, Store, StoreResult,
    TenantFlags, UpstreamConnection,
};
use portcullis_types::ActionTrigger;

/// A trigger's bound Action versions, in their order.
pub type Bound = Arc<Vec<(ActionBinding, ActionVersion)>>;

/// A tenant with more objects than this is cached in part: a full map starts afresh.
const MAX_ENTRIES_PER_KIND: usize = 10_000;

#[derive(Default)]
pub struct TenantCache {
    /// Bumped by every invalidation, so that a lookup that read the store before a change and
    /// finishes after it does not put the old object back.
    generation: AtomicU64,
    clients: RwLock<HashMap<String, Client>>,
    apis: RwLock<HashMap<String, ResourceServer>>,
    grants: RwLock<HashMap<(String, String), ClientGrant>>,
    /// The tenant's flags, read by the discovery documents on every fetch.
    flags: RwLock<Option<TenantFlags>>,
    /// Every connection to another provider, read by each login page and `connection=`.
    connections: RwLock<Option<Arc<Vec<UpstreamConnection>>>>,
    /// The Action versions bound to each trigger (none bound is remembered too).
    bindings: RwLock<HashMap<ActionTrigger, Bound>>,
}

impl TenantCache {
    pub async fn client(&self, store: &dyn Store, client_id: &str) -> StoreResult<Option<Client>> {
        if let Some(client) = read(&self.clients).get(client_id) {
            return Ok(Some(client.clone()));
        }
        self.load(
            &self.clients,
            client_id.to_owned(),
            store.client_by_id(client_id),
        )
        .await
    }

    pub async fn api(
        &self,
        store: &dyn Store,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        if let Some(api) = read(&self.apis).get(identifier) {
            return Ok(Some(api.clone()));
        }
        self.load(
            &self.apis,
            identifier.to_owned(),
            store.resource_server_by_identifier(identifier),
        )
        .await
    }

    pub async fn grant(
        &self,
        store: &dyn Store,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<ClientGrant>> {
        let key = (client_id.to_owned(), audience.to_owned());
        if let Some(grant) = read(&self.grants).get(&key) {
            return Ok(Some(grant.clone()));
        }
        self.load(
            &self.grants,
            key,
            store.client_grant_for(client_id, audience),
        )
        .await
    }

    pub async fn flags(&self, store: &dyn Store) -> StoreResult<TenantFlags> {
        if let Some(flags) = *read(&self.flags) {
            return Ok(flags);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let flags = store.tenant_flags().await?;
        let mut cached = write(&self.flags);
        if self.generation.load(Ordering::Acquire) == generation {
            *cached = Some(flags);
        }
        Ok(flags)
    }

    pub async fn connections(
        &self,
        store: &dyn Store,
    ) -> StoreResult<Arc<Vec<UpstreamConnection>>> {
        if let Some(connections) = read(&self.connections).as_ref() {
            return Ok(connections.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let connections = Arc::new(store.upstream_connections().await?);
        let mut cached = write(&self.connections);
        if self.generation.load(Ordering::Acquire) == generation {
            *cached = Some(connections.clone());
        }
        Ok(connections)
    }

    pub async fn bound_actions(
        &self,
        store: &dyn Store,
        trigger: ActionTrigger,
    ) -> StoreResult<Bound> {
        if let Some(bound) = read(&self.bindings).get(&trigger) {
            return Ok(bound.clone());
        }
        // Always found: a trigger with nothing bound is remembered as such.
        let bound = async { Ok(Some(Arc::new(store.bound_action_versions(trigger).await?))) };
        Ok(self
            .load(&self.bindings, trigger, bound)
            .await?
            .unwrap_or_default())
    }

    /// Forgets everything; the next lookups read the store.
    pub fn invalidate(&self) {
        // Bump first: a lookup in flight then sees the change and keeps its copy to itself.
        self.generation.fetch_add(1, Ordering::AcqRel);
        write(&self.clients).clear();
        write(&self.apis).clear();
        write(&self.grants).clear();
        *write(&self.flags) = None;
        *write(&self.connections) = None;
        write(&self.bindings).clear();
    }

    async fn load<K: Eq + Hash, V: Clone>(
        &self,
        map: &RwLock<HashMap<K, V>>,
        key: K,
        from_store: impl Future<Output = StoreResult<Option<V>>>,
    ) -> StoreResult<Option<V>> {
        let generation = self.generation.load(Ordering::Acquire);
        let found = from_store.await?;
        if let Some(value) = &found {
            let mut map = write(map);
            if self.generation.load(Ordering::Acquire) == generation {
                if map.len() >= MAX_ENTRIES_PER_KIND {
                    map.clear();
                }
                map.insert(key, value.clone());
            }
        }
        Ok(found)
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lookup_overtaken_by_a_change_keeps_its_copy_to_itself() {
        let cache = TenantCache::default();
        let map = RwLock::new(HashMap::new());
        let stale = cache
            .load(&map, "api", async {
                // The change lands while this lookup is reading the store.
                cache.invalidate();
                Ok(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(stale, Some(1), "the caller still gets what it read");
        assert!(read(&map).is_empty(), "but it is not cached");

        cache
            .load(&map, "api", async { Ok(Some(2)) })
            .await
            .unwrap();
        assert_eq!(read(&map).get("api"), Some(&2));
    }

    #[tokio::test]
    async fn absent_objects_are_not_remembered() {
        let cache = TenantCache::default();
        let map: RwLock<HashMap<&str, u8>> = RwLock::new(HashMap::new());
        let found = cache
            .load(&map, "nobody", async { Ok(None) })
            .await
            .unwrap();
        assert!(found.is_none());
        assert!(read(&map).is_empty());
    }
}
