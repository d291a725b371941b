//! `GET|POST /userinfo` (OIDC Core §5.3): the user's claims, for an access token that names
//! `/userinfo` in its audience (a JWT) or an opaque token issued without an API.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    claims::rfc3339,
    keys::{Verification, VerifyError, MAX_TOKEN_BYTES},
    secrets::lookup_hash,
};
use portcullis_types::Scope;
use serde::Serialize;

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

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
    let (user_id, scope) = if token.matches('.').count() == 2 {
        let audience = format!("{}userinfo", app.settings.issuer);
        let expected = Verification {
            issuer: &app.settings.issuer,
            audience: &audience,
            now,
        };
        let claims =
            app.keys
                .verify_access_token(token, expected)
                .map_err(|error| match error {
                    VerifyError::Malformed => invalid_token("Malformed access token"),
                    VerifyError::Algorithm => invalid_token("Unexpected signing algorithm"),
                    VerifyError::UnknownKey => invalid_token("Unknown signing key"),
                    _ => invalid_token("Invalid or expired access token"),
                })?;
        (claims.sub, claims.scope.unwrap_or_default())
    } else {
        let stored = app
            .store
            .opaque_token_by_hash(&lookup_hash(token), now)
            .await?
            .ok_or_else(|| invalid_token("Invalid or expired access token"))?;
        (stored.user_id, stored.scope)
    };
    // Our own tokens: their scope was valid when minted.
    let scopes = Scope::parse(&scope).unwrap_or_default();
    let user = app
        .store
        .user_by_id(&user_id)
        .await?
        .ok_or_else(|| invalid_token("Invalid access token"))?;
    if user.blocked {
        return Err(invalid_token("user is blocked"));
    }
    let has = |s: &str| scopes.contains(s);
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
