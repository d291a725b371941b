//! RSA signing keys: generation, the JWKS, and JWT signing with a key parsed once.
//!
//! The compact JWS is assembled here from the field's primitives (serde_json, base64,
//! aws-lc-rs): `jsonwebtoken::encode` re-parses the PKCS#8 key on every call, which costs more
//! than the RSA signature itself. Tests verify every token with `jsonwebtoken`.

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rand::SystemRandom,
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

/// Generates a new RSA-2048 key; its `kid` is its RFC 7638 thumbprint.
pub fn generate_key(state: KeyState, now: i64) -> Result<SigningKey, KeyError> {
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
    /// Builds the ring from the stored keys that are not retired. Previous keys past their
    /// `retire_after` are left out of the JWKS.
    pub fn from_keys(keys: &[SigningKey], now: i64) -> Result<Self, KeyError> {
        let mut active = None;
        let mut published = Vec::new();
        for key in keys {
            if key.state == KeyState::Retired
                || (key.state == KeyState::Previous && key.retire_after.is_some_and(|t| t <= now))
            {
                continue;
            }
            let pair = KeyPair::from_pkcs8(&key.private_pkcs8)
                .map_err(|_| KeyError::Parse(key.kid.clone()))?;
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
        let current = generate_key(KeyState::Current, 0).expect("key");
        let next = generate_key(KeyState::Next, 0).expect("key");
        let ring = KeyRing::from_keys(&[next.clone(), current.clone()], 0).expect("ring");
        assert_eq!(ring.current_kid(), current.kid);
        assert_eq!(ring.published().len(), 2);
        assert_eq!(ring.published()[0].kid, current.kid);
        let token = ring
            .sign(TokenType::Jwt, &serde_json::json!({"sub": "x"}))
            .expect("sign");
        assert_eq!(token.split('.').count(), 3);
        assert!(KeyRing::from_keys(&[next], 0).is_err());
    }
}

/// Makes sure the store has signing keys: on an empty store, generates the first `current`
/// and `next` keys. Of several processes starting at once, one set wins and the others keep it.
pub async fn ensure_initialized(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
) -> Result<(), KeyLifecycleError> {
    if !store.live_keys().await?.is_empty() {
        return Ok(());
    }
    let now = clock.now();
    let (current, next) = tokio::task::spawn_blocking(move || {
        Ok::<_, KeyError>((
            generate_key(KeyState::Current, now)?,
            generate_key(KeyState::Next, now)?,
        ))
    })
    .await
    .map_err(|e| {
        KeyLifecycleError::Store(portcullis_store::StoreError::Backend(e.to_string()))
    })??;
    store.initialize_keys(&current, &next).await?;
    Ok(())
}

/// Rotates: the waiting `next` key starts signing, the current one stays published until
/// `keep_previous_for` seconds from now (the longest lifetime of a token it signed), and a new
/// `next` key is published. Returns the kid that now signs.
pub async fn rotate(
    store: &dyn portcullis_store::Store,
    clock: &dyn crate::Clock,
    keep_previous_for: i64,
) -> Result<String, KeyLifecycleError> {
    ensure_initialized(store, clock).await?;
    let now = clock.now();
    let new_next = tokio::task::spawn_blocking(move || generate_key(KeyState::Next, now))
        .await
        .map_err(|e| {
            KeyLifecycleError::Store(portcullis_store::StoreError::Backend(e.to_string()))
        })??;
    store
        .rotate_keys(&new_next, now + keep_previous_for, now)
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
