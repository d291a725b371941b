//! The issuer's signing keys: fetched from the JWKS URL, parsed once, refreshed carefully.
//!
//! Behaviour, in the order a lookup meets it:
//! - A known `kid` in a fresh key set is a map lookup; no lock is awaited.
//! - Past the key-set lifetime, one request refreshes while the others keep using the old
//!   keys; if the refresh fails the old keys stay in use (stale-if-error) and the failure is
//!   logged once until a fetch succeeds again.
//! - An unknown `kid` may trigger a refetch, but only if that kid was not already looked for
//!   (negative cache), the last fetch is older than the cooldown, and the per-minute token
//!   bucket has a token left. Concurrent lookups share one fetch (single flight).
//! - Fetches are bounded in time, in body size and in key count, and never follow redirects.

use std::{
    collections::HashMap,
    str::FromStr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, PoisonError, RwLock,
    },
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{
    error::TokenError,
    header_policy::CompactJws,
    verify::{CheckedClaims, ClaimRules, ParsedKeys},
};

/// RSA keys shorter than this are ignored (NIST SP 800-131A; Auth0 uses 2048).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// Upper bound on remembered unknown kids, so a flood of random kids cannot grow memory.
const MAX_NEGATIVE_ENTRIES: usize = 4096;

/// Why the key set could not be (re)loaded.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The request failed: connection refused, timeout, TLS error, …
    #[error("JWKS request failed: {0}")]
    Request(String),
    /// The endpoint answered with a non-success status (redirects are not followed).
    #[error("JWKS endpoint answered with HTTP {0}")]
    Status(u16),
    /// The document is larger than the configured cap.
    #[error("JWKS document exceeds {0} bytes")]
    TooLarge(usize),
    /// The document lists more keys than the configured cap.
    #[error("JWKS document lists more than {0} keys")]
    TooManyKeys(usize),
    /// The document is not a JWKS.
    #[error("JWKS document is not valid: {0}")]
    Invalid(String),
    /// The document holds no key usable with the allowed algorithms.
    #[error("JWKS document holds no usable signing key")]
    NoUsableKeys,
    /// The refetch was refused by the cooldown or the per-minute limit.
    #[error("JWKS refetch refused by the rate limit")]
    RateLimited,
}

/// A key from the issuer's JWKS, ready to verify with: parsed once, for each algorithm it
/// may verify.
pub(crate) struct VerifyingKey {
    parsed: ParsedKeys,
    family: AlgorithmFamily,
    /// The JWK's own `alg`, when it names one (or the curve implies one).
    pinned_alg: Option<Algorithm>,
}

impl VerifyingKey {
    /// Verifies `jws`'s signature with this key and `alg` (which [`Self::accepts`]), then
    /// its registered claims by `rules` at `now`; returns the claims.
    pub(crate) fn verify(
        &self,
        jws: &CompactJws<'_>,
        alg: Algorithm,
        rules: &ClaimRules,
        now: u64,
    ) -> Result<CheckedClaims, TokenError> {
        self.parsed.verify_signature(jws, alg)?;
        rules.check(jws, now)
    }

    /// Whether a token signed with `alg` may be verified with this key. Keys are typed by
    /// their `kty`, so an RSA key can never stand in as an HMAC secret.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        alg.family() == self.family && self.pinned_alg.is_none_or(|pinned| pinned == alg)
    }
}

/// Settings for the key store, validated by the builder.
#[derive(Debug, Clone)]
pub(crate) struct KeyStoreConfig {
    pub(crate) url: Url,
    pub(crate) lifetime: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) negative_ttl: Duration,
    pub(crate) requests_per_minute: u32,
    pub(crate) max_document_bytes: usize,
    pub(crate) max_keys: usize,
    pub(crate) allowed_algorithms: Vec<Algorithm>,
}

#[derive(Default)]
struct KeySnapshot {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    all: Vec<Arc<VerifyingKey>>,
    loaded_at: Option<Instant>,
    generation: u64,
}

