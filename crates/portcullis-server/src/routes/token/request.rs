//! What a client sends to `/oauth/token` and `/oauth/revoke`: its credentials (RFC 6749 §2.3)
//! and the request of one grant, parsed from a form or JSON body (spa-js v1 sends JSON). The
//! body's strings stop here: handlers get [`ClientCredentials`] and a [`TokenRequest`].

use axum::{
    body::Bytes,
    extract::FromRequest,
    http::{header, HeaderMap, Request},
    response::{IntoResponse, Response},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use portcullis_store::Client;
use portcullis_types::{GrantType, Scope, Secret};
use serde::Deserialize;

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Every parameter of every grant, as sent; which are required depends on `grant_type`.
/// Unknown parameters are ignored.
#[derive(Default, Deserialize)]
pub struct Body {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    code: Option<Secret>,
    redirect_uri: Option<String>,
    code_verifier: Option<Secret>,
    refresh_token: Option<Secret>,
    scope: Option<String>,
    audience: Option<String>,
    /// RFC 8707: an alias of `audience`.
    resource: Option<String>,
    /// `/oauth/revoke`.
    token: Option<Secret>,
    /// The password grants.
    username: Option<String>,
    password: Option<Secret>,
    realm: Option<String>,
    /// Auth0's MFA API: the pending login, and its second factor.
    pub(crate) mfa_token: Option<Secret>,
    otp: Option<Secret>,
    recovery_code: Option<Secret>,
    /// `/mfa/challenge`.
    pub(crate) challenge_type: Option<String>,
}

/// How the client says who it is.
pub enum ClientCredentials {
    /// `Authorization: Basic` (`client_secret_basic`).
    Basic { client_id: String, secret: Secret },
    /// `client_id` and `client_secret` in the body (`client_secret_post`).
    Post { client_id: String, secret: Secret },
    /// A public client: `client_id` alone.
    None { client_id: String },
}

/// A client that proved who it is.
pub struct AuthenticatedClient {
    pub client: Client,
    /// Proved possession of a secret (a confidential client).
    pub confidential: bool,
}

impl ClientCredentials {
    fn client_id(&self) -> &str {
        match self {
            ClientCredentials::Basic { client_id, .. }
            | ClientCredentials::Post { client_id, .. }
            | ClientCredentials::None { client_id } => client_id,
        }
    }

    /// Checks the credentials against the registered client (RFC 6749 §2.3): a secret for a
    /// confidential client, none for a public one.
    pub async fn authenticate(self, app: &AppState) -> Result<AuthenticatedClient, OAuthError> {
        let basic = matches!(self, ClientCredentials::Basic { .. });
        let failed = || OAuthError {
            basic_challenge: basic,
            ..OAuthError::new(ErrorCode::InvalidClient, "Client authentication failed.")
        };
        let Some(client) = app
            .tenant
            .client(app.store.as_ref(), self.client_id())
            .await?
        else {
            return Err(failed());
        };
        let secret = match self {
            ClientCredentials::Basic { secret, .. } | ClientCredentials::Post { secret, .. } => {
                Some(secret)
            }
            ClientCredentials::None { .. } => None,
        };
        match (&client.client_secret_hash, secret) {
            (Some(stored), Some(secret)) if app.hasher.verify(secret.expose_str(), stored) => {
                Ok(AuthenticatedClient {
                    client,
                    confidential: true,
                })
            }
            (None, None) => Ok(AuthenticatedClient {
                client,
                confidential: false,
            }),
            _ => Err(failed()),
        }
    }
}

/// A body of the token or revocation endpoint with the client's credentials.
pub struct ClientRequest {
    pub credentials: ClientCredentials,
    pub body: Body,
}

impl FromRequest<AppState> for ClientRequest {
    /// A body too large keeps its 413; anything else is an OAuth error.
    type Rejection = Response;

    async fn from_request(
        request: Request<axum::body::Body>,
        state: &AppState,
    ) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let parsed = parse_body(&headers, &bytes).and_then(|body| {
            Ok(ClientRequest {
                credentials: credentials(&headers, &body)?,
                body,
            })
        });
        parsed.map_err(IntoResponse::into_response)
    }
}

/// Parses a form or JSON body. JSON scalars are taken as strings.
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Body, OAuthError> {
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

/// HTTP Basic or body parameters, never both.
fn credentials(headers: &HeaderMap, body: &Body) -> Result<ClientCredentials, OAuthError> {
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(value) if value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ") => {
            Some(parse_basic(&value[6..])?)
        }
        _ => None,
    };
    match basic {
        Some((client_id, secret)) => {
            if body.client_secret.is_some()
                || body.client_id.as_deref().is_some_and(|c| c != client_id)
            {
                return Err(OAuthError::invalid_request(
                    "Use one client authentication method, not two.",
                ));
            }
            Ok(ClientCredentials::Basic { client_id, secret })
        }
        None => {
            let Some(client_id) = body.client_id.clone().filter(|c| !c.is_empty()) else {
                return Err(OAuthError::invalid_request(
                    "Missing required parameter: client_id",
                ));
            };
            Ok(match body.client_secret.clone() {
                Some(secret) => ClientCredentials::Post { client_id, secret },
                None => ClientCredentials::None { client_id },
            })
        }
    }
}

