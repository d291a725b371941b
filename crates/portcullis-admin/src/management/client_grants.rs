//! `/client-grants`: which scopes of which API a machine-to-machine client may get.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::grants;
use portcullis_store::{ClientGrant, Page};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{
        Authorized, CreateClientGrants, DeleteClientGrants, ReadClientGrants, UpdateClientGrants,
    },
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, Query},
    pagination::{CheckpointParams, PageParams},
};
use crate::{shapes::ClientGrantShape, state::AdminState};

/// The body of `POST /client-grants`. Auth0's organization settings are accepted and ignored;
/// `default_for` and `allow_all_scopes` are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientGrant {
    pub client_id: String,
    /// The API's identifier.
    pub audience: String,
    /// Scopes the API defines.
    pub scope: Option<Vec<String>>,
}

/// The body of `PATCH /client-grants/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientGrant {
    /// Replaces the granted scopes.
    pub scope: Option<Vec<String>>,
}

impl Auth0Body for CreateClientGrant {
    const IGNORED: &'static [&'static str] = &[
        "organization_usage",
        "allow_any_organization",
        "authorization_details_types",
        "subject_type",
    ];
    const UNSUPPORTED: &'static [&'static str] = &["default_for", "allow_all_scopes"];
}

impl Auth0Body for UpdateClientGrant {
    const IGNORED: &'static [&'static str] = &[
        "organization_usage",
        "allow_any_organization",
        "authorization_details_types",
    ];
    const UNSUPPORTED: &'static [&'static str] = &["allow_all_scopes"];
}

/// Filters of `GET /client-grants`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantFilters {
    pub client_id: Option<String>,
    /// The API's identifier.
    pub audience: Option<String>,
}

async fn all_grants(app: &AdminState) -> Result<Vec<ClientGrant>, ApiError> {
    Ok(app.store().list_client_grants(Page::ALL).await?.0)
}

/// List client grants: offset paging (`page`, `per_page`, `include_totals`) or checkpoint
/// paging (`from`, `take`, as the SDKs send).
#[utoipa::path(
    get, path = "/client-grants", tag = "client-grants",
    params(PageParams, CheckpointParams, GrantFilters),
    responses(
        (status = 200, description = "Client grants: an array; with `include_totals` an object with `client_grants` and totals; with `from`/`take` an object with `client_grants` and `next`", body = Vec<ClientGrantShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:client_grants"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadClientGrants>,
    Query(page): Query<PageParams>,
    Query(checkpoint): Query<CheckpointParams>,
    Query(filters): Query<GrantFilters>,
) -> Result<Response, ApiError> {
    let matching: Vec<ClientGrant> = all_grants(&app)
        .await?
        .into_iter()
        .filter(|g| filters.client_id.as_ref().is_none_or(|c| *c == g.client_id))
        .filter(|g| filters.audience.as_ref().is_none_or(|a| *a == g.audience))
        .collect();
    let shape = |grants: Vec<ClientGrant>| {
        grants
            .iter()
            .map(|g| serde_json::to_value(ClientGrantShape::from(g)).unwrap_or_default())
            .collect()
    };
    if checkpoint.requested() {
        let checkpoint = checkpoint.checkpoint()?;
        let (items, total) = checkpoint.slice(matching);
        return Ok(checkpoint.respond("client_grants", shape(items), total));
    }
    let paging = page.paging()?;
    let (items, total) = paging.slice(matching);
    Ok(paging.respond("client_grants", shape(items), total))
}

/// Grant a client scopes of an API.
#[utoipa::path(
    post, path = "/client-grants", tag = "client-grants",
    request_body = CreateClientGrant,
    responses(
        (status = 201, description = "The grant", body = ClientGrantShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such client or API", body = ErrorBody),
        (status = 409, description = "The client already has a grant for this API", body = ErrorBody),
    ),
    security(("management_api" = ["create:client_grants"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateClientGrants>,
    Body(body): Body<CreateClientGrant>,
) -> Result<(StatusCode, Json<ClientGrantShape>), ApiError> {
    let grant = grants::create(
        &app.cx,
        &auth.caller.actor(),
        &body.client_id,
        &body.audience,
        body.scope.unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ClientGrantShape::from(&grant))))
}

/// Get a client grant.
#[utoipa::path(
    get, path = "/client-grants/{id}", tag = "client-grants",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant", body = ClientGrantShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:client_grants"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadClientGrants>,
    Id(id): Id,
) -> Result<Json<ClientGrantShape>, ApiError> {
    let grant = grants::find(&app.cx, &id).await?;
    Ok(Json(ClientGrantShape::from(&grant)))
}

/// Replace the scopes of a client grant.
#[utoipa::path(
    patch, path = "/client-grants/{id}", tag = "client-grants",
    params(("id" = String, Path, description = "The grant's id")),
    request_body = UpdateClientGrant,
    responses(
        (status = 200, description = "The updated grant", body = ClientGrantShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:client_grants"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateClientGrants>,
    Id(id): Id,
    Body(body): Body<UpdateClientGrant>,
) -> Result<Json<ClientGrantShape>, ApiError> {
    let grant = match body.scope {
        Some(scope) => grants::update(&app.cx, &auth.caller.actor(), &id, scope).await?,
        None => grants::find(&app.cx, &id).await?,
    };
    Ok(Json(ClientGrantShape::from(&grant)))
}

/// Delete a client grant.
#[utoipa::path(
    delete, path = "/client-grants/{id}", tag = "client-grants",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:client_grants"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteClientGrants>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    grants::delete(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
