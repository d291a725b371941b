//! A replica's copy of the key ring, and the one verifier of the tokens this server issued
//! (the Management API's callers, `/userinfo`, introspection): by kid against the ring, each
//! key bound to its one algorithm, or with an HS256 API's secret; one clock rule.

use std::sync::{Arc, RwLock};

use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};

use portcullis_types::{Secret, SigningAlg};

use super::KeyRing;
use crate::claims::AccessTokenClaims;

/// Access tokens beyond this size are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8192;

/// Seconds of clock skew tolerated on `exp`, against the server's clock (which may be a test
/// clock: the library's own expiry check, which reads the wall clock, is off).
pub const LEEWAY: i64 = 30;

/// The ring, plus decoding keys for the tokens we verify ourselves.
pub struct LoadedKeys {
    pub ring: KeyRing,
    /// Per published kid, the one algorithm it verifies and its parsed key.
    decoding: Vec<(String, Algorithm, DecodingKey)>,
}

/// The current [`LoadedKeys`], swapped whole when the store's keys change.
pub struct KeyCache {
    inner: RwLock<Arc<LoadedKeys>>,
}

/// What an access token of ours must say to be accepted.
#[derive(Clone, Copy, Debug)]
pub struct Verification<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    /// The server's clock, in Unix seconds.
    pub now: i64,
}

/// Why one of our own tokens was refused. Each surface words these its own way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is too large")]
    TooLarge,
    #[error("the token is not a JWS")]
    Malformed,
    #[error("the token is not signed with an algorithm its key is for")]
    Algorithm,
    #[error("the token's key is not one of ours")]
    UnknownKey,
    #[error("the token is for another issuer")]
    Issuer,
    #[error("the token is for another audience")]
    Audience,
    #[error("the token has expired")]
    Expired,
    #[error("the token's signature or claims are invalid")]
    Invalid,
}

impl LoadedKeys {
    /// The key named `kid`, if it verifies `alg`: a key is never used with another algorithm.
    fn decoding_key(&self, kid: Option<&str>, alg: Algorithm) -> Result<&DecodingKey, VerifyError> {
        let kid = kid.ok_or(VerifyError::UnknownKey)?;
        let (_, bound, key) = self
            .decoding
            .iter()
            .find(|(known, _, _)| known == kid)
            .ok_or(VerifyError::UnknownKey)?;
        if *bound != alg {
            return Err(VerifyError::Algorithm);
        }
        Ok(key)
    }
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
                let alg = jwk.alg.parse::<Algorithm>().ok()?;
                let key = match (&jwk.n, &jwk.e, &jwk.x, &jwk.y) {
                    (Some(n), Some(e), _, _) => DecodingKey::from_rsa_components(n, e).ok()?,
                    (_, _, Some(x), Some(y)) => DecodingKey::from_ec_components(x, y).ok()?,
                    _ => return None,
                };
                Some((jwk.kid.clone(), alg, key))
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

    /// Puts `ring` in place, unless it publishes and signs with the same keys as now.
    pub fn replace(&self, ring: KeyRing) {
        let current = self.current();
        if ring.jwks_json() == current.ring.jwks_json()
            && ring.current_kid() == current.ring.current_kid()
        {
            return;
        }
        let loaded = Arc::new(Self::load(ring));
        match self.inner.write() {
            Ok(mut guard) => *guard = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
    }

    /// Verifies an access token this server issued with a key of the ring (RS256, PS256 or
    /// ES256, the key bound to the algorithm the header names): issuer, audience, and `exp`
    /// against `expected.now` with [`LEEWAY`].
    pub fn verify_access_token(
        &self,
        token: &str,
        expected: Verification<'_>,
    ) -> Result<AccessTokenClaims, VerifyError> {
        let header = checked_header(token)?;
        let keys = self.current();
        let key = keys.decoding_key(header.kid.as_deref(), header.alg)?;
        decode_claims(token, key, header.alg, expected)
    }

    /// Verifies an access token of an HS256 API with the API's `secret`.
    pub fn verify_hs256_access_token(
        &self,
        token: &str,
        secret: &Secret,
        expected: Verification<'_>,
    ) -> Result<AccessTokenClaims, VerifyError> {
        let header = checked_header(token)?;
        if header.alg != Algorithm::HS256 {
            return Err(VerifyError::Algorithm);
        }
        let key = DecodingKey::from_secret(secret.expose_str().as_bytes());
        decode_claims(token, &key, Algorithm::HS256, expected)
    }
}

/// The algorithm a token's header names, as ours: HS256 tokens are verified with an API's
/// secret, the others with a key of the ring.
pub fn token_algorithm(token: &str) -> Option<SigningAlg> {
    let header = checked_header(token).ok()?;
    match header.alg {
        Algorithm::RS256 => Some(SigningAlg::RS256),
        Algorithm::PS256 => Some(SigningAlg::PS256),
        Algorithm::ES256 => Some(SigningAlg::ES256),
        Algorithm::HS256 => Some(SigningAlg::HS256),
        _ => None,
    }
}

fn checked_header(token: &str) -> Result<jsonwebtoken::Header, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
    match header.alg {
        Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 | Algorithm::HS256 => Ok(header),
        _ => Err(VerifyError::Algorithm),
    }
}