fn parse_basic(encoded: &str) -> Result<(String, Secret), OAuthError> {
    let malformed = || OAuthError::invalid_request("Malformed HTTP Basic credentials.");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded.
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
    };
    Ok((
        decode(id).map_err(|_| malformed())?,
        Secret::new(decode(secret).map_err(|_| malformed())?),
    ))
}

/// The request of one grant (RFC 6749 §4.1.3, §6, §4.4), its required parameters present.
pub enum TokenRequest {
    AuthorizationCode {
        code: Secret,
        redirect_uri: Option<String>,
        code_verifier: Option<Secret>,
    },
    RefreshToken {
        refresh_token: Secret,
        scope: Option<Scope>,
        audience: Option<String>,
    },
    ClientCredentials {
        audience: String,
        scope: Option<Scope>,
    },
    /// `password` and Auth0's `password-realm` (`realm` is `None` for the first).
    Password {
        username: String,
        password: Secret,
        realm: Option<String>,
        audience: Option<String>,
        scope: Option<Scope>,
    },
    /// Auth0's `mfa-otp` and `mfa-recovery-code`: a pending password login and its code.
    Mfa {
        mfa_token: Secret,
        code: Secret,
        recovery: bool,
    },
    /// A grant Portcullis does not offer.
    Unsupported(String),
}

/// The `grant_type` of a body, before the client is authenticated.
pub fn grant_type(body: &Body) -> Result<Result<GrantType, String>, OAuthError> {
    let name = body
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: grant_type"))?;
    Ok(name.parse::<GrantType>().map_err(|_| name.to_owned()))
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, OAuthError> {
    value.ok_or_else(|| OAuthError::invalid_request(format!("Missing required parameter: {name}")))
}

/// A scope parameter: absent or blank is `None`; an invalid token is `invalid_scope`.
fn scope(value: Option<String>) -> Result<Option<Scope>, OAuthError> {
    match value.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Scope::parse(text)
            .map(Some)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string())),
    }
}

fn non_empty(secret: Option<Secret>) -> Option<Secret> {
    secret.filter(|s| !s.is_empty())
}

impl TokenRequest {
    /// The request of `grant`, from `body`.
    pub fn of(grant: Result<GrantType, String>, body: Body) -> Result<Self, OAuthError> {
        let audience = body.audience.or(body.resource).filter(|a| !a.is_empty());
        Ok(match grant {
            Ok(GrantType::AuthorizationCode) => TokenRequest::AuthorizationCode {
                code: required(non_empty(body.code), "code")?,
                redirect_uri: body.redirect_uri,
                code_verifier: body.code_verifier,
            },
            Ok(GrantType::RefreshToken) => TokenRequest::RefreshToken {
                refresh_token: required(non_empty(body.refresh_token), "refresh_token")?,
                scope: scope(body.scope)?,
                audience,
            },
            Ok(GrantType::ClientCredentials) => TokenRequest::ClientCredentials {
                audience: required(audience, "audience")?,
                scope: scope(body.scope)?,
            },
            Ok(grant @ (GrantType::Password | GrantType::PasswordRealm)) => {
                TokenRequest::Password {
                    username: required(body.username.filter(|u| !u.trim().is_empty()), "username")?,
                    password: required(non_empty(body.password), "password")?,
                    realm: match grant {
                        GrantType::PasswordRealm => Some(required(body.realm, "realm")?),
                        _ => None,
                    },
                    audience,
                    scope: scope(body.scope)?,
                }
            }
            Ok(GrantType::MfaOtp) => TokenRequest::Mfa {
                mfa_token: required(non_empty(body.mfa_token), "mfa_token")?,
                code: required(non_empty(body.otp), "otp")?,
                recovery: false,
            },
            Ok(GrantType::MfaRecoveryCode) => TokenRequest::Mfa {
                mfa_token: required(non_empty(body.mfa_token), "mfa_token")?,
                code: required(non_empty(body.recovery_code), "recovery_code")?,
                recovery: true,
            },
            Ok(GrantType::Implicit) => TokenRequest::Unsupported(GrantType::Implicit.to_string()),
            Err(name) => TokenRequest::Unsupported(name),
        })
    }
}

impl Body {
    /// The token `/oauth/revoke` is asked to revoke.
    pub fn token(self) -> Result<Secret, OAuthError> {
        required(non_empty(self.token), "token")
    }
}
