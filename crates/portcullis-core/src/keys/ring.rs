//! The key ring: the key that signs for each algorithm, and the keys verifiers should know
//! (the JWKS).

use aws_lc_rs::rand::SystemRandom;
use portcullis_store::{KeyState, SigningKey};
use portcullis_types::{Secret, SigningAlg};
use serde::Serialize;

use super::{material::KeyPair, Jwk, JwkSet, KeyCipher, KeyError};
use crate::secrets::b64url;

struct ActiveKey {
    kid: String,
    pair: KeyPair,
    /// Encoded protected headers, per `typ`, computed once.
    header_jwt: String,
    header_at_jwt: String,
}

/// The keys in use: the one that signs per algorithm, and every one that verifiers should know.
pub struct KeyRing {
    /// The signing key of each algorithm that has keys; RS256 always.
    active: Vec<ActiveKey>,
    jwks_json: String,
    published: Vec<Jwk>,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current_kid", &self.current_kid())
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

impl TokenType {
    fn as_str(self) -> &'static str {
        match self {
            TokenType::Jwt => "JWT",
            TokenType::AccessTokenJwt => "at+jwt",
        }
    }
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
        let mut active = Vec::new();
        let mut published = Vec::new();
        for key in keys {
            if key.state == KeyState::Retired
                || (key.state == KeyState::Previous && key.retire_after.is_some_and(|t| t <= now))
            {
                continue;
            }
            let pkcs8 = cipher.open(&key.kid, &key.private_pkcs8)?;
            let pair = KeyPair::from_pkcs8(key.alg, &key.kid, &pkcs8)?;
            published.push(pair.public_jwk(Some(&key.kid))?);
            if key.state == KeyState::Current {
                let header = |typ: TokenType| -> Result<String, KeyError> {
                    Ok(b64url(&serde_json::to_vec(&Header {
                        alg: key.alg.as_str(),
                        typ: typ.as_str(),
                        kid: &key.kid,
                    })?))
                };
                active.push(ActiveKey {
                    kid: key.kid.clone(),
                    header_jwt: header(TokenType::Jwt)?,
                    header_at_jwt: header(TokenType::AccessTokenJwt)?,
                    pair,
                });
            }
        }
        let rs256 = active
            .iter()
            .find(|key| key.pair.alg() == SigningAlg::RS256)
            .ok_or(KeyError::NoCurrentKey)?
            .kid
            .clone();
        // Current keys first, the RS256 one before all: consumers that take the first key find
        // the one that signs ID tokens.
        published.sort_by_key(|jwk| {
            (
                jwk.kid != rs256,
                !active.iter().any(|key| key.kid == jwk.kid),
            )
        });
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

    /// The kid that signs RS256 tokens (ID tokens, and the access tokens of RS256 APIs).
    pub fn current_kid(&self) -> &str {
        self.active
            .iter()
            .find(|key| key.pair.alg() == SigningAlg::RS256)
            .map_or("", |key| key.kid.as_str())
    }

    /// The asymmetric algorithms this ring can sign with now.
    pub fn algorithms(&self) -> impl Iterator<Item = SigningAlg> + '_ {
        self.active.iter().map(|key| key.pair.alg())
    }

    /// Signs `claims` as a compact JWS with RS256 and its current key.
    pub fn sign<T: Serialize>(&self, typ: TokenType, claims: &T) -> Result<String, KeyError> {
        self.sign_with(SigningAlg::RS256, typ, claims, None)
    }

    /// Signs `claims` as a compact JWS with `alg`: the current key of that algorithm, or for
    /// HS256 the API's `secret` (whose tokens name no key: nothing about them is published).
    pub fn sign_with<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: TokenType,
        claims: &T,
        secret: Option<&Secret>,
    ) -> Result<String, KeyError> {
        if alg.is_symmetric() {
            let secret = secret.ok_or(KeyError::ApiSecret)?;
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.typ = Some(typ.as_str().to_owned());
            let key = jsonwebtoken::EncodingKey::from_secret(secret.expose_str().as_bytes());
            return jsonwebtoken::encode(&header, claims, &key).map_err(|_| KeyError::Sign);
        }
        let active = self
            .active
            .iter()
            .find(|key| key.pair.alg() == alg)
            .ok_or(KeyError::NoKeyFor(alg))?;
        let header = match typ {
            TokenType::Jwt => &active.header_jwt,
            TokenType::AccessTokenJwt => &active.header_at_jwt,
        };
        let payload = b64url(&serde_json::to_vec(claims)?);
        let mut token = String::with_capacity(header.len() + payload.len() + 345);
        token.push_str(header);
        token.push('.');
        token.push_str(&payload);
        let signature = active.pair.sign(&self.rng, token.as_bytes())?;
        token.push('.');
        token.push_str(&b64url(&signature));
        Ok(token)
    }
}
