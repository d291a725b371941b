//! Errors of the Management API, in Auth0's shape:
//! `{"statusCode": 400, "error": "Bad Request", "message": "...", "errorCode": "invalid_body"}`,
//! and the body and query extractors whose rejections take that shape.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    admin::{AdminError, Kind},
    password::PasswordError,
};
use portcullis_store::StoreError;
use portcullis_web::{retry_after_busy, retry_after_outage};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A Management API error: a status, a message safe to show, and Auth0's error code.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub error_code: &'static str,
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    /// The status's reason phrase.
    pub error: String,
    pub message: String,
    #[serde(rename = "errorCode")]
    pub error_code: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            error_code,
        }
    }

    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query_string", message)
    }

    pub fn invalid_uri(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_uri", message)
    }

    pub fn unauthorized(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, error_code, message)
    }

    pub fn insufficient_scope(expected: &[&str]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "Insufficient scope, expected any of: {}",
                expected.join(",")
            ),
        )
    }

    pub fn forbidden(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, error_code, message)
    }

    pub fn not_found(error_code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error_code, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "management API internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
        )
    }

    /// The store cannot be reached for now: a 503 with `Retry-After`.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The service is temporarily unavailable. Retry in a moment.",
        )
    }

    /// The 404 of a missing object of `kind`, with Auth0's error code.
    pub fn missing(kind: Kind) -> Self {
        let (code, message) = match kind {
            Kind::Api => (
                "inexistent_resource_server",
                "The resource server does not exist",
            ),
            Kind::Application => ("inexistent_client", "The client does not exist"),
            Kind::ClientGrant => ("inexistent_client_grant", "The client grant does not exist"),
            Kind::UserGrant => ("inexistent_grant", "The grant does not exist"),
            Kind::User => ("inexistent_user", "The user does not exist."),
            Kind::Role => ("inexistent_role", "The role does not exist."),
            Kind::AccessRule => ("inexistent_access_rule", "The access rule does not exist"),
            Kind::Connection => ("inexistent_connection", "The connection does not exist"),
            Kind::EmailTemplate => (
                "inexistent_email_template",
                "The email template does not exist",
            ),
            Kind::AuthenticationMethod => (
                "inexistent_authentication_method",
                "The authentication method does not exist",
            ),
            Kind::AutomationAction => ("not_found", "The action does not exist"),
            Kind::Administrator
            | Kind::SigningKeys
            | Kind::Guardian
            | Kind::TenantSettings
            | Kind::TriggerBindings => ("not_found", "Not Found"),
        };
        ApiError::not_found(code, message)
    }
}

impl From<AdminError> for ApiError {
    /// Validation is a 400, a conflict a 409, a missing object the 404 of its kind, a full
    /// password-hashing queue a 429.
    fn from(error: AdminError) -> Self {
        match error {
            AdminError::Invalid { message, .. } => ApiError::invalid_body(message),
            AdminError::Conflict { message, .. } => ApiError::conflict(message),
            AdminError::NotFound(kind) => ApiError::missing(kind),
            AdminError::Store(StoreError::NotFound) => {
                ApiError::not_found("not_found", "Not Found")
            }
            AdminError::Password(PasswordError::Busy) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many password operations under way. Retry in a moment.",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.message,
            error_code: self.error_code.to_owned(),
        };
        let mut response = (self.status, Json(body)).into_response();
        // A 429 says when to come back; a limit that knows better sets its own afterwards.
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response = retry_after_busy(response);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response = retry_after_outage(response);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portcullis\""),
            );
        }
        response
    }
}

/// A request body of the Management API: the struct it parses into refuses properties it does
/// not define (`#[serde(deny_unknown_fields)]`), and this says what else Auth0 defines for the
/// request.
pub trait Auth0Body: DeserializeOwned {
    /// Properties Auth0 defines for this request that Portcullis accepts and ignores (dotted
    /// paths for nested ones): descriptive settings, or features whose absence never makes the
    /// tenant less strict than the caller asked.
    const IGNORED: &'static [&'static str] = &[];
    /// Properties Auth0 defines that Portcullis does not support: refused when set to
    /// anything but `null`, `false` or an empty value, so that a caller relying on them learns
    /// at once (they would change how tokens are issued or checked).
    const UNSUPPORTED: &'static [&'static str] = &[];
}

