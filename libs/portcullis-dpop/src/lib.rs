//! DPoP proofs (RFC 9449): what an authorization server and a resource server check in the
//! `DPoP` header before they trust that the caller holds the key a token is bound to.
//!
//! [`verify`] checks one proof completely except for what needs state: `jti` single use
//! (the caller keeps the seen ones, for as long as [`Check::max_age`] plus the leeway lets a
//! proof pass) and a server nonce (the caller compares [`Proof::nonce`] with the ones it issued).
//! Signatures are checked by `jsonwebtoken` with the key embedded in the proof's header; the key's
//! RFC 7638 thumbprint is the `jkt` a bound token carries in `cnf`.
//!
//! Nothing here knows HTTP frameworks or stores: the server and the guard call it with the
//! request's method and URL as they see them.

mod key;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    jwk::{Jwk, ThumbprintHash},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;

pub use self::key::{ProofKey, ProofRequest};

/// The algorithms a proof may be signed with: asymmetric only (a proof's key is public by
/// construction), in the order they are advertised.
pub const ALGORITHMS: &[Algorithm] = &[Algorithm::ES256, Algorithm::PS256, Algorithm::RS256];

/// The spelling of [`ALGORITHMS`], for discovery (`dpop_signing_alg_values_supported`) and the
/// `algs` parameter of a `WWW-Authenticate: DPoP` challenge.
pub const ALGORITHM_NAMES: &[&str] = &["ES256", "PS256", "RS256"];

/// A proof longer than this is refused before it is parsed (a P-256 proof is about 600 bytes,
/// an RSA-4096 one about 1,400).
pub const MAX_PROOF_BYTES: usize = 4096;

/// A `jti` longer than this is refused: it is kept until the proof's window ends.
const MAX_JTI_BYTES: usize = 256;

/// What the request a proof comes with looks like, and how old a proof may be.
#[derive(Clone, Copy, Debug)]
pub struct Check<'a> {
    /// The request's method (`POST`, `GET`...), compared with `htm` exactly.
    pub method: &'a str,
    /// The request's URL as the client addressed it; its query and fragment are ignored.
    pub url: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// How many seconds in the past `iat` may be.
    pub max_age: i64,
    /// How many seconds in the future `iat` may be (clock skew).
    pub leeway: i64,
    /// The access token the proof must be about (`ath`), at a resource server; `None` at the
    /// token endpoint, where a proof carries no `ath`.
    pub access_token: Option<&'a str>,
}

/// A proof that passed: the key's thumbprint, and what the caller still has to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the proof's key, base64url: the `cnf.jkt` of a token.
    pub jkt: String,
    /// The proof's unique identifier: accept it once.
    pub jti: String,
    pub iat: i64,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

/// Why a proof was refused; the `Display` text is safe for an `error_description`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("the DPoP proof is too long")]
    TooLong,
    #[error("the DPoP proof is not a signed JWT")]
    Malformed,
    #[error("the DPoP proof's typ must be dpop+jwt")]
    Type,
    #[error("the DPoP proof's alg is not one of {}", ALGORITHM_NAMES.join(", "))]
    Algorithm,
    #[error("the DPoP proof's header must carry a public jwk")]
    Key,
    #[error("the DPoP proof's signature does not verify with its jwk")]
    Signature,
    #[error("the DPoP proof's claims are missing or malformed")]
    Claims,
    #[error("the DPoP proof's htm does not match the request's method")]
    Method,
    #[error("the DPoP proof's htu does not match the request's URL")]
    Url,
    #[error("the DPoP proof's iat is outside the accepted window")]
    Stale,
    #[error("the DPoP proof's ath does not match the access token")]
    AccessTokenHash,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// Checks `proof` against the request `check` describes. See the crate's documentation for
/// what is left to the caller.
pub fn verify(proof: &str, check: &Check<'_>) -> Result<Proof, ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLong);
    }
    let header = jsonwebtoken::decode_header(proof).map_err(|_| ProofError::Malformed)?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err(ProofError::Type);
    }
    if !ALGORITHMS.contains(&header.alg) {
        return Err(ProofError::Algorithm);
    }
    let jwk = header.jwk.as_ref().ok_or(ProofError::Key)?;
    if carries_private_key(proof)? {
        return Err(ProofError::Key);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| ProofError::Key)?;
    let mut validation = Validation::new(header.alg);
    // A proof has no `exp`, `aud` or `iss`: its lifetime is the `iat` window checked below.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature
            | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm
            | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
            | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
            | jsonwebtoken::errors::ErrorKind::InvalidRsaKey(_) => ProofError::Signature,
            _ => ProofError::Claims,
        })?
        .claims;
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
        return Err(ProofError::Claims);
    }
    if claims.htm != check.method {
        return Err(ProofError::Method);
    }
    if !same_target(&claims.htu, check.url) {
        return Err(ProofError::Url);
    }
    if claims.iat < check.now.saturating_sub(check.max_age)
        || claims.iat > check.now.saturating_add(check.leeway)
    {
        return Err(ProofError::Stale);
    }
    match (check.access_token, claims.ath.as_deref()) {
        (Some(token), Some(ath)) if ath == access_token_hash(token) => {}
        (Some(_), _) => return Err(ProofError::AccessTokenHash),
        (None, _) => {}
    }
    Ok(Proof {
        jkt: thumbprint(jwk)?,
        jti: claims.jti,
        iat: claims.iat,
        nonce: claims.nonce,
    })
}

