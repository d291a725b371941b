//! `POST /oidc/register`: dynamic client registration (RFC 7591) at Auth0's path. The rules are
//! `core::registration`'s; this module checks that the tenant allows registration, the initial
//! access token when one is configured and the per-address limit, then answers in the RFC's
//! shapes.
//!
//! While the tenant's `enable_dynamic_client_registration` flag is off the endpoint answers
//! 403 `access_denied`, as Auth0 does for a tenant without "OIDC Dynamic Application
//! Registration": the path exists, registration is refused.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    admin::Actor,
    registration::{self, ClientMetadata, RegistrationError},
    secrets::{constant_time_eq, lookup_hash},
    sign_in::SignInError,
};
use portcullis_web::ClientOrigin;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Registration is called from any origin (an MCP client may run in a browser); it never
/// reads cookies, so any origin may call it.
pub fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
}

/// Whether the tenant lets anyone register (discovery advertises the endpoint only then).
pub async fn enabled(app: &AppState) -> Result<bool, OAuthError> {
    Ok(app
        .tenant
        .flags(app.store.as_ref())
        .await?
        .enable_dynamic_client_registration)
}

/// An RFC 7591 §3.2.2 error: 400 with `error` and `error_description`.
fn refused(error: &RegistrationError) -> Response {
    let body = json!({ "error": error.code(), "error_description": error.to_string() });
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// Whether the request carries the configured initial access token (RFC 7591 §3), compared by
/// its SHA-256 in constant time.
fn presents_token(expected_sha256: &[u8], headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .is_some_and(|(_, token)| constant_time_eq(&lookup_hash(token.trim()), expected_sha256))
}

pub async fn post(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    if !enabled(&app).await? {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "Dynamic client registration is disabled for this tenant.",
        ));
    }
    if let Some(expected) = &app.settings.registration_token_sha256 {
        if !presents_token(expected, &headers) {
            let mut response = OAuthError::new(
                ErrorCode::InvalidToken,
                "A valid initial access token is required to register.",
            )
            .into_response();
            // RFC 6750 §3: the Bearer challenge of a protected endpoint.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portcullis\", error=\"invalid_token\""),
            );
            return Ok(response);
        }
    }
    let ip = origin
        .ip
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    match app
        .sign_in
        .admit_registration(app.store.as_ref(), ip, app.clock.now())
        .await
    {
        Ok(()) => {}
        Err(SignInError::Throttled { .. }) => {
            return Err(OAuthError::new(
                ErrorCode::TooManyRequests,
                "Too many registrations from this address. Wait a few minutes and try again.",
            ))
        }
        Err(error) => return Err(OAuthError::internal(error)),
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    if !is_json {
        return Err(OAuthError::invalid_request(
            "The registration request must be a JSON object (application/json).",
        ));
    }
    let metadata: ClientMetadata = match serde_json::from_slice(&body) {
        Ok(metadata) => metadata,
        Err(error) => {
            return Ok(refused(&RegistrationError::InvalidClientMetadata(format!(
                "the client metadata is not valid: {error}"
            ))))
        }
    };
    let actor = Actor::Registration { origin };
    match registration::register(&app.admin.cx, &actor, metadata).await {
        Ok((_, information)) => Ok((
            StatusCode::CREATED,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            Json(information),
        )
            .into_response()),
        Err(RegistrationError::Admin(error)) => Err(OAuthError::internal(error)),
        Err(error) => Ok(refused(&error)),
    }
}
