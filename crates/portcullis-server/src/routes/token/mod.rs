//! `POST /oauth/token` (RFC 6749 §3.2): authorization_code with PKCE, refresh_token with
//! rotation and reuse detection, client_credentials; and `POST /oauth/revoke` (RFC 7009).
//! Bodies come as form or JSON (spa-js v1 sends JSON); unknown parameters are ignored.
//!
//! - [`request`]: the client's credentials and the grant's request, parsed.
//! - [`grants`]: each grant.

mod binding;
mod grants;
pub(crate) mod mfa;
mod password;
pub(crate) mod request;

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{audit, secrets::lookup_hash};
use portcullis_store::User;
use portcullis_types::{EventType, GrantType};
use portcullis_web::ClientOrigin;
use serde::Serialize;

use self::request::{grant_type, ClientRequest, TokenRequest};
use super::dpop::{self, Endpoint};
use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// The successful token response.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    expires_in: i64,
    /// `Bearer`, or `DPoP` for a token bound to the request's DPoP key.
    token_type: &'static str,
    /// For the audit log: whom the tokens are for (`None` for machine tokens).
    #[serde(skip)]
    user: Option<User>,
    /// With a DPoP request: the nonce for the client's next proof.
    #[serde(skip)]
    dpop_nonce: Option<HeaderValue>,
}

impl IntoResponse for TokenResponse {
    fn into_response(mut self) -> Response {
        let nonce = self.dpop_nonce.take();
        let mut response = Json(self).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
            .headers_mut()
            .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(nonce) = nonce {
            response.headers_mut().insert(dpop::DPOP_NONCE, nonce);
        }
        response
    }
}

pub async fn post(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    request: ClientRequest,
) -> Response {
    match handle(&app, &origin, &headers, request).await {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    }
}

/// The audit log's type codes of a grant: success, failure.
fn audit_codes(grant: GrantType) -> (EventType, EventType) {
    match grant {
        GrantType::AuthorizationCode => (EventType::CodeExchange, EventType::FailedCodeExchange),
        GrantType::RefreshToken => (EventType::Refresh, EventType::FailedRefresh),
        GrantType::Password | GrantType::PasswordRealm => (
            EventType::PasswordExchange,
            EventType::FailedPasswordExchange,
        ),
        GrantType::MfaOtp => (EventType::MfaSucceeded, EventType::MfaFailed),
        GrantType::MfaRecoveryCode => (EventType::MfaRecoverySucceeded, EventType::MfaFailed),
        GrantType::ClientCredentials | GrantType::Implicit => (
            EventType::ClientCredentials,
            EventType::FailedClientCredentials,
        ),
    }
}

async fn handle(
    app: &AppState,
    origin: &portcullis_core::audit::RequestOrigin,
    headers: &HeaderMap,
    ClientRequest { credentials, body }: ClientRequest,
) -> Result<TokenResponse, OAuthError> {
    let grant = grant_type(&body)?;
    let authenticated = credentials.authenticate(app).await?;
    let client = &authenticated.client;
    let grant = match grant {
        Ok(grant) if grant != GrantType::Implicit => {
            if !client.allows_grant(grant) {
                return Err(OAuthError::new(
                    ErrorCode::UnauthorizedClient,
                    format!("Grant type '{grant}' not allowed for the client."),
                ));
            }
            grant
        }
        Ok(other) => {
            return Err(unsupported(other.as_str(), client.allows_grant(other)));
        }
        Err(name) => return Err(unsupported(&name, false)),
    };
    let (success, failure) = audit_codes(grant);
    let result = match TokenRequest::of(Ok(grant), body) {
        Ok(request) => {
            match dpop::proof(app, headers, Endpoint::Token, "POST", "oauth/token", None).await {
                Ok(proof) => grants::exchange(app, &authenticated, request, proof.as_ref(), origin)
                    .await
                    .map(|response| TokenResponse {
                        dpop_nonce: proof.and_then(|_| dpop::fresh_nonce(app)),
                        ..response
                    }),
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    };
    let entry = match &result {
        Ok(response) => {
            let entry = audit::entry(success, format!("Successful {grant} exchange"));
            match &response.user {
                Some(user) => entry.user(user),
                None => entry,
            }
        }
        Err(error) => audit::entry(failure, error.description.clone()),
    };
    let entry = entry.client(client).origin(origin);
    if result.is_ok() && grant == GrantType::ClientCredentials {
        // Machine traffic is the high-volume case: keep the write off the request path.
        app.audit_deferred(entry).await;
    } else {
        app.audit(entry).await;
    }
    let response = result?;
    app.metrics.token_issued(grant.as_str());
    Ok(response)
}

/// A grant the token endpoint does not offer: `unsupported_grant_type`, or, for one the
/// client is registered for elsewhere (implicit), `unauthorized_client`.
fn unsupported(name: &str, registered: bool) -> OAuthError {
    if registered {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("Unsupported grant type: {name}"),
        )
    } else {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("Grant type '{name}' not allowed for the client."),
        )
    }
}

/// `POST /oauth/revoke` (RFC 7009): revokes a refresh token's family. Unknown tokens are not
/// an error.
pub async fn revoke(State(app): State<AppState>, request: ClientRequest) -> Response {
    let result = async {
        let ClientRequest { credentials, body } = request;
        let authenticated = credentials.authenticate(&app).await?;
        let token = body.token()?;
        let hash = lookup_hash(token.expose_str());
        if let Some(stored) = app.store.refresh_token_by_hash(&hash).await? {
            if stored.client_id == authenticated.client.client_id {
                app.store.revoke_family(&stored.family_id).await?;
            }
        }
        // RFC 7009 §2: an opaque access token of this client is revoked too. JWT access
        // tokens are self-contained and live out their (short) lifetime.
        let now = app.clock.now();
        if let Some(opaque) = app.store.opaque_token_by_hash(&hash, now).await? {
            if opaque.client_id == authenticated.client.client_id {
                app.store.delete_opaque_token(&hash).await?;
            }
        }
        Ok::<_, OAuthError>(())
    }
    .await;
    match result {
        Ok(()) => axum::http::StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}