impl KeySnapshot {
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyingKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            // jwks-rsa's rule: a token without kid is accepted only when the set has one key.
            None if self.all.len() == 1 => self.all.first().cloned(),
            None => None,
        }
    }

    fn is_fresh(&self, lifetime: Duration) -> bool {
        self.loaded_at
            .is_some_and(|loaded| loaded.elapsed() < lifetime)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Nothing has been loaded yet.
    Initial,
    /// The set is past its lifetime.
    Expired,
    /// A token names a kid we do not have.
    UnknownKid,
    /// The application asked (at start-up, typically).
    Manual,
}

struct RefreshState {
    bucket: TokenBucket,
    last_attempt: Option<Instant>,
    retry_after: Option<Instant>,
    failing: bool,
}

/// Why a key lookup found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookupError {
    /// The set is loaded but has no matching key.
    UnknownKey,
    /// Nothing could ever be loaded.
    Unavailable,
}

pub(crate) struct KeyStore {
    config: KeyStoreConfig,
    client: reqwest::Client,
    snapshot: RwLock<Arc<KeySnapshot>>,
    // A tokio mutex because the fetch is awaited while holding it: that is the single flight.
    refresh: tokio::sync::Mutex<RefreshState>,
    unknown_kids: Mutex<HashMap<String, Instant>>,
    fetches: AtomicU64,
}

impl KeyStore {
    pub(crate) fn new(config: KeyStoreConfig, client: reqwest::Client) -> Self {
        let bucket = TokenBucket::per_minute(config.requests_per_minute);
        Self {
            config,
            client,
            snapshot: RwLock::new(Arc::new(KeySnapshot::default())),
            refresh: tokio::sync::Mutex::new(RefreshState {
                bucket,
                last_attempt: None,
                retry_after: None,
                failing: false,
            }),
            unknown_kids: Mutex::new(HashMap::new()),
            fetches: AtomicU64::new(0),
        }
    }

    pub(crate) fn url(&self) -> &Url {
        &self.config.url
    }

    /// How many JWKS requests have been sent.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> Arc<KeySnapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Finds the key for `kid`, refreshing the set when the rules above allow it.
    pub(crate) async fn key_for(
        &self,
        kid: Option<&str>,
    ) -> Result<Arc<VerifyingKey>, LookupError> {
        let seen = self.snapshot();
        if let Some(key) = seen.find(kid) {
            if seen.is_fresh(self.config.lifetime) {
                return Ok(key);
            }
            // The outcome does not matter here: either the set was replaced (look again) or
            // it was not (keep using the key we have: stale-if-error).
            let _ = self.refresh(Trigger::Expired, seen.generation).await;
            let current = self.snapshot();
            if current.generation == seen.generation {
                return Ok(key);
            }
            return current.find(kid).ok_or(LookupError::UnknownKey);
        }

        if kid.is_some_and(|kid| self.is_known_unknown(kid)) {
            return Err(LookupError::UnknownKey);
        }
        let trigger = if seen.loaded_at.is_some() {
            Trigger::UnknownKid
        } else {
            Trigger::Initial
        };
        let refreshed = self.refresh(trigger, seen.generation).await.is_ok();
        let current = self.snapshot();
        match current.find(kid) {
            Some(key) => Ok(key),
            None if current.loaded_at.is_none() => Err(LookupError::Unavailable),
            None => {
                // Only a completed fetch proves the kid unknown; a refused refetch proves nothing.
                if let (true, Some(kid)) = (refreshed, kid) {
                    self.remember_unknown(kid);
                }
                Err(LookupError::UnknownKey)
            }
        }
    }

    /// Loads the key set now, regardless of the cooldown (but within the per-minute limit).
    pub(crate) async fn refresh_now(&self) -> Result<(), KeySetError> {
        let seen = self.snapshot().generation;
        self.refresh(Trigger::Manual, seen).await
    }

