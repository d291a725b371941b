//! Signing keys: generation, the JWKS, and JWT signing with keys parsed once.
//!
//! Each asymmetric algorithm an API can choose (RS256, PS256, ES256) has its own keys, each
//! with its own `current`, `next` and `previous` key and rotated the same way. The keys of all
//! three are made when the store is first opened, so each is published before it signs (see
//! [`ensure_initialized`]). HS256 tokens are signed with the API's own secret (`api_secret`), never
//! with a key of the ring, and nothing about them is published.
//!
//! The compact JWS is assembled here from the field's primitives (serde_json, base64,
//! aws-lc-rs): `jsonwebtoken::encode` re-parses the PKCS#8 key on every call, which costs more
//! than the RSA signature itself. Tests verify every token with `jsonwebtoken`.
//!
//! Private keys are sealed before they reach the store and opened when the ring is built
//! ([`KeyCipher`]: AES-256-GCM under a key derived from the master key, a random nonce per
//! seal, the key id as associated data), so a store — SQLite file, PostgreSQL database,
//! backup or `portcullis export` document — never holds a private key in the clear.

mod api_secret;
mod cache;
mod cipher;
mod material;
mod ring;

use portcullis_store::{KeyState, SigningKey};
use portcullis_types::SigningAlg;
use serde::Serialize;

use self::material::KeyPair;
pub use self::{
    api_secret::{generate_api_secret, open_api_secret, seal_api_secret},
    cache::{
        token_algorithm, KeyCache, LoadedKeys, Verification, VerifyError, LEEWAY, MAX_TOKEN_BYTES,
    },
    cipher::KeyCipher,
    material::Jwk,
    ring::{KeyRing, TokenType},
};

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generate,
    #[error("stored key {0} is not a valid PKCS#8 key of its algorithm")]
    Parse(String),
    #[error(
        "stored key {0} could not be decrypted: the master key (PORTCULLIS_MASTER_KEY) is not \
         the one it was sealed with, or the stored bytes were altered"
    )]
    Decrypt(String),
    #[error(
        "stored key {0} is not sealed under the master key (written by a version without \
         encryption at rest?); rotate twice or re-create the store"
    )]
    NotSealed(String),
    #[error("sealing a private key failed")]
    Seal,
    #[error("no current signing key")]
    NoCurrentKey,
    #[error("no current signing key for {0}")]
    NoKeyFor(SigningAlg),
    #[error("the API's signing secret is missing or does not open")]
    ApiSecret,
    #[error("signing failed")]
    Sign,
    #[error("claims could not be serialised: {0}")]
    Serialize(#[from] serde_json::Error),
}

#[derive(Serialize)]
pub(crate) struct JwkSet<'a> {
    pub(crate) keys: &'a [Jwk],
}

/// Generates a new RS256 key; its `kid` is its RFC 7638 thumbprint. The private half comes
/// back sealed by `cipher`, ready for the store.
pub fn generate_key(state: KeyState, now: i64, cipher: &KeyCipher) -> Result<SigningKey, KeyError> {
    generate_key_for(SigningAlg::RS256, state, now, cipher)
}

/// Generates a new key for `alg` (RS256, PS256 or ES256), sealed by `cipher`.
pub fn generate_key_for(
    alg: SigningAlg,
    state: KeyState,
    now: i64,
    cipher: &KeyCipher,
) -> Result<SigningKey, KeyError> {
    seal_key(generate_plain(alg, state, now)?, cipher)
}

/// A new key with its private half in the clear: never stored as it is.
fn generate_plain(alg: SigningAlg, state: KeyState, now: i64) -> Result<SigningKey, KeyError> {
    let pair = KeyPair::generate(alg)?;
    let jwk = pair.public_jwk(None)?;
    Ok(SigningKey {
        kid: jwk.kid,
        alg,
        state,
        private_pkcs8: pair.to_pkcs8()?,
        created_at: now,
        retire_after: None,
    })
}

fn seal_key(key: SigningKey, cipher: &KeyCipher) -> Result<SigningKey, KeyError> {
    Ok(SigningKey {
        private_pkcs8: cipher.seal(&key.kid, &key.private_pkcs8)?,
        ..key
    })
}

