//! `POST /oauth/token` (RFC 6749 §3.2): authorization_code with PKCE, refresh_token with
//! rotation and reuse detection, client_credentials. Bodies come as form or JSON (spa-js v1
//! sends JSON); unknown parameters are ignored.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use portcullis_core::{
    authz, pkce, scope,
    secrets::{lookup_hash, random_token},
};
use portcullis_store::{Client, Redeemed, RotationOutcome, User};
use serde::{Deserialize, Serialize};

use crate::{
    audit::{self, codes},
    error::{ErrorCode, OAuthError},
    state::AppState,
    tokens::{self, AccessRequest, IdTokenRequest, RefreshRequest},
};

/// Every parameter of every grant; which are required depends on `grant_type`.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    pub resource: Option<String>,
    /// `/oauth/revoke`.
    pub token: Option<String>,
}

/// Parses a form or JSON body into parameters. JSON scalars are taken as strings.
pub fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<TokenParams, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| OAuthError::invalid_request("The request body is not valid JSON."))?;
        let serde_json::Value::Object(map) = value else {
            return Err(OAuthError::invalid_request(
                "The request body must be a JSON object.",
            ));
        };
        let mut strings = serde_json::Map::new();
        for (key, value) in map {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(OAuthError::invalid_request(format!(
                        "Parameter {key} must be a string."
                    )))
                }
            };
            strings.insert(key, serde_json::Value::String(text));
        }
        serde_json::from_value(serde_json::Value::Object(strings))
            .map_err(|_| OAuthError::invalid_request("The request parameters are malformed."))
    } else {
        serde_urlencoded::from_bytes(body).map_err(|_| {
            OAuthError::invalid_request("The request parameters are malformed or repeated.")
        })
    }
}

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
    token_type: &'static str,
    /// For the audit log: whom the tokens are for (`None` for machine tokens).
    #[serde(skip)]
    user: Option<User>,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = Json(self).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
            .headers_mut()
            .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// How the client proved who it is.
pub struct AuthenticatedClient {
    pub client: Client,
    /// Proved possession of a secret (a confidential client).
    pub confidential: bool,
}

/// Client authentication (RFC 6749 §2.3): HTTP Basic or body parameters, never both.
pub async fn authenticate_client(
    app: &AppState,
    headers: &HeaderMap,
    params: &TokenParams,
) -> Result<AuthenticatedClient, OAuthError> {
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(value) if value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ") => {
            Some(parse_basic(&value[6..])?)
        }
        _ => None,
    };
    let failed = |basic: bool| OAuthError {
        basic_challenge: basic,
        ..OAuthError::new(ErrorCode::InvalidClient, "Client authentication failed.")
    };
    let (client_id, secret, used_basic) = match basic {
        Some((id, secret)) => {
            if params.client_secret.is_some()
                || params.client_id.as_deref().is_some_and(|c| c != id)
            {
                return Err(OAuthError::invalid_request(
                    "Use one client authentication method, not two.",
                ));
            }
            (id, Some(secret), true)
        }
        None => {
            let Some(id) = params.client_id.clone().filter(|c| !c.is_empty()) else {
                return Err(OAuthError::invalid_request(
                    "Missing required parameter: client_id",
                ));
            };
            (id, params.client_secret.clone(), false)
        }
    };
    let Some(client) = app.tenant.client(app.store.as_ref(), &client_id).await? else {
        return Err(failed(used_basic));
    };
    match (&client.client_secret_hash, secret) {
        (Some(stored), Some(secret)) if app.hasher.verify(&secret, stored) => {
            Ok(AuthenticatedClient {
                client,
                confidential: true,
            })
        }
        (None, None) => Ok(AuthenticatedClient {
            client,
            confidential: false,
        }),
        _ => Err(failed(used_basic)),
    }
}