    async fn refresh(&self, trigger: Trigger, seen_generation: u64) -> Result<(), KeySetError> {
        let mut state = if trigger == Trigger::Expired {
            // Someone is already refreshing: keep serving with the keys we have.
            match self.refresh.try_lock() {
                Ok(state) => state,
                Err(_) => return Err(KeySetError::RateLimited),
            }
        } else {
            self.refresh.lock().await
        };
        if trigger != Trigger::Manual && self.snapshot().generation != seen_generation {
            // Another request refreshed while we waited for the lock.
            return Ok(());
        }
        let now = Instant::now();
        if trigger != Trigger::Manual {
            if state.retry_after.is_some_and(|retry| now < retry) {
                return Err(KeySetError::RateLimited);
            }
            if trigger == Trigger::UnknownKid
                && state
                    .last_attempt
                    .is_some_and(|last| now.duration_since(last) < self.config.cooldown)
            {
                return Err(KeySetError::RateLimited);
            }
        }
        if !state.bucket.try_take(now) {
            return Err(KeySetError::RateLimited);
        }
        state.last_attempt = Some(now);
        self.fetches.fetch_add(1, Ordering::Relaxed);

        match self.fetch().await {
            Ok(snapshot) => {
                let key_count = snapshot.all.len();
                self.install(snapshot);
                if state.failing {
                    tracing::info!(url = %self.config.url, key_count, "JWKS endpoint reachable again");
                }
                state.failing = false;
                state.retry_after = None;
                tracing::debug!(url = %self.config.url, key_count, ?trigger, "JWKS loaded");
                Ok(())
            }
            Err(error) => {
                // Logged once per outage, not once per request that notices it.
                if !state.failing {
                    tracing::warn!(
                        url = %self.config.url,
                        %error,
                        "JWKS fetch failed; keeping any cached keys until a fetch succeeds"
                    );
                }
                state.failing = true;
                state.retry_after = Some(now + self.config.cooldown);
                Err(error)
            }
        }
    }

    fn install(&self, mut fresh: KeySnapshot) {
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        fresh.generation = current.generation + 1;
        fresh.loaded_at = Some(Instant::now());
        {
            let mut unknown = self
                .unknown_kids
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            unknown.retain(|kid, _| !fresh.by_kid.contains_key(kid));
        }
        *current = Arc::new(fresh);
    }

    fn is_known_unknown(&self, kid: &str) -> bool {
        let unknown = self
            .unknown_kids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        unknown
            .get(kid)
            .is_some_and(|since| since.elapsed() < self.config.negative_ttl)
    }

    fn remember_unknown(&self, kid: &str) {
        let mut unknown = self
            .unknown_kids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if unknown.len() >= MAX_NEGATIVE_ENTRIES {
            let ttl = self.config.negative_ttl;
            unknown.retain(|_, since| since.elapsed() < ttl);
            if unknown.len() >= MAX_NEGATIVE_ENTRIES {
                unknown.clear();
            }
        }
        unknown.insert(kid.to_owned(), Instant::now());
    }

    async fn fetch(&self) -> Result<KeySnapshot, KeySetError> {
        let body = fetch_json_bytes(
            &self.client,
            &self.config.url,
            self.config.max_document_bytes,
        )
        .await?;
        parse_key_set(&body, &self.config)
    }
}