/// Generates keys off the async threads (RSA takes a while), then seals them.
async fn generate_sealed(
    alg: SigningAlg,
    states: &[KeyState],
    now: i64,
    cipher: &KeyCipher,
) -> Result<Vec<SigningKey>, KeyLifecycleError> {
    let states = states.to_vec();
    let plain = tokio::task::spawn_blocking(move || {
        states
            .into_iter()
            .map(|state| generate_plain(alg, state, now))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| {
        KeyLifecycleError::Store(portcullis_store::StoreError::Backend(e.to_string()))
    })??;
    Ok(plain
        .into_iter()
        .map(|key| seal_key(key, cipher))
        .collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::{cipher::SEALED_PREFIX, *};

    #[test]
    fn ring_signs_with_current_and_publishes_next() {
        let cipher = KeyCipher::new(&[7; 32]).expect("cipher");
        let current = generate_key(KeyState::Current, 0, &cipher).expect("key");
        let next = generate_key(KeyState::Next, 0, &cipher).expect("key");
        let ring = KeyRing::from_keys(&[next.clone(), current.clone()], &cipher, 0).expect("ring");
        assert_eq!(ring.current_kid(), current.kid);
        assert_eq!(ring.published().len(), 2);
        assert_eq!(ring.published()[0].kid, current.kid);
        let token = ring
            .sign(TokenType::Jwt, &serde_json::json!({"sub": "x"}))
            .expect("sign");
        assert_eq!(token.split('.').count(), 3);
        assert!(KeyRing::from_keys(&[next], &cipher, 0).is_err());
    }

    #[test]
    fn private_keys_are_sealed_under_the_master_key_and_bound_to_their_kid() {
        let cipher = KeyCipher::new(&[7; 32]).expect("cipher");
        let key = generate_key(KeyState::Current, 0, &cipher).expect("key");
        assert!(key.private_pkcs8.starts_with(SEALED_PREFIX));
        assert!(
            aws_lc_rs::rsa::KeyPair::from_pkcs8(&key.private_pkcs8).is_err(),
            "not a key in the clear"
        );
        let pkcs8 = cipher.open(&key.kid, &key.private_pkcs8).expect("open");
        assert!(aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8).is_ok());
        // Random nonces: sealing twice gives different bytes that both open.
        let again = cipher.seal(&key.kid, &pkcs8).expect("seal");
        assert_ne!(again, key.private_pkcs8);
        assert_eq!(cipher.open(&key.kid, &again).expect("open"), pkcs8);

        let other_master = KeyCipher::new(&[8; 32]).expect("cipher");
        let wrong = KeyRing::from_keys(std::slice::from_ref(&key), &other_master, 0);
        assert!(matches!(wrong, Err(KeyError::Decrypt(ref kid)) if *kid == key.kid));
        assert!(matches!(
            cipher.open("another-kid", &key.private_pkcs8),
            Err(KeyError::Decrypt(_))
        ));
        let mut tampered = key.private_pkcs8.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            cipher.open(&key.kid, &tampered),
            Err(KeyError::Decrypt(_))
        ));
        let plaintext = SigningKey {
            private_pkcs8: pkcs8,
            ..key
        };
        let error = KeyRing::from_keys(&[plaintext], &cipher, 0).expect_err("refused");
        assert!(matches!(error, KeyError::NotSealed(_)));
        assert!(error
            .to_string()
            .contains("not sealed under the master key"));
    }
}

/// Makes sure the store has signing keys for every asymmetric algorithm (RS256, PS256, ES256),
/// whether an API uses it yet or not. Generates the first `current` and `next` keys of each
/// algorithm that has none; of several processes starting at once, one set wins and the others
/// keep it.
///
/// Every algorithm gets its keys before the server answers its first request, so a key is in
/// the JWKS long before it signs: a resource server that cached the key set (a guard refetches
/// for an unknown kid only after a cooldown) already knows the key of an algorithm when the
/// first API moves to it. Rotation keeps the same promise with each algorithm's `next` key.
pub async fn ensure_initialized(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
) -> Result<(), KeyLifecycleError> {
    let live = store.live_keys().await?;
    for alg in SigningAlg::ASYMMETRIC {
        if !live.iter().any(|key| key.alg == *alg) {
            initialize_algorithm(store, clock, cipher, *alg).await?;
        }
    }
    Ok(())
}

/// Makes sure `alg` has keys (an API is about to use it); HS256 needs none.
pub async fn ensure_algorithm(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
    alg: SigningAlg,
) -> Result<(), KeyLifecycleError> {
    if alg.is_symmetric() || store.live_keys().await?.iter().any(|key| key.alg == alg) {
        return Ok(());
    }
    initialize_algorithm(store, clock, cipher, alg).await
}

async fn initialize_algorithm(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
    alg: SigningAlg,
) -> Result<(), KeyLifecycleError> {
    let keys = generate_sealed(
        alg,
        &[KeyState::Current, KeyState::Next],
        clock.now(),
        cipher,
    )
    .await?;
    store.initialize_keys(&keys[0], &keys[1]).await?;
    Ok(())
}

/// Rotates every algorithm that has keys: its waiting `next` key starts signing, its current
/// one stays published until `keep_previous_for` seconds from now (the longest lifetime of a
/// token it signed), and a new `next` key is published. Returns the RS256 kid that now signs.
pub async fn rotate(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
    keep_previous_for: i64,
) -> Result<String, KeyLifecycleError> {
    ensure_initialized(store, clock, cipher).await?;
    let now = clock.now();
    let live = store.live_keys().await?;
    for alg in SigningAlg::ASYMMETRIC {
        if !live.iter().any(|key| key.alg == *alg) {
            continue;
        }
        let new_next = generate_sealed(*alg, &[KeyState::Next], now, cipher).await?;
        store
            .rotate_keys(&new_next[0], now + keep_previous_for, now)
            .await?;
    }
    let keys = store.live_keys().await?;
    keys.iter()
        .find(|k| k.state == KeyState::Current && k.alg == SigningAlg::RS256)
        .map(|k| k.kid.clone())
        .ok_or(KeyLifecycleError::Key(KeyError::NoCurrentKey))
}

/// What key initialisation or rotation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum KeyLifecycleError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] portcullis_store::StoreError),
}
