//! DPoP (RFC 9449) at the HTTP edge: the `DPoP` header read once, the proof handed to
//! `portcullis_core::dpop`, its refusals in RFC 9449's shapes, and the server nonce on answers.

use axum::http::{HeaderMap, HeaderValue};
pub use portcullis_core::dpop::Proof;
use portcullis_core::dpop::{check_proof, DpopError, DpopNonces, ProofContext, ALGORITHM_NAMES};

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

pub use portcullis_web::dpop::{DPOP, DPOP_NONCE};

/// Where a proof is checked: the token endpoint requires a server nonce and answers 400; a
/// protected resource (`/userinfo`) requires none and answers 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Resource,
}

/// The nonces of this tenant (derived from the master key, so every replica's agree).
pub fn nonces(app: &AppState) -> DpopNonces {
    DpopNonces::new(app.settings.master_key.expose())
}

/// A fresh nonce, for the `DPoP-Nonce` header of an answer to a DPoP request.
pub fn fresh_nonce(app: &AppState) -> Option<HeaderValue> {
    HeaderValue::from_str(&nonces(app).issue(app.clock.now())).ok()
}

/// The request's DPoP proof, checked, if it has one: at most one `DPoP` header (RFC 9449
/// §4.3), for `method` on the issuer's `path`, naming `access_token` where one is presented.
pub async fn proof(
    app: &AppState,
    headers: &HeaderMap,
    endpoint: Endpoint,
    method: &str,
    path: &str,
    access_token: Option<&str>,
) -> Result<Option<Proof>, OAuthError> {
    let mut values = headers.get_all(&DPOP).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("only one DPoP header is allowed"));
    }
    let value = value
        .to_str()
        .map_err(|_| invalid("the DPoP header is not readable"))?;
    let nonces = nonces(app);
    let url = format!("{}{}", app.settings.issuer, path.trim_start_matches('/'));
    let cx = ProofContext {
        method,
        url: &url,
        now: app.clock.now(),
        access_token,
        nonces: (endpoint == Endpoint::Token).then_some(&nonces),
    };
    match check_proof(app.store.as_ref(), value, &cx).await {
        Ok(proof) => Ok(Some(proof)),
        Err(DpopError::Invalid(description)) => Err(invalid(&description)),
        Err(DpopError::UseNonce) => Err(OAuthError {
            dpop_nonce: Some(nonces.issue(cx.now)),
            ..OAuthError::new(
                ErrorCode::UseDpopNonce,
                "Authorization server requires nonce in DPoP proof",
            )
        }),
        Err(DpopError::Store(error)) => Err(error.into()),
    }
}

/// `invalid_dpop_proof` (a resource answers it 401 with a `DPoP` challenge instead of 400).
pub fn invalid(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, description)
}

/// The `WWW-Authenticate` challenge of a resource that takes DPoP tokens, with `error` when
/// a request failed.
pub fn challenge(error: Option<(&str, &str)>) -> String {
    let algs = ALGORITHM_NAMES.join(" ");
    match error {
        Some((code, description)) => format!(
            "DPoP algs=\"{algs}\", error=\"{code}\", error_description=\"{}\"",
            description.replace(['"', '\\'], "'")
        ),
        None => format!("DPoP algs=\"{algs}\""),
    }
}