/// A JSON request body; any failure to read it is a 400 `invalid_body` naming the property,
/// in Auth0's words: `Payload validation error: 'Additional properties not allowed: foo'` for
/// a property the request does not define.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: Auth0Body,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBody(value) = JsonBody::from_request(request, state).await?;
        parse(value).map(Body)
    }
}

/// A JSON request body not yet read into its request's type: for a route whose body's shape
/// depends on the object it changes (`PATCH /connections/{id}`), read later with [`parse`].
pub struct JsonBody(pub Value);

impl<S> FromRequest<S> for JsonBody
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase());
        if let Some(content_type) = content_type {
            if !content_type.starts_with("application/json") && !content_type.is_empty() {
                return Err(ApiError::invalid_body(
                    "Payload validation error: the body must be JSON (Content-Type: application/json)",
                ));
            }
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        status,
                        "payload_too_large",
                        "Payload content length greater than maximum allowed",
                    )
                } else {
                    ApiError::invalid_body("Payload validation error: the body could not be read")
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid_body(
                "Payload validation error: a JSON body is required",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::invalid_body(format!("Payload validation error: '{e}'")))
    }
}

/// A body's property that distinguishes an explicit `null` (`Some(None)`) from an absent one
/// (`None`), with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Reads a JSON body into the request's type `T`, with the rules of [`Body`].
pub fn parse<T: Auth0Body>(mut value: Value) -> Result<T, ApiError> {
    for path in T::UNSUPPORTED {
        if lookup(&value, path).is_some_and(is_set) {
            return Err(ApiError::invalid_body(format!(
                "Payload validation error: '{path}' is not supported"
            )));
        }
        remove(&mut value, path);
    }
    for path in T::IGNORED {
        remove(&mut value, path);
    }
    let parsed = serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        // serde's words for a property the struct does not define, in Auth0's.
        let message = match inner
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((name, _)) => format!("Additional properties not allowed: {name}"),
            None => inner,
        };
        // An unknown property is reported at the object that holds it.
        let at = if message.starts_with("Additional properties") {
            unknown_at(&path)
        } else {
            path.as_str()
        };
        if at == "." || at.is_empty() {
            ApiError::invalid_body(format!("Payload validation error: '{message}'"))
        } else {
            ApiError::invalid_body(format!(
                "Payload validation error: '{message}' on property {at}"
            ))
        }
    })?;
    Ok(parsed)
}

/// The object holding the unknown property at `path` (which ends with its name).
fn unknown_at(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(parent, _)| parent)
}

/// The value at a dotted path of nested objects.
fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(value, |value, key| value.as_object()?.get(key))
}

/// Removes the property at a dotted path of nested objects, if present.
fn remove(value: &mut Value, path: &str) {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (
            parent.split('.').try_fold(&mut *value, |value, key| {
                value.as_object_mut()?.get_mut(key)
            }),
            key,
        ),
        None => (Some(value), path),
    };
    if let Some(Value::Object(object)) = parent {
        object.remove(key);
    }
}

/// Whether a value asks for something: not `null`, `false`, `""`, `[]` or `{}`.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(fields) => !fields.is_empty(),
        _ => true,
    }
}

/// Query parameters; a malformed one is a 400 `invalid_query_string` naming it. Unknown
/// parameters are ignored.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                if path == "." {
                    ApiError::invalid_query(format!("Query validation error: '{inner}'"))
                } else {
                    ApiError::invalid_query(format!(
                        "Query validation error: '{inner}' on property {path}"
                    ))
                }
            })
    }
}

/// Every value of a repeated query parameter (`identifiers=a&identifiers=b`), also split on
/// commas.
pub fn query_values(parts_query: Option<&str>, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(parts_query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == name)
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `{id}` of a path; an undecodable one is a 400 `invalid_uri`.
pub struct Id(pub String);

impl<S> FromRequestParts<S> for Id
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Id(id))
            .map_err(|_| ApiError::invalid_uri("Path validation error: the id is not valid"))
    }
}

/// The `{id}` and `{rule_id}` of a nested path; undecodable ones are a 400 `invalid_uri`.
pub struct IdPair(pub String, pub String);

impl<S> FromRequestParts<S> for IdPair
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path((a, b))| IdPair(a, b))
            .map_err(|_| ApiError::invalid_uri("Path validation error: an id is not valid"))
    }
}
