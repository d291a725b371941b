//! Why a request was refused, and how that becomes an RFC 6750 response.

use std::{fmt, sync::Arc};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use jsonwebtoken::errors::ErrorKind;
use serde_json::{json, Value};

use crate::scope::ScopePolicy;

/// Why a request was not let through.
///
/// The [`Display`](fmt::Display) text and [`AuthError::description`] are safe to send to the
/// caller: they never contain the token, key identifiers, or the expected issuer or audience.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The request carries no bearer token (RFC 6750 §3.1: answer without an error code).
    #[error("the request carries no access token")]
    MissingToken,
    /// A token was presented and rejected.
    #[error(transparent)]
    InvalidToken(#[from] TokenError),
    /// The token is valid but does not grant what the route requires.
    #[error("the access token does not grant the required scope")]
    InsufficientScope(ScopePolicy),
    /// No signing key has ever been loaded and the JWKS endpoint cannot be reached, so no token
    /// can be checked. Answered with 503 rather than blaming the caller's token.
    #[error("the API cannot verify access tokens right now")]
    KeysUnavailable,
    /// RFC 9449 §7.1: the DPoP proof of a bound token is missing or refused
    /// (`invalid_dpop_proof`, challenged with the `DPoP` scheme).
    #[error("{0}")]
    InvalidDpopProof(String),
}

/// Why a presented token was rejected. Every variant maps to `401 invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than the configured cap; rejected before any decoding.
    #[error("the access token is too large")]
    TooLarge,
    /// Not a compact JWS: wrong number of segments, characters outside base64url, an empty
    /// segment (such as a stripped signature), or a header or payload that is not JSON.
    #[error("the access token is malformed")]
    Malformed,
    /// The header's `alg` is not in the allow-list (this includes `none` in any spelling).
    #[error("the access token's signing algorithm is not accepted")]
    DisallowedAlgorithm,
    /// The header carries a parameter we never trust (`jku`, `x5u`, `jwk`, `x5c`) or one that
    /// signals a format we do not accept (`enc`, `zip`, `b64`, nested `cty`).
    #[error("the access token's header carries a parameter that is not accepted")]
    ForbiddenHeader,
    /// The header lists `crit` extensions; we implement none, so RFC 7515 §4.1.11 says reject.
    #[error("the access token's header lists critical extensions that are not supported")]
    CriticalHeader,
    /// `typ` is present and is neither `JWT` nor `at+jwt`.
    #[error("the access token has an unexpected type")]
    UnexpectedType,
    /// `kid` is too long or contains characters outside the accepted set.
    #[error("the access token's key identifier is not accepted")]
    InvalidKeyId,
    /// No key in the issuer's key set matches the token's `kid` (or its algorithm).
    #[error("the access token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the access token's signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past (beyond the clock tolerance).
    #[error("the access token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the clock tolerance).
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the clock tolerance).
    #[error("the access token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not exactly the configured issuer.
    #[error("the access token was issued by an issuer this API does not trust")]
    WrongIssuer,
    /// `aud` contains none of the accepted audiences.
    #[error("the access token is not meant for this API")]
    WrongAudience,
    /// `exp`, `iss` or `aud` is missing (or not of the right JSON type).
    #[error("the access token lacks a required claim")]
    MissingClaim,
    /// A registered claim has the wrong JSON type, or the claims do not fit the type the
    /// handler asked for.
    #[error("the access token's claims are malformed")]
    MalformedClaims,
    /// The token is bound to a DPoP key and was presented as a bearer token.
    #[error("the access token is bound to a DPoP key: use the DPoP scheme with a proof")]
    DpopBound,
    /// The token came with the DPoP scheme but is bound to no key.
    #[error("the access token is not bound to a DPoP key")]
    NotDpopBound,
}

impl AuthError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) | Self::InvalidDpopProof(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 §3.1 error code, if the response carries one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope(_) => Some("insufficient_scope"),
            Self::KeysUnavailable => Some("temporarily_unavailable"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
        }
    }

    /// A human-readable description that is safe to send to the caller.
    pub fn description(&self) -> String {
        let mut text = self.to_string();
        // Sentence case for the wire; the Display form stays lower case for log lines.
        if let Some(first) = text.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        text
    }

    /// The `scope` attribute of an `insufficient_scope` challenge: the scopes the route asks for.
    pub fn required_scope(&self) -> Option<String> {
        match self {
            Self::InsufficientScope(policy) => Some(policy.scopes().join(" ")),
            _ => None,
        }
    }
}

