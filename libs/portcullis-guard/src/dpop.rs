//! DPoP (RFC 9449) at the resource: a token bound to a key (`cnf.jkt`) is accepted only with
//! the `DPoP` scheme and a proof by that key for this very request, each proof once.
//!
//! Proofs are checked by `portcullis_dpop` (signature with the proof's own key, `typ`, the
//! algorithm allow-list, `htm`, `htu`, `iat`, `ath`); the `jti`s seen are kept here, in memory,
//! for as long as a proof can pass, and never more than [`MAX_REMEMBERED_PROOFS`] at once.

use std::{collections::HashMap, sync::Mutex};

use axum::http::{header, HeaderMap, HeaderName, Method, Uri};
use portcullis_dpop::{Check, ProofError};

use crate::{
    claims::VerifiedToken,
    error::{AuthError, TokenError},
};

/// How many seconds in the past a proof's `iat` may be.
const PROOF_MAX_AGE: i64 = 60;

/// The most proofs remembered at once; past it (after dropping the expired ones) a new proof
/// is refused rather than let through unremembered.
pub const MAX_REMEMBERED_PROOFS: usize = 100_000;

const DPOP: HeaderName = HeaderName::from_static("dpop");

/// The proofs seen, and where this API is reached from (for `htu`).
#[derive(Debug, Default)]
pub(crate) struct DpopVerifier {
    /// `scheme://host[:port]` as clients address the API; from the request's `Host` otherwise.
    pub(crate) origin: Option<String>,
    /// How many seconds in the future a proof's `iat` may be (the guard's clock tolerance).
    pub(crate) leeway: i64,
    seen: Mutex<HashMap<String, i64>>,
}

impl DpopVerifier {
    /// Checks the request's proof for a token bound to `jkt`: `method` and the request's URL,
    /// the token's hash, the key, and that the proof is new.
    pub(crate) fn check(
        &self,
        method: &Method,
        headers: &HeaderMap,
        uri: &Uri,
        token: &str,
        jkt: &str,
        now: i64,
    ) -> Result<(), AuthError> {
        let leeway = self.leeway;
        let mut proofs = headers.get_all(&DPOP).iter();
        let proof = match (proofs.next(), proofs.next()) {
            (Some(proof), None) => proof
                .to_str()
                .map_err(|_| invalid("the DPoP header is not readable"))?,
            (None, _) => return Err(invalid("a DPoP proof is required")),
            (Some(_), Some(_)) => return Err(invalid("only one DPoP header is allowed")),
        };
        let url = self
            .request_url(headers, uri)
            .ok_or_else(|| invalid("the request's URL is unknown"))?;
        let proof = portcullis_dpop::verify(
            proof,
            &Check {
                method: method.as_str(),
                url: &url,
                now,
                max_age: PROOF_MAX_AGE,
                leeway,
                access_token: Some(token),
            },
        )
        .map_err(|error: ProofError| invalid(&error.to_string()))?;
        if proof.jkt != jkt {
            return Err(invalid(
                "the DPoP proof's key is not the one the token is bound to",
            ));
        }
        self.remember(
            format!("{}:{}", proof.jkt, proof.jti),
            now + leeway + PROOF_MAX_AGE,
            now,
        )
    }

    fn remember(&self, id: String, until: i64, now: i64) -> Result<(), AuthError> {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= MAX_REMEMBERED_PROOFS {
            seen.retain(|_, expires| *expires > now);
            if seen.len() >= MAX_REMEMBERED_PROOFS {
                return Err(invalid("too many DPoP proofs at once; try again"));
            }
        }
        match seen.get(&id) {
            Some(expires) if *expires > now => {
                Err(invalid("the DPoP proof's jti has already been used"))
            }
            _ => {
                seen.insert(id, until);
                Ok(())
            }
        }
    }

    /// The URL the client addressed: the configured origin (or `http://` and the `Host`
    /// header) and the request's path.
    fn request_url(&self, headers: &HeaderMap, uri: &Uri) -> Option<String> {
        let origin = match &self.origin {
            Some(origin) => origin.clone(),
            None => {
                let host = headers.get(header::HOST)?.to_str().ok()?;
                let scheme = uri.scheme_str().unwrap_or("http");
                format!("{scheme}://{host}")
            }
        };
        Some(format!("{}{}", origin.trim_end_matches('/'), uri.path()))
    }
}

fn invalid(description: &str) -> AuthError {
    AuthError::InvalidDpopProof(description.to_owned())
}

/// The token of an `Authorization: DPoP <token>` header, if the request uses that scheme.
pub(crate) fn dpop_token(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| TokenError::Malformed)?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("dpop") => {
            let token = token.trim_start_matches(' ');
            if token.is_empty() || token.contains(' ') {
                return Err(TokenError::Malformed.into());
            }
            Ok(Some(token))
        }
        _ => Ok(None),
    }
}

/// The `jkt` a token's `cnf` binds it to, if any.
pub(crate) fn bound_key(token: &VerifiedToken) -> Option<&str> {
    token.dpop_jkt()
}