fn decode_claims(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    expected: Verification<'_>,
) -> Result<AccessTokenClaims, VerifyError> {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data =
        jsonwebtoken::decode::<AccessTokenClaims>(token, key, &validation).map_err(|error| {
            match error.kind() {
                ErrorKind::InvalidAudience => VerifyError::Audience,
                ErrorKind::InvalidIssuer => VerifyError::Issuer,
                _ => VerifyError::Invalid,
            }
        })?;
    if data.claims.exp + LEEWAY < expected.now {
        return Err(VerifyError::Expired);
    }
    Ok(data.claims)
}

impl KeyCache {
    /// The client an ID token we signed was issued to (`id_token_hint` at logout). Expiry is
    /// not checked: hints may be old; the signature and the issuer are.
    pub fn id_token_hint_audience(&self, token: &str, issuer: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Hint {
            aud: String,
        }
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let keys = self.current();
        let key = keys
            .decoding_key(header.kid.as_deref(), Algorithm::RS256)
            .ok()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["iss", "aud"]);
        jsonwebtoken::decode::<Hint>(token, key, &validation)
            .ok()
            .map(|data| data.claims.aud)
    }
}

#[cfg(test)]
mod tests {
    use portcullis_store::KeyState;

    use super::*;
    use crate::{
        claims::Audience,
        keys::{generate_key, KeyCipher, TokenType},
    };

    fn cache() -> KeyCache {
        let cipher = KeyCipher::new(&[3; 32]).expect("cipher");
        let current = generate_key(KeyState::Current, 0, &cipher).expect("key");
        let next = generate_key(KeyState::Next, 0, &cipher).expect("key");
        KeyCache::new(KeyRing::from_keys(&[current, next], &cipher, 0).expect("ring"))
    }

    fn claims(exp: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://issuer/".into(),
            sub: "auth0|1".into(),
            aud: Audience::One("https://api".into()),
            iat: 0,
            exp,
            azp: None,
            client_id: None,
            jti: None,
            scope: None,
            gty: None,
            permissions: None,
            amr: None,
            cnf: None,
        }
    }

    #[test]
    fn one_clock_rule_and_each_check_named() {
        let cache = cache();
        let expected = Verification {
            issuer: "https://issuer/",
            audience: "https://api",
            now: 1_000,
        };
        let sign = |claims: &AccessTokenClaims| {
            cache
                .current()
                .ring
                .sign(TokenType::Jwt, claims)
                .expect("sign")
        };
        assert!(cache
            .verify_access_token(&sign(&claims(1_000)), expected)
            .is_ok());
        // Within the leeway, and just past it.
        assert!(cache
            .verify_access_token(&sign(&claims(1_000 - LEEWAY)), expected)
            .is_ok());
        assert_eq!(
            cache.verify_access_token(&sign(&claims(1_000 - LEEWAY - 1)), expected),
            Err(VerifyError::Expired)
        );
        let elsewhere = AccessTokenClaims {
            aud: Audience::One("https://other".into()),
            ..claims(2_000)
        };
        assert_eq!(
            cache.verify_access_token(&sign(&elsewhere), expected),
            Err(VerifyError::Audience)
        );
        assert_eq!(
            cache.verify_access_token("not.a.jwt", expected),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            cache.verify_access_token(&"a".repeat(MAX_TOKEN_BYTES + 1), expected),
            Err(VerifyError::TooLarge)
        );
        // A token of another ring: unknown kid.
        let foreign = self::cache()
            .current()
            .ring
            .sign(TokenType::Jwt, &claims(2_000));
        assert_eq!(
            cache.verify_access_token(&foreign.expect("sign"), expected),
            Err(VerifyError::UnknownKey)
        );
    }
}