fn parse_basic(encoded: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_request("Malformed HTTP Basic credentials.");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
    };
    Ok((
        decode(id).map_err(|_| malformed())?,
        decode(secret).map_err(|_| malformed())?,
    ))
}

pub async fn post(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&app, peer, &headers, &body).await {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    }
}

/// The audit log's type codes of a grant: success, failure.
fn audit_codes(grant_type: &str) -> Option<(&'static str, &'static str)> {
    match grant_type {
        "authorization_code" => Some((codes::CODE_EXCHANGE, codes::FAILED_CODE_EXCHANGE)),
        "refresh_token" => Some((codes::REFRESH, codes::FAILED_REFRESH)),
        "client_credentials" => Some((codes::CLIENT_CREDENTIALS, codes::FAILED_CLIENT_CREDENTIALS)),
        _ => None,
    }
}

async fn handle(
    app: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<TokenResponse, OAuthError> {
    let params = parse_body(headers, body)?;
    let grant_type = params
        .grant_type
        .clone()
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: grant_type"))?;
    let authenticated = authenticate_client(app, headers, &params).await?;
    if !authenticated.client.allows_grant(&grant_type) {
        let code = if ["authorization_code", "refresh_token", "client_credentials"]
            .contains(&grant_type.as_str())
        {
            ErrorCode::UnauthorizedClient
        } else {
            ErrorCode::UnsupportedGrantType
        };
        return Err(OAuthError::new(
            code,
            format!("Grant type '{grant_type}' not allowed for the client."),
        ));
    }
    let Some((success, failure)) = audit_codes(&grant_type) else {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("Unsupported grant type: {grant_type}"),
        ));
    };
    let client = &authenticated.client;
    let result = match grant_type.as_str() {
        "authorization_code" => authorization_code(app, client, &params).await,
        "refresh_token" => refresh_token(app, client, &params).await,
        _ => client_credentials(app, &authenticated, &params).await,
    };
    let entry = match &result {
        Ok(response) => {
            let entry = audit::entry(success, format!("Successful {grant_type} exchange"));
            match &response.user {
                Some(user) => entry.user(user),
                None => entry,
            }
        }
        Err(error) => audit::entry(failure, error.description.clone()),
    };
    let entry = entry.client(client).request(Some(peer.ip()), headers);
    if result.is_ok() && grant_type == "client_credentials" {
        // Machine traffic is the high-volume case: keep the write off the request path.
        app.audit_deferred(entry).await;
    } else {
        app.audit(entry).await;
    }
    let response = result?;
    app.metrics.token_issued(&grant_type);
    Ok(response)
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

