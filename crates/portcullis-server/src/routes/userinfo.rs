//! `GET|POST /userinfo` (OIDC Core §5.3): the user's claims, for an access token that names
//! `/userinfo` in its audience (a JWT) or an opaque token issued without an API.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    claims::ProfileClaims,
    keys::{Verification, VerifyError, MAX_TOKEN_BYTES},
    secrets::lookup_hash,
};
use portcullis_types::Scope;
use serde::Serialize;

use super::dpop::{self, Endpoint};
use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

#[derive(Serialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    profile: ProfileClaims,
}

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

pub async fn get(
    State(app): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    if !headers.contains_key(header::AUTHORIZATION) {
        // RFC 6750 §3.1: without credentials, a challenge and no error code.
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"portcullis\"")],
            "Unauthorized",
        )
            .into_response();
    }
    match handle(&app, method == axum::http::Method::POST, &headers).await {
        Ok(info) => Json(info).into_response(),
        // RFC 9449 §7.1: a resource refuses a proof with 401 and a `DPoP` challenge.
        Err(error) if error.code == ErrorCode::InvalidDpopProof => (
            axum::http::StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                dpop::challenge(Some((error.code.as_str(), &error.description))),
            )],
            Json(serde_json::json!({
                "error": error.code.as_str(),
                "error_description": error.description,
            })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn handle(app: &AppState, post: bool, headers: &HeaderMap) -> Result<UserInfo, OAuthError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(invalid_token("The Authorization header is not readable"));
    };
    let (token, dpop) = match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            (token.trim(), false)
        }
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("dpop") && !token.trim().is_empty() =>
        {
            (token.trim(), true)
        }
        _ => {
            return Err(invalid_token(
                "The Authorization header must use the Bearer or DPoP scheme",
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
        // RFC 9449 §7: a bound token comes with the DPoP scheme and a proof by its key; an
        // unbound one never with the DPoP scheme.
        let bound = claims.cnf.map(|cnf| cnf.jkt);
        match (bound, dpop) {
            (Some(jkt), true) => {
                let method = if post { "POST" } else { "GET" };
                let proof = dpop::proof(
                    app,
                    headers,
                    Endpoint::Resource,
                    method,
                    "userinfo",
                    Some(token),
                )
                .await?
                .ok_or_else(|| dpop::invalid("A DPoP proof is required"))?;
                if proof.jkt != jkt {
                    return Err(dpop::invalid(
                        "The DPoP proof's key is not the one the token is bound to",
                    ));
                }
            }
            (Some(_), false) => {
                return Err(invalid_token(
                    "The access token is bound to a DPoP key: use the DPoP scheme with a proof",
                ))
            }
            (None, true) => return Err(invalid_token("The access token is not DPoP-bound")),
            (None, false) => {}
        }
        (claims.sub, claims.scope.unwrap_or_default())
    } else {
        if dpop {
            return Err(invalid_token("The access token is not DPoP-bound"));
        }
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
    Ok(UserInfo {
        profile: ProfileClaims::released(&user, &scopes),
        sub: user.user_id,
    })
}
