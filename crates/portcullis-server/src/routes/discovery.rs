//! `/.well-known/openid-configuration` (OIDC Discovery), `/.well-known/oauth-authorization-server`
//! (RFC 8414: the same document, which MCP clients read) and `/.well-known/jwks.json`.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_types::SigningAlg;
use serde_json::json;

use super::register;
use crate::{error::OAuthError, state::AppState};

/// The server's metadata: one document for OpenID Connect Discovery and RFC 8414, so the two
/// can never disagree.
fn metadata(app: &AppState, registration: bool) -> serde_json::Value {
    let s = &app.settings;
    // Access tokens follow their API's algorithm; ID tokens are always RS256.
    let access_token_algs: Vec<&str> = SigningAlg::ALL.iter().map(|alg| alg.as_str()).collect();
    let mut document = json!({
        "issuer": s.issuer,
        "authorization_endpoint": s.endpoint("authorize"),
        "token_endpoint": s.endpoint("oauth/token"),
        "userinfo_endpoint": s.endpoint("userinfo"),
        "jwks_uri": s.endpoint(".well-known/jwks.json"),
        "revocation_endpoint": s.endpoint("oauth/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint": s.endpoint("oauth/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "end_session_endpoint": s.endpoint("oidc/logout"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code", "token", "id_token", "token id_token"],
        "response_modes_supported": ["query", "fragment", "form_post", "web_message"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": portcullis_core::dpop::ALGORITHM_NAMES,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "access_token_signing_alg_values_supported": access_token_algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": ["aud", "auth_time", "email", "email_verified", "exp", "iat", "iss", "name", "given_name", "family_name", "nickname", "picture", "sub", "updated_at", "nonce", "at_hash", "sid"],
        "authorization_response_iss_parameter_supported": true,
        "request_uri_parameter_supported": false,
        "resource_parameter_supported": true,
    });
    if registration {
        document["registration_endpoint"] = s.endpoint("oidc/register").into();
    }
    document
}

fn cached(document: serde_json::Value) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(document),
    )
        .into_response()
}

pub async fn openid_configuration(State(app): State<AppState>) -> Result<Response, OAuthError> {
    Ok(cached(metadata(&app, register::enabled(&app).await?)))
}

pub async fn authorization_server(State(app): State<AppState>) -> Result<Response, OAuthError> {
    Ok(cached(metadata(&app, register::enabled(&app).await?)))
}

pub async fn jwks(State(app): State<AppState>) -> Response {
    let keys = app.keys.current();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        keys.ring.jwks_json().to_owned(),
    )
        .into_response()
}