async fn authorization_code(
    app: &AppState,
    client: &Client,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code"))?;
    let code_hash = lookup_hash(code);
    let stored = match app.store.redeem_code(&code_hash, app.clock.now()).await? {
        Redeemed::Fresh(stored) => stored,
        Redeemed::Replayed { family_id } => {
            // RFC 6749 §4.1.2: a replayed code revokes what it produced.
            if let Some(family_id) = family_id {
                app.store.revoke_family(&family_id).await?;
            }
            tracing::warn!(client_id = %client.client_id, "authorization code replayed");
            return Err(invalid_grant("Invalid authorization code"));
        }
        Redeemed::Invalid => return Err(invalid_grant("Invalid authorization code")),
    };
    if stored.client_id != client.client_id {
        return Err(invalid_grant("Invalid authorization code"));
    }
    if params.redirect_uri.as_deref() != Some(stored.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "Redirect URI does not match the one of the authorization request.",
        ));
    }
    match (&stored.code_challenge, params.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("Failed to verify code verifier")),
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: code_verifier",
            ))
        }
        // A verifier without a challenge is a PKCE downgrade attempt (RFC 9700 §4.8).
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent but no code_challenge was used",
            ))
        }
        (None, None) => {}
    }
    let user = app
        .store
        .user_by_id(&stored.user_id)
        .await?
        .ok_or_else(|| invalid_grant("Invalid authorization code"))?;
    if user.blocked {
        return Err(invalid_grant("user is blocked"));
    }
    let api = match &stored.audience {
        Some(audience) => Some(
            app.tenant
                .api(app.store.as_ref(), audience)
                .await?
                .ok_or_else(|| invalid_grant("The API of this code no longer exists."))?,
        ),
        None => None,
    };
    let scopes = scope::parse(&stored.scope);
    let access = tokens::access_token(
        app,
        AccessRequest {
            subject: &user.user_id,
            user: Some(&user),
            client,
            api: api.as_ref(),
            scopes: &scopes,
            for_browser: false,
            grant_type: None,
        },
    )
    .await?;
    let id_token = scopes.iter().any(|s| s == "openid").then(|| {
        tokens::id_token(
            app,
            IdTokenRequest {
                user: &user,
                client,
                scopes: &scopes,
                nonce: stored.nonce.as_deref(),
                auth_time: stored.auth_time,
                sid: &stored.sid,
                access_token: None,
            },
        )
    });
    let refresh =
        if scopes.iter().any(|s| s == "offline_access") && client.allows_grant("refresh_token") {
            let family_id = random_token(16);
            let token = tokens::refresh_token(
                app,
                RefreshRequest {
                    family_id: &family_id,
                    client,
                    user_id: &user.user_id,
                    audience: stored.audience.as_deref(),
                    scope: &stored.scope,
                    sid: &stored.sid,
                    auth_time: stored.auth_time,
                    family_expires_at: None,
                },
            )
            .await?;
            app.store.link_code_family(&code_hash, &family_id).await?;
            Some(token)
        } else {
            None
        };
    Ok(TokenResponse {
        user: Some(user),
        access_token: access.token,
        id_token: id_token.transpose()?,
        refresh_token: refresh,
        scope: Some(scope::join(&access.scopes)),
        expires_in: access.expires_in,
        token_type: "Bearer",
    })
}

/// Auth0's wording, which auth0-spa-js matches to fall back to silent authentication.
const INVALID_REFRESH_TOKEN: &str = "Unknown or invalid refresh token.";

async fn refresh_token(
    app: &AppState,
    client: &Client,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let presented = params
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: refresh_token"))?;
    let now = app.clock.now();
    let outcome = app
        .store
        .rotate_refresh_token(&lookup_hash(presented), now, client.refresh_token.leeway)
        .await?;
    let old = match outcome {
        RotationOutcome::Rotated(token) | RotationOutcome::ReusedWithinLeeway(token) => token,
        RotationOutcome::ReuseDetected(token) => {
            tracing::warn!(client_id = %token.client_id, user_id = %token.user_id, "refresh token reuse detected: family revoked");
            app.audit(
                audit::entry(
                    codes::REFRESH_REUSE,
                    "Reused refresh token detected: its family was revoked",
                )
                .client(client)
                .user_id(&token.user_id)
                .details(serde_json::json!({ "family_id": token.family_id })),
            )
            .await;
            return Err(invalid_grant(INVALID_REFRESH_TOKEN));
        }
        RotationOutcome::Invalid => return Err(invalid_grant(INVALID_REFRESH_TOKEN)),
    };
    if old.client_id != client.client_id {
        app.store.revoke_family(&old.family_id).await?;
        return Err(invalid_grant(INVALID_REFRESH_TOKEN));
    }
    if let Some(audience) = params
        .audience
        .as_deref()
        .or(params.resource.as_deref())
        .filter(|a| !a.is_empty())
    {
        if Some(audience) != old.audience.as_deref() {
            return Err(OAuthError::invalid_request(
                "The audience does not match the refresh token's.",
            ));
        }
    }
    let granted = scope::parse(&old.scope);
    let scopes = match params.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(requested) => {
            let requested = scope::parse(requested);
            if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("The scope {extra} was not granted to this refresh token."),
                ));
            }
            requested
        }
        None => granted,
    };
    let user = app
        .store
        .user_by_id(&old.user_id)
        .await?
        .ok_or_else(|| invalid_grant(INVALID_REFRESH_TOKEN))?;
    if user.blocked {
        app.store.revoke_family(&old.family_id).await?;
        return Err(invalid_grant("user is blocked"));
    }
    let api = match &old.audience {
        Some(audience) => Some(
            app.tenant
                .api(app.store.as_ref(), audience)
                .await?
                .ok_or_else(|| invalid_grant(INVALID_REFRESH_TOKEN))?,
        ),
        None => None,
    };
    let access = tokens::access_token(
        app,
        AccessRequest {
            subject: &user.user_id,
            user: Some(&user),
            client,
            api: api.as_ref(),
            scopes: &scopes,
            for_browser: false,
            grant_type: None,
        },
    )
    .await?;
    let id_token = scopes.iter().any(|s| s == "openid").then(|| {
        tokens::id_token(
            app,
            IdTokenRequest {
                user: &user,
                client,
                scopes: &scopes,
                nonce: None,
                auth_time: old.auth_time,
                sid: &old.sid,
                access_token: None,
            },
        )
    });
    let successor = tokens::refresh_token(
        app,
        RefreshRequest {
            family_id: &old.family_id,
            client,
            user_id: &user.user_id,
            audience: old.audience.as_deref(),
            scope: &old.scope,
            sid: &old.sid,
            auth_time: old.auth_time,
            family_expires_at: Some(old.family_expires_at),
        },
    )
    .await?;
    Ok(TokenResponse {
        user: Some(user),
        access_token: access.token,
        id_token: id_token.transpose()?,
        refresh_token: Some(successor),
        scope: Some(scope::join(&access.scopes)),
        expires_in: access.expires_in,
        token_type: "Bearer",
    })
}