/// The RFC 7638 SHA-256 thumbprint of `jwk`, base64url.
pub fn thumbprint(jwk: &Jwk) -> Result<String, ProofError> {
    jwk.thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| ProofError::Key)
}

/// `ath`: the base64url SHA-256 of an access token.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        token.as_bytes(),
    ))
}

/// Whether the header's `jwk` holds private parameters (RFC 9449 §4.3: it must not). The
/// parsed `Jwk` drops members it does not know, so the header is read as plain JSON for this.
fn carries_private_key(proof: &str) -> Result<bool, ProofError> {
    let encoded = proof.split('.').next().ok_or(ProofError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| ProofError::Malformed)?;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)?;
    let jwk = header.get("jwk").and_then(|jwk| jwk.as_object());
    Ok(jwk.is_some_and(|jwk| {
        ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|m| jwk.contains_key(*m))
    }))
}

/// `htu` against the request's URL: the same scheme, host, port and path, whatever the query
/// and fragment (RFC 9449 §4.3), after the URL parser's normalisation (default ports, case).
fn same_target(htu: &str, url: &str) -> bool {
    let strip = |raw: &str| {
        url::Url::parse(raw).ok().map(|mut parsed| {
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed
        })
    };
    matches!((strip(htu), strip(url)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<'a>(url: &'a str, now: i64) -> Check<'a> {
        Check {
            method: "POST",
            url,
            now,
            max_age: 60,
            leeway: 5,
            access_token: None,
        }
    }

    #[test]
    fn a_proof_verifies_once_signed_and_names_its_key() {
        let key = ProofKey::generate().expect("key");
        let url = "https://as.example/oauth/token";
        let proof = key
            .proof(&ProofRequest {
                method: "POST",
                url,
                iat: Some(1000),
                ..Default::default()
            })
            .expect("proof");
        let passed = verify(&proof, &check(url, 1010)).expect("verifies");
        assert_eq!(passed.jkt, key.jkt());
        assert_eq!(passed.iat, 1000);
        assert_eq!(verify(&proof, &check(url, 2000)), Err(ProofError::Stale));
        assert_eq!(verify(&proof, &check(url, 990)), Err(ProofError::Stale));
        assert_eq!(
            verify(&proof, &check("https://as.example/userinfo", 1000)),
            Err(ProofError::Url)
        );
        let get = Check {
            method: "GET",
            ..check(url, 1000)
        };
        assert_eq!(verify(&proof, &get), Err(ProofError::Method));
        let bound = Check {
            access_token: Some("token"),
            ..check(url, 1000)
        };
        assert_eq!(verify(&proof, &bound), Err(ProofError::AccessTokenHash));
        // Another key's signature under this key's header does not verify.
        let other = ProofKey::generate().expect("key");
        let forged = other
            .proof(&ProofRequest {
                method: "POST",
                url,
                iat: Some(1000),
                ..Default::default()
            })
            .expect("proof");
        let mut parts = proof.split('.').map(str::to_owned).collect::<Vec<_>>();
        parts[2] = forged.rsplit('.').next().expect("signature").to_owned();
        assert_eq!(
            verify(&parts.join("."), &check(url, 1000)),
            Err(ProofError::Signature)
        );
        assert_eq!(verify("a.b", &check(url, 1000)), Err(ProofError::Malformed));
    }

    #[test]
    fn targets_compare_without_query_and_fragment() {
        assert!(same_target(
            "https://a.example/token",
            "https://a.example:443/token?x=1"
        ));
        assert!(same_target(
            "https://A.example/token#f",
            "https://a.example/token"
        ));
        assert!(!same_target(
            "https://a.example/token/",
            "https://a.example/token"
        ));
        assert!(!same_target(
            "http://a.example/token",
            "https://a.example/token"
        ));
        assert!(!same_target("not a url", "https://a.example/token"));
    }

    #[test]
    fn ath_is_the_base64url_sha256_of_the_token() {
        // RFC 9449 §7.1's example token and its ath.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
