//! Verification with keys parsed once: each JWKS key is turned into aws-lc-rs public keys
//! (one per algorithm it may verify) when the key set is loaded, so a token costs one
//! signature check over its signing input, one base64 decoding and one JSON parse of its
//! payload, and the registered-claim checks — never a key parse.
//!
//! The claim rules are jsonwebtoken's `Validation` rules as the guard configures them: `exp`,
//! `iss` and `aud` required (a claim of the wrong JSON type counts as missing), `exp` and
//! `nbf` with the clock tolerance, `iss` exactly one of the configured issuer, `aud` (a string
//! or an array of strings) naming a configured audience.

use aws_lc_rs::{
    encoding::AsDer,
    rsa::PublicKeyComponents,
    signature::{self, ParsedPublicKey, VerificationAlgorithm},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::error::TokenError;

/// A JWKS key's public keys, parsed for each algorithm it may verify.
#[derive(Default)]
pub(crate) struct ParsedKeys(Vec<(Algorithm, ParsedPublicKey)>);

impl ParsedKeys {
    /// An RSA key (big-endian modulus and exponent) for each of `algorithms` that is RSA.
    pub(crate) fn rsa(modulus: &[u8], exponent: &[u8], algorithms: &[Algorithm]) -> Option<Self> {
        let der = PublicKeyComponents {
            n: modulus,
            e: exponent,
        }
        .as_der()
        .ok()?;
        Self::parse(der.as_ref(), algorithms)
    }

    /// An EC key (its uncompressed point) or an Ed25519 key (its 32 bytes).
    pub(crate) fn raw(bytes: &[u8], algorithms: &[Algorithm]) -> Option<Self> {
        Self::parse(bytes, algorithms)
    }

    fn parse(bytes: &[u8], algorithms: &[Algorithm]) -> Option<Self> {
        let mut parsed = Vec::new();
        for alg in algorithms {
            let Some(verification) = verification_algorithm(*alg) else {
                continue;
            };
            parsed.push((*alg, ParsedPublicKey::new(verification, bytes).ok()?));
        }
        (!parsed.is_empty()).then_some(Self(parsed))
    }

    /// Checks the signature of `token` (a compact JWS whose header allowed `alg`).
    pub(crate) fn verify_signature(&self, token: &str, alg: Algorithm) -> Result<(), TokenError> {
        let key = self
            .0
            .iter()
            .find_map(|(known, key)| (*known == alg).then_some(key))
            .ok_or(TokenError::UnknownKey)?;
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        key.verify_sig(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::InvalidSignature)
    }
}

/// The aws-lc-rs verification of a JWS algorithm (RFC 7518), for the asymmetric ones.
fn verification_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

/// What the registered claims must say.
#[derive(Debug, Clone)]
pub(crate) struct ClaimRules {
    pub(crate) issuer: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: u64,
}

/// The payload of a token whose signature verified, as a JSON object.
pub(crate) fn payload(token: &str) -> Result<Value, TokenError> {
    let mut segments = token.splitn(3, '.');
    let payload = segments.nth(1).ok_or(TokenError::Malformed)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Value = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
    if !claims.is_object() {
        return Err(TokenError::Malformed);
    }
    Ok(claims)
}

/// A NumericDate (RFC 7519 §2): a non-negative number, fractions rounded.
fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0 && *seconds < u64::MAX as f64)
            .map(|seconds| seconds.round() as u64)
    })
}

impl ClaimRules {
    /// Checks `exp`, `nbf`, `iss` and `aud` of verified `claims` at `now`.
    pub(crate) fn check(&self, claims: &Value, now: u64) -> Result<(), TokenError> {
        let exp = claims
            .get("exp")
            .and_then(numeric_date)
            .ok_or(TokenError::MissingClaim)?;
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(TokenError::MissingClaim)?;
        let audience_matches = match claims.get("aud") {
            Some(Value::String(one)) => self.audiences.iter().any(|a| a == one),
            Some(Value::Array(many)) => {
                let mut matches = false;
                for item in many {
                    let item = item.as_str().ok_or(TokenError::MissingClaim)?;
                    matches |= self.audiences.iter().any(|a| a == item);
                }
                matches
            }
            _ => return Err(TokenError::MissingClaim),
        };
        if exp < now.saturating_sub(self.leeway) {
            return Err(TokenError::Expired);
        }
        match claims.get("nbf") {
            None | Some(Value::Null) => {}
            Some(nbf) => match numeric_date(nbf) {
                Some(nbf) if nbf > now + self.leeway => return Err(TokenError::NotYetValid),
                Some(_) => {}
                None => return Err(TokenError::MalformedClaims),
            },
        }
        if issuer != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if !audience_matches {
            return Err(TokenError::WrongAudience);
        }
        Ok(())
    }
}