async fn client_credentials(
    app: &AppState,
    authenticated: &AuthenticatedClient,
    params: &TokenParams,
) -> Result<TokenResponse, OAuthError> {
    let client = &authenticated.client;
    if !authenticated.confidential {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client_credentials needs a confidential client.",
        ));
    }
    let audience = params
        .audience
        .as_deref()
        .or(params.resource.as_deref())
        .filter(|a| !a.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: audience"))?;
    let api = app
        .tenant
        .api(app.store.as_ref(), audience)
        .await?
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::AccessDenied,
                format!("Service not found: {audience}"),
            )
        })?;
    let grant = app.tenant.grant(app.store.as_ref(), &client.client_id, audience).await?.ok_or_else(|| {
        OAuthError::new(
            ErrorCode::AccessDenied,
            format!("Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."),
        )
    })?;
    let requested = params.scope.as_deref().map(scope::parse);
    let scopes = authz::machine_token_scopes(requested.as_deref(), &grant, &api);
    let subject = format!("{}@clients", client.client_id);
    let access = tokens::access_token(
        app,
        AccessRequest {
            subject: &subject,
            user: None,
            client,
            api: Some(&api),
            scopes: &scopes,
            for_browser: false,
            grant_type: Some("client-credentials"),
        },
    )
    .await?;
    Ok(TokenResponse {
        user: None,
        access_token: access.token,
        id_token: None,
        refresh_token: None,
        scope: (!scopes.is_empty()).then(|| scope::join(&scopes)),
        expires_in: access.expires_in,
        token_type: "Bearer",
    })
}

/// `POST /oauth/revoke` (RFC 7009): revokes a refresh token's family. Unknown tokens are not
/// an error.
pub async fn revoke(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let params = parse_body(&headers, &body)?;
        let authenticated = authenticate_client(&app, &headers, &params).await?;
        let token = params
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: token"))?;
        if let Some(stored) = app.store.refresh_token_by_hash(&lookup_hash(token)).await? {
            if stored.client_id == authenticated.client.client_id {
                app.store.revoke_family(&stored.family_id).await?;
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
