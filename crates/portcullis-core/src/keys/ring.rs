//! The key ring: the key that signs, and the keys verifiers should know (the JWKS).

use aws_lc_rs::{rand::SystemRandom, rsa::KeyPair, signature};
use portcullis_store::{KeyState, SigningKey};
use serde::Serialize;

use super::{public_jwk, Jwk, JwkSet, KeyCipher, KeyError};
use crate::secrets::b64url;

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
