//! DPoP (RFC 9449) at the authorization server: a proof checked completely
//! (`portcullis_dpop::verify`), its `jti` accepted once across replicas (the store), and the
//! server nonces that bound how long a proof made in advance stays usable.
//!
//! Nonces hold no state: a nonce is the number of its time window and an HMAC of it under a
//! key derived from the master key, which every replica shares, so any replica accepts the
//! nonce another issued, for the window it was issued in and the next.

use aws_lc_rs::hmac;
use portcullis_dpop::{Check, ProofError};
use portcullis_store::{Store, StoreError};

use crate::{
    keys::LEEWAY,
    secrets::{b64url, is_b64url_sha256, lookup_hash},
};

pub use portcullis_dpop::{Proof, ALGORITHMS, ALGORITHM_NAMES};

/// How many seconds in the past a proof's `iat` may be.
pub const PROOF_MAX_AGE: i64 = 60;

/// The length of a nonce's window, in seconds: a nonce is good for one to two of them.
const NONCE_WINDOW: i64 = 300;

/// Issues and checks the server's DPoP nonces.
pub struct DpopNonces {
    key: hmac::Key,
}

impl std::fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopNonces")
    }
}

impl DpopNonces {
    /// Nonces under a key derived from the master key (a label keeps it apart from the
    /// master key's other uses).
    pub fn new(master_key: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, master_key);
        let derived = hmac::sign(&root, b"portcullis dpop nonce v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The nonce of the window `now` falls in.
    pub fn issue(&self, now: i64) -> String {
        self.for_window(now.div_euclid(NONCE_WINDOW))
    }

    fn for_window(&self, window: i64) -> String {
        let window = window.to_be_bytes();
        let tag = hmac::sign(&self.key, &window);
        let mut bytes = window.to_vec();
        bytes.extend_from_slice(&tag.as_ref()[..16]);
        b64url(&bytes)
    }

    /// Whether `nonce` was issued in the current window or the one before.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let window = now.div_euclid(NONCE_WINDOW);
        [window, window - 1]
            .iter()
            .any(|w| constant_time_eq(self.for_window(*w).as_bytes(), nonce.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Why a DPoP proof was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum DpopError {
    /// `invalid_dpop_proof`: the description is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// `use_dpop_nonce`: the proof carries no nonce, or one that is no longer accepted.
    #[error("a DPoP nonce is required")]
    UseNonce,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ProofError> for DpopError {
    fn from(error: ProofError) -> Self {
        DpopError::Invalid(error.to_string())
    }
}

/// The request a proof comes with.
pub struct ProofContext<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub now: i64,
    /// The access token the proof must name (`ath`), where one is presented.
    pub access_token: Option<&'a str>,
    /// The nonces to require, where the endpoint requires one.
    pub nonces: Option<&'a DpopNonces>,
}

/// Checks `proof` for the request `cx` describes, then accepts its `jti` once (a replay, here
/// or on another replica, is refused).
pub async fn check_proof(
    store: &dyn Store,
    proof: &str,
    cx: &ProofContext<'_>,
) -> Result<Proof, DpopError> {
    let proof = portcullis_dpop::verify(
        proof,
        &Check {
            method: cx.method,
            url: cx.url,
            now: cx.now,
            max_age: PROOF_MAX_AGE,
            leeway: LEEWAY,
            access_token: cx.access_token,
        },
    )?;
    if let Some(nonces) = cx.nonces {
        if !proof
            .nonce
            .as_deref()
            .is_some_and(|n| nonces.accepts(n, cx.now))
        {
            return Err(DpopError::UseNonce);
        }
    }
    // The same jti under another key is another proof; hashed, so a row has a fixed size.
    let seen = lookup_hash(&format!("{}:{}", proof.jkt, proof.jti));
    // The latest a proof made now could still pass: iat up to LEEWAY ahead, then its age.
    let expires_at = cx.now + LEEWAY + PROOF_MAX_AGE;
    if !store.use_dpop_proof(&seen, expires_at).await? {
        return Err(DpopError::Invalid(
            "the DPoP proof's jti has already been used".to_owned(),
        ));
    }
    Ok(proof)
}

/// The `dpop_jkt` of an authorization request (RFC 9449 §10): the thumbprint of the key whose
/// proof alone may redeem the code. An empty value counts as absent; a value that is not a
/// SHA-256 thumbprint is refused with the reason (an `invalid_request`).
pub fn code_binding(dpop_jkt: Option<&str>) -> Result<Option<String>, &'static str> {
    match dpop_jkt.filter(|jkt| !jkt.is_empty()) {
        None => Ok(None),
        Some(jkt) if is_b64url_sha256(jkt) => Ok(Some(jkt.to_owned())),
        Some(_) => Err("dpop_jkt must be a JWK SHA-256 thumbprint (base64url, 43 characters)"),
    }
}

/// Whether a token request whose proof is by the key of thumbprint `proof_jkt` may redeem a
/// code bound to `bound` (RFC 9449 §10.1): a bound code needs a proof by that very key; an
/// unbound code takes any proof, or none.
pub fn redeems_code(bound: Option<&str>, proof_jkt: Option<&str>) -> bool {
    bound.is_none() || bound == proof_jkt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_last_one_to_two_windows_and_need_the_key() {
        let nonces = DpopNonces::new(&[1; 32]);
        let nonce = nonces.issue(1_000_000);
        assert!(nonces.accepts(&nonce, 1_000_000));
        assert!(nonces.accepts(&nonce, 1_000_000 + NONCE_WINDOW));
        assert!(!nonces.accepts(&nonce, 1_000_000 + 2 * NONCE_WINDOW));
        assert!(!DpopNonces::new(&[2; 32]).accepts(&nonce, 1_000_000));
        assert!(!nonces.accepts("made-up", 1_000_000));
    }
}
