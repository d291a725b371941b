//! `/resource-servers/{id}/rules`: an API's access rules (a Portcullis extension; Auth0 has
//! no such endpoint). A rule grants `scope` (or `*`) to a user only when its condition holds.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::rules;
use portcullis_store::RuleCondition;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::{Authorized, ReadResourceServers, UpdateResourceServers},
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, IdPair},
    resource_servers,
};
use crate::{shapes::AccessRuleShape, state::AdminState};

/// The body of `POST /resource-servers/{id}/rules`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessRule {
    /// A scope the API defines, or `*`.
    pub scope: String,
    /// `{"kind": "email_verified"}`, `{"kind": "has_role", "role_id": "rol_..."}`,
    /// `{"kind": "client_in", "client_ids": [...]}` or
    /// `{"kind": "email_domain_in", "domains": ["example.com"]}`.
    #[schema(value_type = Object)]
    pub condition: RuleCondition,
}

impl Auth0Body for CreateAccessRule {}

/// List an API's access rules, oldest first.
#[utoipa::path(
    get, path = "/resource-servers/{id}/rules", tag = "resource-servers",
    params(("id" = String, Path, description = "The API's id or identifier")),
    responses(
        (status = 200, description = "The rules", body = Vec<AccessRuleShape>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:resource_servers"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadResourceServers>,
    Id(id): Id,
) -> Result<Json<Vec<AccessRuleShape>>, ApiError> {
    let api = resource_servers::find(&app, &id).await?;
    let rules = app.store().access_rules(&api.id).await?;
    Ok(Json(rules.iter().map(AccessRuleShape::from).collect()))
}

/// Add an access rule to an API.
#[utoipa::path(
    post, path = "/resource-servers/{id}/rules", tag = "resource-servers",
    params(("id" = String, Path, description = "The API's id or identifier")),
    request_body = CreateAccessRule,
    responses(
        (status = 201, description = "The rule", body = AccessRuleShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:resource_servers"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<UpdateResourceServers>,
    Id(id): Id,
    Body(body): Body<CreateAccessRule>,
) -> Result<(StatusCode, Json<AccessRuleShape>), ApiError> {
    let api = resource_servers::find(&app, &id).await?;
    let rule = rules::create(
        &app.cx,
        &auth.caller.actor(),
        &api.id,
        &body.scope,
        body.condition,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AccessRuleShape::from(&rule))))
}

/// Delete an access rule.
#[utoipa::path(
    delete, path = "/resource-servers/{id}/rules/{rule_id}", tag = "resource-servers",
    params(
        ("id" = String, Path, description = "The API's id or identifier"),
        ("rule_id" = String, Path, description = "The rule's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:resource_servers"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<UpdateResourceServers>,
    IdPair(id, rule_id): IdPair,
) -> Result<Response, ApiError> {
    let api = resource_servers::find(&app, &id).await?;
    rules::delete(&app.cx, &auth.caller.actor(), Some(&api.id), &rule_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
