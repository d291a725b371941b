//! `POST /connections` and `DELETE /connections/{id}`: connections to other identity
//! providers (strategies `oidc`, `oauth2`, `google-oauth2`, `windowslive`, `github`) in
//! Auth0's shape. Their `client_secret` is accepted and never shown again; `GET` lists them
//! next to the database connection, and `PATCH` changes them ([`update`], reached through
//! the database connection's route, which owns the path).

use axum::{extract::State, http::StatusCode, response::IntoResponse, response::Response, Json};
use portcullis_core::admin::upstream::{self, ConnectionUpdate, NewConnection};
use portcullis_store::UpstreamConnection;
use portcullis_types::Strategy;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{
    auth::{Authorized, CreateConnections, DeleteConnections},
    errors::{parse, present, ApiError, Auth0Body, Body, ErrorBody, Id},
};
use crate::state::AdminState;
use portcullis_core::admin::Actor;

/// The body of `POST /connections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    pub name: String,
    /// `oidc`, `oauth2`, `google-oauth2`, `windowslive` or `github`.
    #[schema(value_type = String)]
    pub strategy: String,
    pub display_name: Option<String>,
    /// The strategy's options (Auth0's names), `client_secret` included.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub options: Map<String, Value>,
    #[serde(default)]
    pub enabled_clients: Vec<String>,
}

impl Auth0Body for CreateConnection {
    const IGNORED: &'static [&'static str] = &[
        "is_domain_connection",
        "show_as_button",
        "realms",
        "metadata",
    ];
    const UNSUPPORTED: &'static [&'static str] = &[];
}

/// The body of `PATCH /connections/{id}` for a connection to another provider. As in Auth0,
/// `options` replaces the whole options object (a `client_secret` left out keeps the current
/// one, which is never shown back); the name and the strategy do not change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUpstreamConnection {
    /// `null` shows the name instead.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub options: Option<Map<String, Value>>,
    pub enabled_clients: Option<Vec<String>>,
}

impl Auth0Body for UpdateUpstreamConnection {
    const IGNORED: &'static [&'static str] = &[
        "is_domain_connection",
        "show_as_button",
        "realms",
        "metadata",
        "authentication",
        "connected_accounts",
    ];
}

/// A connection to another identity provider, as Auth0 shows it (no client secret).
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = UpstreamConnection)]
pub struct UpstreamConnectionShape {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub strategy: String,
    #[schema(value_type = Object)]
    pub options: Map<String, Value>,
    pub enabled_clients: Vec<String>,
    pub is_domain_connection: bool,
    pub realms: Vec<String>,
}

impl From<&UpstreamConnection> for UpstreamConnectionShape {
    fn from(connection: &UpstreamConnection) -> Self {
        UpstreamConnectionShape {
            id: connection.id.clone(),
            name: connection.name.clone(),
            display_name: connection
                .display_name
                .clone()
                .unwrap_or_else(|| connection.name.clone()),
            strategy: connection.strategy.as_str().to_owned(),
            options: connection.options.clone(),
            enabled_clients: connection.enabled_clients.clone(),
            is_domain_connection: false,
            realms: vec![connection.name.clone()],
        }
    }
}

/// Create a connection to another identity provider.
#[utoipa::path(
    post, path = "/connections", tag = "connections",
    request_body = CreateConnection,
    responses(
        (status = 201, description = "The connection", body = UpstreamConnectionShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["create:connections"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateConnections>,
    Body(body): Body<CreateConnection>,
) -> Result<Response, ApiError> {
    let strategy: Strategy =
        body.strategy
            .parse()
            .map_err(|e: portcullis_types::UnknownValue| {
                ApiError::invalid_body(format!(
                    "Payload validation error: '{e}' on property strategy"
                ))
            })?;
    let new = NewConnection {
        name: body.name,
        display_name: body.display_name,
        strategy,
        options: body.options,
        enabled_clients: body.enabled_clients,
    };
    let connection = upstream::create(&app.cx, &auth.caller.actor(), new).await?;
    Ok((
        StatusCode::CREATED,
        Json(UpstreamConnectionShape::from(&connection)),
    )
        .into_response())
}

/// Changes the connection to another provider `id` with the body of a `PATCH`.
pub async fn update(
    app: &AdminState,
    actor: &Actor,
    id: &str,
    body: Value,
) -> Result<UpstreamConnectionShape, ApiError> {
    // An unknown id is Auth0's 404 before any complaint about the body.
    upstream::find(&app.cx, id).await?;
    let body: UpdateUpstreamConnection = parse(body)?;
    let update = ConnectionUpdate {
        display_name: body.display_name,
        options: body.options,
        enabled_clients: body.enabled_clients,
    };
    let connection = upstream::update(&app.cx, actor, id, update).await?;
    Ok(UpstreamConnectionShape::from(&connection))
}

/// Delete a connection to another identity provider (its users stay).
#[utoipa::path(
    delete, path = "/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:connections"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteConnections>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    upstream::delete(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every connection to another provider, as values for the listing.
pub async fn shapes(app: &AdminState) -> Result<Vec<Value>, ApiError> {
    Ok(upstream::list(&app.cx)
        .await?
        .iter()
        .map(|c| serde_json::to_value(UpstreamConnectionShape::from(c)).unwrap_or(Value::Null))
        .collect())
}
