//! Tokens already verified, so a reused token costs a hash and a map lookup instead of an RSA
//! verification.
//!
//! Keyed by the SHA-256 of the whole token (header, payload and signature), so a lookup hit
//! means byte-for-byte the token we verified. An entry lives until the token's `exp`; the map
//! holds at most `capacity` entries and evicts the oldest first. First-in-first-out is the
//! simplest policy that cannot be gamed into O(n) work per request, and for the usual pattern
//! (a client reusing its token until it expires) it behaves like LRU. Large caches are split
//! into shards by digest, each with its own lock and its share of the capacity.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, PoisonError},
};

use aws_lc_rs::digest;

use crate::claims::VerifiedToken;

pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn token_digest(token: &str) -> TokenDigest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    out
}

/// Caches of at least this many entries are split into [`SHARDS`] independently locked
/// parts, so that the worker threads of a busy API do not all queue on one lock.
const SHARDED_FROM: usize = 1024;
const SHARDS: usize = 16;

pub(crate) struct VerifiedTokenCache {
    /// Entries per shard.
    capacity: usize,
    shards: Box<[Mutex<Inner>]>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<TokenDigest, (VerifiedToken, u64)>,
    /// Insertion order. May hold digests already removed on expiry; eviction skips those.
    order: VecDeque<TokenDigest>,
}

impl VerifiedTokenCache {
    /// A cache of at most `capacity` entries (0 turns it off).
    pub(crate) fn new(capacity: usize) -> Self {
        let shards = if capacity >= SHARDED_FROM { SHARDS } else { 1 };
        Self {
            capacity: capacity / shards,
            shards: (0..shards).map(|_| Mutex::default()).collect(),
        }
    }

    /// The shard of `digest`: SHA-256 output is uniform, so its first byte spreads entries.
    fn shard(&self, digest: &TokenDigest) -> std::sync::MutexGuard<'_, Inner> {
        self.shards[usize::from(digest[0]) % self.shards.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached verification of `digest`, if it has not expired by `now` (Unix seconds).
    pub(crate) fn get(&self, digest: &TokenDigest, now: u64) -> Option<VerifiedToken> {
        if self.capacity == 0 {
            return None;
        }
        let mut inner = self.shard(digest);
        match inner.entries.get(digest) {
            Some((token, expires_at)) if *expires_at > now => Some(token.clone()),
            Some(_) => {
                inner.entries.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Remembers a verified token until `expires_at` (Unix seconds).
    pub(crate) fn insert(&self, digest: TokenDigest, token: VerifiedToken, expires_at: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = self.shard(&digest);
        if inner.entries.contains_key(&digest) {
            return;
        }
        // At most one entry goes (the map never holds more than `capacity`); it is dropped
        // after the lock is released, so that freeing its claims never holds up another
        // worker.
        let mut evicted = None;
        while inner.entries.len() >= self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    if let Some(entry) = inner.entries.remove(&oldest) {
                        evicted = Some(entry);
                    }
                }
                None => break,
            }
        }
        // Digests of entries removed on expiry linger in `order`; compact once they dominate.
        if inner.order.len() >= self.capacity.saturating_mul(2) {
            let Inner { entries, order } = &mut *inner;
            order.retain(|digest| entries.contains_key(digest));
        }
        inner.order.push_back(digest);
        inner.entries.insert(digest, (token, expires_at));
        drop(inner);
        drop(evicted);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let cache = VerifiedTokenCache::new(3);
        for n in 0..10u8 {
            cache.insert([n; 32], VerifiedToken::for_tests(), 100);
        }
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&[9; 32], 99).is_some());
        assert!(
            cache.get(&[0; 32], 99).is_none(),
            "oldest entries are evicted first"
        );
        assert!(cache.get(&[9; 32], 100).is_none(), "entries end at exp");
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn large_caches_are_sharded_and_stay_bounded() {
        let cache = VerifiedTokenCache::new(2048);
        assert_eq!(cache.shards.len(), SHARDS);
        for n in 0..10_000u32 {
            let digest = token_digest(&n.to_string());
            cache.insert(digest, VerifiedToken::for_tests(), 100);
        }
        assert!(cache.len() <= 2048, "{}", cache.len());
        assert!(cache.len() > 1900, "every shard fills up: {}", cache.len());
        let last = token_digest("9999");
        assert!(cache.get(&last, 99).is_some(), "the newest entry is there");
    }

    #[test]
    fn digest_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(token_digest("abc")[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
