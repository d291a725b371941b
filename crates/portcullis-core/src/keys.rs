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

use aws_lc_rs::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    digest,
    encoding::AsDer,
    hmac,
    rand::{SecureRandom, SystemRandom},
    rsa::{KeyPair, KeySize, PublicKeyComponents},
    signature::{self, KeyPair as _},
};
use portcullis_store::{KeyState, SigningKey};
use serde::Serialize;

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
struct JwkSet<'a> {
    keys: &'a [Jwk],
}

/// RFC 7638 thumbprint input: the required members in lexicographic order.
#[derive(Serialize)]
struct ThumbprintInput<'a> {
    e: &'a str,
    kty: &'a str,
    n: &'a str,
}

fn public_jwk(pair: &KeyPair, kid: Option<&str>) -> Result<Jwk, KeyError> {
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

/// Seals private keys for the store and opens them again, under the master key.
///
/// Sealed form: `pck1` ‖ 96-bit random nonce ‖ AES-256-GCM ciphertext and tag, with the kid as
/// associated data (a sealed key copied onto another kid's row does not open). The AES key is
/// HMAC-SHA-256(master key, a fixed label), so the master key itself keys only HMACs.
pub struct KeyCipher {
    key: LessSafeKey,
    rng: SystemRandom,
}

const SEALED_PREFIX: &[u8] = b"pck1";
const KEY_LABEL: &[u8] = b"portcullis signing-key encryption v1";

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher([redacted])")
    }
}

impl KeyCipher {
    /// A cipher keyed by `master_key` (32 bytes in practice; any length is accepted).
    pub fn new(master_key: &[u8]) -> Result<Self, KeyError> {
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master_key), KEY_LABEL);
        let key =
            UnboundKey::new(&aead::AES_256_GCM, derived.as_ref()).map_err(|_| KeyError::Seal)?;
        Ok(KeyCipher {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts the PKCS#8 DER of key `kid`.
    pub fn seal(&self, kid: &str, pkcs8: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| KeyError::Seal)?;
        let mut in_out = pkcs8.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| KeyError::Seal)?;
        let mut sealed = Vec::with_capacity(SEALED_PREFIX.len() + nonce.len() + in_out.len());
        sealed.extend_from_slice(SEALED_PREFIX);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Decrypts what [`KeyCipher::seal`] produced for key `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rest = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| KeyError::NotSealed(kid.to_owned()))?;
        if rest.len() < aead::NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return Err(KeyError::Decrypt(kid.to_owned()));
        }
        let (nonce, ciphertext) = rest.split_at(aead::NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| KeyError::Decrypt(kid.to_owned()))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| KeyError::Decrypt(kid.to_owned()))?;
        Ok(plain.to_vec())
    }
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

struct ActiveKey {
    kid: String,
    pair: KeyPair,
    /// Encoded protected headers, per `typ`, computed once.
    header_jwt: String,
    header_at_jwt: String,
}

/// The keys in use: the one that signs, and every one that verifiers should know.
pub struct KeyRing {
    active: ActiveKey,
    jwks_json: String,
    published: Vec<Jwk>,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_kid", &self.active.kid)
            .finish_non_exhaustive()
    }
}

/// `typ` of a signed token (RFC 8725 §3.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    /// `JWT`: ID tokens, and access tokens in Auth0's dialect.
    Jwt,
    /// `at+jwt`: access tokens in the RFC 9068 dialects.
    AccessTokenJwt,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl KeyRing {
    /// Builds the ring from the stored keys that are not retired, opening them with `cipher`.
    /// Previous keys past their `retire_after` are left out of the JWKS.
    pub fn from_keys(keys: &[SigningKey], cipher: &KeyCipher, now: i64) -> Result<Self, KeyError> {
        let mut active = None;
        let mut published = Vec::new();
        for key in keys {
            if key.state == KeyState::Retired
                || (key.state == KeyState::Previous && key.retire_after.is_some_and(|t| t <= now))
            {
                continue;
            }
            let pkcs8 = cipher.open(&key.kid, &key.private_pkcs8)?;
            let pair = KeyPair::from_pkcs8(&pkcs8).map_err(|_| KeyError::Parse(key.kid.clone()))?;
            published.push(public_jwk(&pair, Some(&key.kid))?);
            if key.state == KeyState::Current {
                let header = |typ| -> Result<String, KeyError> {
                    Ok(b64url(&serde_json::to_vec(&Header {
                        alg: "RS256",
                        typ,
                        kid: &key.kid,
                    })?))
                };
                active = Some(ActiveKey {
                    kid: key.kid.clone(),
                    header_jwt: header("JWT")?,
                    header_at_jwt: header("at+jwt")?,
                    pair,
                });
            }
        }
        let active = active.ok_or(KeyError::NoCurrentKey)?;
        // Current key first: consumers that take the first key find the signing one.
        published.sort_by_key(|jwk| jwk.kid != active.kid);
        let jwks_json = serde_json::to_string(&JwkSet { keys: &published })?;
        Ok(KeyRing {
            active,
            jwks_json,
            published,
            rng: SystemRandom::new(),
        })
    }

    /// The JWKS document, serialised once.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    pub fn published(&self) -> &[Jwk] {
        &self.published
    }

    pub fn current_kid(&self) -> &str {
        &self.active.kid
    }

    /// Signs `claims` as a compact JWS with RS256 and the current key.
    pub fn sign<T: Serialize>(&self, typ: TokenType, claims: &T) -> Result<String, KeyError> {
        let header = match typ {
            TokenType::Jwt => &self.active.header_jwt,
            TokenType::AccessTokenJwt => &self.active.header_at_jwt,
        };
        let payload = b64url(&serde_json::to_vec(claims)?);
        let mut token = String::with_capacity(header.len() + payload.len() + 345);
        token.push_str(header);
        token.push('.');
        token.push_str(&payload);
        let mut signature_bytes = vec![0u8; self.active.pair.public_modulus_len()];
        self.active
            .pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                token.as_bytes(),
                &mut signature_bytes,
            )
            .map_err(|_| KeyError::Sign)?;
        token.push('.');
        token.push_str(&b64url(&signature_bytes));
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