/// Builds the JSON body of a refusal. The status and `WWW-Authenticate` header are always set
/// by the guard; only the body is up to the application.
pub type ErrorBodyFn = dyn Fn(&AuthError) -> Value + Send + Sync;

/// How refusals are rendered: the challenge's realm and the body builder.
#[derive(Clone)]
pub(crate) struct ResponseStyle {
    pub(crate) realm: String,
    pub(crate) body: Option<Arc<ErrorBodyFn>>,
    /// The RFC 9728 metadata URL every challenge names, when configured.
    pub(crate) resource_metadata: Option<String>,
}

impl fmt::Debug for ResponseStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStyle")
            .field("realm", &self.realm)
            .field("custom_body", &self.body.is_some())
            .finish()
    }
}

/// The default body: the same information as the challenge, as JSON.
pub(crate) fn default_body(error: &AuthError) -> Value {
    let mut body = json!({ "error_description": error.description() });
    if let Some(code) = error.error_code() {
        body["error"] = Value::from(code);
    }
    if let Some(scope) = error.required_scope() {
        body["scope"] = Value::from(scope);
    }
    body
}

/// A refused request, ready to be turned into a response. Returned by the extractor and the
/// layer; handlers can also build one with [`Guard::reject`](crate::Guard::reject).
#[derive(Debug)]
pub struct GuardRejection {
    error: AuthError,
    style: Arc<ResponseStyle>,
}

impl GuardRejection {
    pub(crate) fn new(error: AuthError, style: Arc<ResponseStyle>) -> Self {
        Self { error, style }
    }

    /// Why the request was refused.
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    fn challenge(&self) -> String {
        let mut challenge = format!("Bearer realm={}", quoted(&self.style.realm));
        if let Some(code) = self.error.error_code() {
            if self.error.status() != StatusCode::SERVICE_UNAVAILABLE
                && !matches!(self.error, AuthError::InvalidDpopProof(_))
            {
                challenge.push_str(&format!(", error=\"{code}\""));
                challenge.push_str(&format!(
                    ", error_description={}",
                    quoted(&self.error.description())
                ));
            }
        }
        if let Some(scope) = self.error.required_scope() {
            challenge.push_str(&format!(", scope={}", quoted(&scope)));
        }
        // RFC 9728 §5.1: where a client learns which authorization server to ask.
        if let Some(url) = &self.style.resource_metadata {
            challenge.push_str(&format!(", resource_metadata={}", quoted(url)));
        }
        challenge
    }

    /// The `DPoP` challenge (RFC 9449 §7.1) offered next to the Bearer one on every 401,
    /// carrying the error when the proof was what failed.
    fn dpop_challenge(&self) -> String {
        let mut challenge = format!(
            "DPoP algs={}",
            quoted(&portcullis_dpop::ALGORITHM_NAMES.join(" "))
        );
        if let AuthError::InvalidDpopProof(_) = &self.error {
            challenge.push_str(&format!(
                ", error=\"invalid_dpop_proof\", error_description={}",
                quoted(&self.error.description())
            ));
        }
        challenge
    }
}

impl IntoResponse for GuardRejection {
    fn into_response(self) -> Response {
        let body = match &self.style.body {
            Some(build) => build(&self.error),
            None => default_body(&self.error),
        };
        let mut response = (self.error.status(), Json(body)).into_response();
        if self.error.status() != StatusCode::SERVICE_UNAVAILABLE {
            // Every character we put in comes from our own descriptions, the configured realm
            // (checked at build time) or scope names (escaped by `quoted`), so this cannot fail;
            // still, a missing header is better than a panic.
            if let Ok(value) = HeaderValue::from_str(&self.challenge()) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            if self.error.status() == StatusCode::UNAUTHORIZED {
                if let Ok(value) = HeaderValue::from_str(&self.dpop_challenge()) {
                    response
                        .headers_mut()
                        .append(header::WWW_AUTHENTICATE, value);
                }
            }
        }
        response
    }
}

/// The [`TokenError`] of a jsonwebtoken failure.
pub(crate) fn token_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::InvalidSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaim,
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::InvalidSubject => TokenError::MalformedClaims,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => TokenError::DisallowedAlgorithm,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => TokenError::Malformed,
        // Key-format and provider errors: this key cannot have produced this signature.
        _ => TokenError::InvalidSignature,
    }
}

/// An RFC 9110 quoted-string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_quotes_and_backslashes() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn description_is_sentence_case() {
        assert_eq!(
            AuthError::InvalidToken(TokenError::Expired).description(),
            "The access token has expired"
        );
    }
}
