//! RSA signing keys: generation, the JWKS, and JWT signing with a key parsed once.
//!
//! The compact JWS is assembled here from the field's primitives (serde_json, base64,
//! aws-lc-rs): `jsonwebtoken::encode` re-parses the PKCS#8 key on every call, which costs more
//! than the RSA signature itself. Tests verify every token with `jsonwebtoken`.
//!
//! Private keys are sealed before they reach the store and opened when the ring is built
//! ([`KeyCipher`]: AES-256-GCM under a key derived from the master key, a random nonce per
//! seal, the key id as associated data), so a store — SQLite file, PostgreSQL database,
//! backup or `portcullis export` document — never holds a private key in the clear.

mod cache;
mod cipher;
mod ring;

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rsa::{KeyPair, KeySize, PublicKeyComponents},
    signature::KeyPair as _,
};
use portcullis_store::{KeyState, SigningKey};
use serde::Serialize;

pub use self::{
    cache::{KeyCache, LoadedKeys, Verification, VerifyError, LEEWAY, MAX_TOKEN_BYTES},
    cipher::KeyCipher,
    ring::{KeyRing, TokenType},
};
use crate::secrets::b64url;

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("stored key {0} is not a valid RSA PKCS#8 key")]
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
    #[error("signing failed")]
    Sign,
    #[error("claims could not be serialised: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// A public key as published in the JWKS.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

#[derive(Serialize)]
pub(crate) struct JwkSet<'a> {
    pub(crate) keys: &'a [Jwk],
}

/// RFC 7638 thumbprint input: the required members in lexicographic order.
#[derive(Serialize)]
struct ThumbprintInput<'a> {
    e: &'a str,
    kty: &'a str,
    n: &'a str,
}

pub(crate) fn public_jwk(pair: &KeyPair, kid: Option<&str>) -> Result<Jwk, KeyError> {
    let components: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
    let n = b64url(&components.n);
    let e = b64url(&components.e);
    let kid = match kid {
        Some(kid) => kid.to_owned(),
        None => {
            let input = serde_json::to_vec(&ThumbprintInput {
                e: &e,
                kty: "RSA",
                n: &n,
            })?;
            b64url(digest::digest(&digest::SHA256, &input).as_ref())
        }
    };
    Ok(Jwk {
        kty: "RSA",
        use_: "sig",
        alg: "RS256",
        kid,
        n,
        e,
    })
}

/// Generates a new RSA-2048 key; its `kid` is its RFC 7638 thumbprint. The private half comes
/// back sealed by `cipher`, ready for the store.
pub fn generate_key(state: KeyState, now: i64, cipher: &KeyCipher) -> Result<SigningKey, KeyError> {
    seal_key(generate_plain(state, now)?, cipher)
}

/// A new key with its private half in the clear: never stored as it is.
fn generate_plain(state: KeyState, now: i64) -> Result<SigningKey, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = pair.as_der().map_err(|_| KeyError::Generate)?;
    let jwk = public_jwk(&pair, None)?;
    Ok(SigningKey {
        kid: jwk.kid,
        state,
        private_pkcs8: der.as_ref().to_vec(),
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

/// Generates RSA keys off the async threads (it takes a while), then seals them.
async fn generate_sealed(
    states: &[KeyState],
    now: i64,
    cipher: &KeyCipher,
) -> Result<Vec<SigningKey>, KeyLifecycleError> {
    let states = states.to_vec();
    let plain = tokio::task::spawn_blocking(move || {
        states
            .into_iter()
            .map(|state| generate_plain(state, now))
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
            KeyPair::from_pkcs8(&key.private_pkcs8).is_err(),
            "not a key in the clear"
        );
        let pkcs8 = cipher.open(&key.kid, &key.private_pkcs8).expect("open");
        assert!(KeyPair::from_pkcs8(&pkcs8).is_ok());
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

/// Makes sure the store has signing keys: on an empty store, generates the first `current`
/// and `next` keys. Of several processes starting at once, one set wins and the others keep it.
pub async fn ensure_initialized(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
) -> Result<(), KeyLifecycleError> {
    if !store.live_keys().await?.is_empty() {
        return Ok(());
    }
    let keys = generate_sealed(&[KeyState::Current, KeyState::Next], clock.now(), cipher).await?;
    let (current, next) = (&keys[0], &keys[1]);
    store.initialize_keys(current, next).await?;
    Ok(())
}

/// Rotates: the waiting `next` key starts signing, the current one stays published until
/// `keep_previous_for` seconds from now (the longest lifetime of a token it signed), and a new
/// `next` key is published. Returns the kid that now signs.
pub async fn rotate(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    cipher: &KeyCipher,
    keep_previous_for: i64,
) -> Result<String, KeyLifecycleError> {
    ensure_initialized(store, clock, cipher).await?;
    let now = clock.now();
    let new_next = generate_sealed(&[KeyState::Next], now, cipher).await?;
    store
        .rotate_keys(&new_next[0], now + keep_previous_for, now)
        .await?;
    let keys = store.live_keys().await?;
    keys.iter()
        .find(|k| k.state == KeyState::Current)
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
