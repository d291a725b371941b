//! Verification with keys parsed once: each JWKS key is turned into aws-lc-rs public keys
//! (one per algorithm it may verify) when the key set is loaded, so a token costs one
//! signature check over its signing input, one base64 decoding and one JSON pass over its
//! payload that reads only the claims the guard checks, and the registered-claim checks —
//! never a key parse. The payload is kept as text; a handler that asks for the claims as
//! JSON values gets them parsed once, and a typed extractor deserializes straight from it.
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
use serde::Deserialize;
use serde_json::Value;

use crate::{
    error::TokenError,
    header_policy::CompactJws,
    scope::{ScopeClaims, ScopeSet},
};

/// The longest signature of the algorithms verified here: RSA with an 8192-bit modulus.
const MAX_SIGNATURE_BYTES: usize = 8192 / 8;

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

    /// Checks the signature of `jws` (whose header allowed `alg`).
    pub(crate) fn verify_signature(
        &self,
        jws: &CompactJws<'_>,
        alg: Algorithm,
    ) -> Result<(), TokenError> {
        let key = self
            .0
            .iter()
            .find_map(|(known, key)| (*known == alg).then_some(key))
            .ok_or(TokenError::UnknownKey)?;
        // Decoded on the stack: no signature these algorithms make is longer than an
        // RSA-8192 one, and a longer segment cannot be a signature. (The decoder asks for room
        // for its estimate, which may exceed the exact length by two bytes.)
        let mut signature = [0u8; MAX_SIGNATURE_BYTES + 3];
        let length = URL_SAFE_NO_PAD
            .decode_slice(jws.signature, &mut signature)
            .map_err(|_| TokenError::Malformed)?;
        key.verify_sig(jws.signing_input.as_bytes(), &signature[..length])
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
    pub(crate) scope_claims: ScopeClaims,
}

/// The claims the guard reads, taken from the payload in one pass; every other member is
/// skipped, though serde_json still checks that it is well-formed JSON. A `null` counts as
/// absent; a registered claim given twice makes the payload malformed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Registered {
    exp: Option<Value>,
    nbf: Option<Value>,
    iat: Option<Value>,
    iss: Option<Value>,
    aud: Option<Value>,
    scope: Option<Value>,
    permissions: Option<Value>,
    cnf: Option<Value>,
}

/// A payload that passed [`ClaimRules::check`]: the JSON text as the issuer signed it and
/// what the guard read from it.
pub(crate) struct CheckedClaims {
    pub(crate) json: Box<str>,
    pub(crate) scopes: ScopeSet,
    pub(crate) expires_at: u64,
    /// The `cnf.jkt` of a DPoP-bound token (RFC 9449 §6.1).
    pub(crate) dpop_jkt: Option<Box<str>>,
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
    /// Decodes the payload of `jws` (whose signature verified) and checks `exp`, `nbf`,
    /// `iat`, `iss` and `aud` at `now`.
    pub(crate) fn check(
        &self,
        jws: &CompactJws<'_>,
        now: u64,
    ) -> Result<CheckedClaims, TokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(jws.payload)
            .map_err(|_| TokenError::Malformed)?;
        let json = String::from_utf8(bytes).map_err(|_| TokenError::Malformed)?;
        if !json.trim_start().starts_with('{') {
            return Err(TokenError::Malformed);
        }
        let claims: Registered = serde_json::from_str(&json).map_err(|_| TokenError::Malformed)?;
        let expires_at = self.check_registered(&claims, now)?;
        Ok(CheckedClaims {
            scopes: granted_scopes(&claims, self.scope_claims),
            expires_at,
            dpop_jkt: claims
                .cnf
                .as_ref()
                .and_then(|cnf| cnf.get("jkt"))
                .and_then(Value::as_str)
                .map(Box::from),
            json: json.into_boxed_str(),
        })
    }

    /// The registered-claim rules; returns `exp`.
    fn check_registered(&self, claims: &Registered, now: u64) -> Result<u64, TokenError> {
        let exp = claims
            .exp
            .as_ref()
            .and_then(numeric_date)
            .ok_or(TokenError::MissingClaim)?;
        let issuer = claims
            .iss
            .as_ref()
            .and_then(Value::as_str)
            .ok_or(TokenError::MissingClaim)?;
        let audience_matches = match &claims.aud {
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
        if let Some(nbf) = &claims.nbf {
            match numeric_date(nbf) {
                Some(nbf) if nbf > now + self.leeway => return Err(TokenError::NotYetValid),
                Some(_) => {}
                None => return Err(TokenError::MalformedClaims),
            }
        }
        // A token from the future means a forged token or an issuer with a broken clock, and
        // either way it should not be honoured.
        if let Some(iat) = &claims.iat {
            match iat.as_f64() {
                Some(iat) if iat <= (now + self.leeway) as f64 => {}
                Some(_) => return Err(TokenError::IssuedInFuture),
                None => return Err(TokenError::MalformedClaims),
            }
        }
        if issuer != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if !audience_matches {
            return Err(TokenError::WrongAudience);
        }
        Ok(exp)
    }
}

