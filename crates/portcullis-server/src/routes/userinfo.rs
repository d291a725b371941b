//! `GET|POST /userinfo` (OIDC Core §5.3): the user's claims, for an access token that names
//! `/userinfo` in its audience (a JWT) or an opaque token issued without an API.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use jsonwebtoken::{Algorithm, Validation};
use portcullis_core::{
    claims::{rfc3339, AccessTokenClaims},
    scope,
    secrets::lookup_hash,
};
use serde::Serialize;

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Access tokens beyond this size are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 8192;

#[derive(Serialize)]
struct UserInfo {
    sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

pub async fn get(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !headers.contains_key(header::AUTHORIZATION) {
        // RFC 6750 §3.1: without credentials, a challenge and no error code.
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"portcullis\"")],
            "Unauthorized",
        )
            .into_response();
    }
    match handle(&app, &headers).await {
        Ok(info) => Json(info).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn handle(app: &AppState, headers: &HeaderMap) -> Result<UserInfo, OAuthError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(invalid_token("The Authorization header is not readable"));
    };
    let token = match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            token.trim()
        }
        _ => {
            return Err(invalid_token(
                "The Authorization header must use the Bearer scheme",
            ))
        }
    };
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid_token("The access token is too large"));
    }
    let now = app.clock.now();
    let (user_id, scopes) = if token.matches('.').count() == 2 {
        let claims = verify_jwt(app, token)?;
        (
            claims.sub,
            scope::parse(claims.scope.as_deref().unwrap_or("")),
        )
    } else {
        let stored = app
            .store
            .opaque_token_by_hash(&lookup_hash(token), now)
            .await?
            .ok_or_else(|| invalid_token("Invalid or expired access token"))?;
        (stored.user_id, scope::parse(&stored.scope))
    };
    let user = app
        .store
        .user_by_id(&user_id)
        .await?
        .ok_or_else(|| invalid_token("Invalid access token"))?;
    if user.blocked {
        return Err(invalid_token("user is blocked"));
    }
    let has = |s: &str| scopes.iter().any(|granted| granted == s);
    let profile = has("profile");
    let email = has("email");
    Ok(UserInfo {
        sub: user.user_id,
        name: profile.then_some(user.name),
        nickname: profile.then_some(user.nickname),
        picture: (profile && !user.picture.is_empty()).then_some(user.picture),
        updated_at: profile.then(|| rfc3339(user.updated_at)),
        email: email.then_some(user.email),
        email_verified: email.then_some(user.email_verified),
    })
}

/// Verifies one of our own access tokens for the `/userinfo` audience.
fn verify_jwt(app: &AppState, token: &str) -> Result<AccessTokenClaims, OAuthError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| invalid_token("Malformed access token"))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid_token("Unexpected signing algorithm"));
    }
    let keys = app.keys.current();
    let kid = header
        .kid
        .ok_or_else(|| invalid_token("Unknown signing key"))?;
    let key = keys
        .decoding
        .iter()
        .find(|(k, _)| *k == kid)
        .map(|(_, key)| key)
        .ok_or_else(|| invalid_token("Unknown signing key"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&app.settings.issuer]);
    validation.set_audience(&[app.settings.userinfo_audience()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<AccessTokenClaims>(token, key, &validation)
        .map_err(|_| invalid_token("Invalid or expired access token"))?;
    // jsonwebtoken checks against its own clock; ours may be a test clock.
    if data.claims.exp + 30 < app.clock.now() {
        return Err(invalid_token("Invalid or expired access token"));
    }
    Ok(data.claims)
}