/// GETs `url` and returns the body, refusing more than `max_bytes` even when the server lies
/// about (or omits) `Content-Length`.
pub(crate) async fn fetch_json_bytes(
    client: &reqwest::Client,
    url: &Url,
    max_bytes: usize,
) -> Result<Vec<u8>, KeySetError> {
    let request_error =
        |error: reqwest::Error| KeySetError::Request(error.without_url().to_string());
    let mut response = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(request_error)?;
    if !response.status().is_success() {
        return Err(KeySetError::Status(response.status().as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|length| length > max_bytes as u64)
    {
        return Err(KeySetError::TooLarge(max_bytes));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if body.len() + chunk.len() > max_bytes {
            return Err(KeySetError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[derive(Deserialize)]
struct JwkSetDocument {
    keys: Vec<Value>,
}

/// The members of a JWK we use. Parsed per key, so one exotic key (an encryption key, an
/// unknown `kty`) does not make the whole set unusable.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

fn parse_key_set(body: &[u8], config: &KeyStoreConfig) -> Result<KeySnapshot, KeySetError> {
    let document: JwkSetDocument =
        serde_json::from_slice(body).map_err(|error| KeySetError::Invalid(error.to_string()))?;
    if document.keys.len() > config.max_keys {
        return Err(KeySetError::TooManyKeys(config.max_keys));
    }
    let mut snapshot = KeySnapshot::default();
    for value in document.keys {
        let Ok(raw) = serde_json::from_value::<RawJwk>(value) else {
            continue;
        };
        let kid = raw.kid.clone();
        let Some(key) = verifying_key(raw, &config.allowed_algorithms) else {
            tracing::debug!(
                ?kid,
                "ignoring a JWK that cannot verify any allowed algorithm"
            );
            continue;
        };
        let key = Arc::new(key);
        if let Some(kid) = kid {
            if snapshot.by_kid.contains_key(&kid) {
                // Two keys under one kid would make the choice ambiguous: keep the first.
                continue;
            }
            snapshot.by_kid.insert(kid, key.clone());
        }
        snapshot.all.push(key);
    }
    if snapshot.all.is_empty() {
        return Err(KeySetError::NoUsableKeys);
    }
    Ok(snapshot)
}

fn verifying_key(raw: RawJwk, allowed: &[Algorithm]) -> Option<VerifyingKey> {
    if raw.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return None;
    }
    if raw
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return None;
    }
    let mut pinned_alg = match raw.alg.as_deref() {
        Some(name) => Some(Algorithm::from_str(name).ok()?),
        None => None,
    };
    let family = match raw.kty.as_str() {
        "RSA" => AlgorithmFamily::Rsa,
        "EC" => {
            // The curve fixes the algorithm (RFC 7518 §3.4), whatever the JWK's `alg` says.
            let curve_alg = match raw.crv.as_deref()? {
                "P-256" => Algorithm::ES256,
                "P-384" => Algorithm::ES384,
                _ => return None,
            };
            if pinned_alg.is_some_and(|alg| alg != curve_alg) {
                return None;
            }
            pinned_alg = Some(curve_alg);
            AlgorithmFamily::Ec
        }
        "OKP" if raw.crv.as_deref() == Some("Ed25519") => AlgorithmFamily::Ed,
        _ => return None,
    };
    let accepts =
        |alg: &Algorithm| alg.family() == family && pinned_alg.is_none_or(|pinned| pinned == *alg);
    let algorithms: Vec<Algorithm> = allowed.iter().copied().filter(accepts).collect();
    if algorithms.is_empty() {
        return None;
    }
    let parsed = match family {
        AlgorithmFamily::Rsa => {
            let modulus = decode_component(raw.n.as_deref()?)?;
            let exponent = decode_component(raw.e.as_deref()?)?;
            let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return None;
            }
            ParsedKeys::rsa(&modulus, &exponent, &algorithms)?
        }
        AlgorithmFamily::Ec => {
            let x = decode_component(raw.x.as_deref()?)?;
            let y = decode_component(raw.y.as_deref()?)?;
            // SEC 1 uncompressed point: 0x04, then x and y.
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            ParsedKeys::raw(&point, &algorithms)?
        }
        _ => ParsedKeys::raw(&decode_component(raw.x.as_deref()?)?, &algorithms)?,
    };
    Some(VerifyingKey {
        parsed,
        family,
        pinned_alg,
    })
}

/// base64url, tolerating the padding some issuers add to JWK members.
fn decode_component(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// A classic token bucket: `capacity` requests at once, refilled evenly over a minute.
struct TokenBucket {
    capacity: f64,
    tokens: f64,
    refill_per_second: f64,
    last_refill: Instant,
}

impl TokenBucket {
    fn per_minute(requests: u32) -> Self {
        let capacity = f64::from(requests);
        Self {
            capacity,
            tokens: capacity,
            refill_per_second: capacity / 60.0,
            last_refill: Instant::now(),
        }
    }

    fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_second).min(self.capacity);
        self.last_refill = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_configured_burst_then_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::per_minute(5);
        assert_eq!((0..100).filter(|_| bucket.try_take(start)).count(), 5);
        assert!(!bucket.try_take(start + Duration::from_secs(11)));
        assert!(bucket.try_take(start + Duration::from_secs(13)));
    }
}