/// The scopes `claims` grant, from the claims `source` names.
fn granted_scopes(claims: &Registered, source: ScopeClaims) -> ScopeSet {
    let (delimited, scope_items): (&str, &[Value]) = match (source, &claims.scope) {
        (ScopeClaims::Permissions, _) => ("", &[]),
        (_, Some(Value::String(delimited))) => (delimited, &[]),
        (_, Some(Value::Array(items))) => ("", items),
        _ => ("", &[]),
    };
    let permissions: &[Value] = match (source, &claims.permissions) {
        (ScopeClaims::Scope, _) => &[],
        (_, Some(Value::Array(items))) => items,
        _ => &[],
    };
    ScopeSet::of(
        delimited.split_ascii_whitespace().chain(
            scope_items
                .iter()
                .chain(permissions)
                .filter_map(Value::as_str),
        ),
    )
}

#[cfg(test)]
mod tests {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn rules(scope_claims: ScopeClaims) -> ClaimRules {
        ClaimRules {
            issuer: "https://issuer.example/".to_owned(),
            audiences: vec!["https://api.example".to_owned()],
            leeway: 5,
            scope_claims,
        }
    }

    /// Checks a payload given as JSON text.
    fn check(payload: &str, scope_claims: ScopeClaims) -> Result<CheckedClaims, TokenError> {
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
        let jws = CompactJws::split(&token, 8192)?;
        rules(scope_claims).check(&jws, NOW)
    }

    fn valid() -> Value {
        json!({
            "iss": "https://issuer.example/", "aud": ["https://api.example", "other"],
            "sub": "auth0|1", "exp": NOW + 60, "iat": NOW,
            "scope": "read:messages openid", "permissions": ["write:messages"],
        })
    }

    #[test]
    fn a_valid_payload_is_kept_as_signed() -> Result<(), TokenError> {
        let text = valid().to_string();
        let checked = check(&text, ScopeClaims::ScopeAndPermissions)?;
        assert_eq!(&*checked.json, text);
        assert_eq!(checked.expires_at, NOW + 60);
        assert_eq!(
            checked.scopes.iter().collect::<Vec<_>>(),
            ["openid", "read:messages", "write:messages"]
        );
        assert_eq!(checked.dpop_jkt, None);
        let scopes = check(&text, ScopeClaims::Scope)?.scopes;
        assert!(!scopes.contains("write:messages") && scopes.contains("openid"));
        let permissions = check(&text, ScopeClaims::Permissions)?.scopes;
        assert_eq!(permissions.iter().collect::<Vec<_>>(), ["write:messages"]);
        Ok(())
    }

    #[test]
    fn the_dpop_key_is_read_from_cnf() -> Result<(), TokenError> {
        let mut claims = valid();
        claims["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
        let checked = check(&claims.to_string(), ScopeClaims::Scope)?;
        assert_eq!(
            checked.dpop_jkt.as_deref(),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
        Ok(())
    }

    #[test]
    fn payloads_that_are_not_one_json_object_are_malformed() {
        let exp = NOW + 60;
        for payload in [
            "[]".to_owned(),
            format!(r#"["https://issuer.example/", "https://api.example", {exp}]"#),
            "null".to_owned(),
            r#""text""#.to_owned(),
            format!(
                r#"{{"iss": "https://issuer.example/", "aud": "https://api.example", "exp": {exp}}} x"#
            ),
            format!(
                r#"{{"iss": "https://issuer.example/", "aud": "https://api.example", "exp": {exp}, "exp": {exp}}}"#
            ),
            format!(
                r#"{{"iss": "https://issuer.example/", "aud": "https://api.example", "exp": {exp}, "other": }}"#
            ),
        ] {
            assert!(
                matches!(
                    check(&payload, ScopeClaims::Scope),
                    Err(TokenError::Malformed)
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn registered_claims_of_the_wrong_type_are_refused() {
        for (claim, value) in [
            ("exp", json!("soon")),
            ("exp", Value::Null),
            ("iss", json!(1)),
            ("aud", json!(["https://api.example", 2])),
            ("aud", json!({"aud": "https://api.example"})),
        ] {
            let mut claims = valid();
            claims[claim] = value.clone();
            assert!(
                matches!(
                    check(&claims.to_string(), ScopeClaims::Scope),
                    Err(TokenError::MissingClaim)
                ),
                "{claim}: {value}"
            );
        }
        for (claim, value) in [("nbf", json!("later")), ("iat", json!("now"))] {
            let mut claims = valid();
            claims[claim] = value.clone();
            assert!(
                matches!(
                    check(&claims.to_string(), ScopeClaims::Scope),
                    Err(TokenError::MalformedClaims)
                ),
                "{claim}: {value}"
            );
        }
    }
}
