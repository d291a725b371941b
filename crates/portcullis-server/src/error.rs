//! Protocol errors (RFC 6749 §5.2, RFC 6750 §3, OIDC Core §3.1.2.6) and their responses.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

/// The registered error codes we answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    /// Auth0's answer to an authorization request of a blocked user.
    Unauthorized,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    InvalidToken,
    /// A rate limit (Auth0's code; RFC 6585 §4).
    TooManyRequests,
    /// Auth0's answer to a password grant whose user must pass a second factor.
    MfaRequired,
    /// Auth0's MFA API: `/mfa/challenge` for a kind of factor the user has not enrolled.
    UnsupportedChallengeType,
    /// The store cannot be reached for now (RFC 6749 §4.1.2.1's code, answered 503 with
    /// `Retry-After` on every endpoint).
    TemporarilyUnavailable,
    /// RFC 9449 §5: the DPoP proof was refused.
    InvalidDpopProof,
    /// RFC 9449 §8: the proof must carry the server nonce the response names (`DPoP-Nonce`).
    UseDpopNonce,
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::MfaRequired => "mfa_required",
            ErrorCode::UnsupportedChallengeType => "unsupported_challenge_type",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::ServerError => "server_error",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::AccessDenied | ErrorCode::MfaRequired => StatusCode::FORBIDDEN,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// A protocol error: a code and a description safe to show the client.
#[derive(Clone, Debug)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// The client tried HTTP Basic authentication: a 401 must challenge it (RFC 6749 §5.2).
    pub basic_challenge: bool,
    /// A server nonce for the client's next DPoP proof (`DPoP-Nonce`), with `use_dpop_nonce`.
    pub dpop_nonce: Option<String>,
    /// With `mfa_required`: the token that names the pending login (Auth0's `mfa_token`).
    pub mfa_token: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
            dpop_nonce: None,
            mfa_token: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// Auth0's refusal of a blocked user's authorization request.
    pub fn blocked() -> Self {
        Self::new(ErrorCode::Unauthorized, "user is blocked")
    }

    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::ServerError,
            "The server could not complete the request.",
        )
    }
}

impl From<portcullis_store::StoreError> for OAuthError {
    fn from(error: portcullis_store::StoreError) -> Self {
        OAuthError::internal(error)
    }
}

impl From<portcullis_core::tokens::MintError> for OAuthError {
    fn from(error: portcullis_core::tokens::MintError) -> Self {
        OAuthError::internal(error)
    }
}

impl From<portcullis_core::keys::KeyError> for OAuthError {
    fn from(error: portcullis_core::keys::KeyError) -> Self {
        OAuthError::internal(error)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mfa_token: Option<&'a str>,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.code.status(),
            Json(ErrorBody {
                error: self.code.as_str(),
                error_description: &self.description,
                mfa_token: self.mfa_token.as_deref(),
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.code == ErrorCode::InvalidClient && self.basic_challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"portcullis\""),
            );
        }
        if self.code == ErrorCode::InvalidToken {
            let challenge = format!(
                "Bearer realm=\"portcullis\", error=\"invalid_token\", error_description=\"{}\"",
                self.description.replace(['"', '\\'], "'")
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(value) = self
            .dpop_nonce
            .as_deref()
            .and_then(|nonce| HeaderValue::from_str(nonce).ok())
        {
            headers.insert(portcullis_web::dpop::DPOP_NONCE, value);
        }
        if self.code == ErrorCode::TemporarilyUnavailable {
            response = portcullis_web::retry_after_outage(response);
        }
        response
    }
}
