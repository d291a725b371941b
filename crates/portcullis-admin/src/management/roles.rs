//! `/roles` (RBAC): roles, their permissions and members.

use std::collections::HashMap;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::{
    roles::{self, Holder, NewRole},
    users,
};
use portcullis_store::{Page, Permission, ResourceServer};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{
        AssignRoleMembers, Authorized, CreateRoles, DeleteRoles, ReadRoleMembers, ReadRoles,
        UpdateRoles,
    },
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, Query},
    pagination::{CheckpointParams, PageParams},
};
use crate::{
    shapes::{PermissionShape, RoleShape, RoleUserShape},
    state::AdminState,
};

/// The user must exist (a 404 `inexistent_user` otherwise).
pub(super) async fn existing_user(app: &AdminState, id: &str) -> Result<(), ApiError> {
    users::find(&app.cx, id).await?;
    Ok(())
}

/// The body of `POST /roles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    /// Unique (case-insensitive).
    pub name: String,
    pub description: Option<String>,
}

/// The body of `PATCH /roles/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// One permission to add or remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionInput {
    /// The API's identifier.
    pub resource_server_identifier: String,
    /// A scope the API defines.
    pub permission_name: String,
}

/// A list of permissions to add or remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionsBody {
    pub permissions: Vec<PermissionInput>,
}

impl PermissionsBody {
    pub(super) fn permissions(self) -> Result<Vec<Permission>, ApiError> {
        if self.permissions.is_empty() {
            return Err(ApiError::invalid_body(
                "Payload validation error: 'Array is too short (0), minimum 1' on property permissions",
            ));
        }
        Ok(self
            .permissions
            .into_iter()
            .map(|p| Permission {
                resource_server_identifier: p.resource_server_identifier,
                permission_name: p.permission_name,
            })
            .collect())
    }
}

/// Role ids to assign or remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    pub roles: Vec<String>,
}

/// User ids to give a role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersBody {
    pub users: Vec<String>,
}

impl Auth0Body for CreateRole {}
impl Auth0Body for UpdateRole {}
impl Auth0Body for PermissionsBody {}
impl Auth0Body for RolesBody {}
impl Auth0Body for UsersBody {}

pub(super) fn at_least_one(list: &[String], property: &str) -> Result<(), ApiError> {
    if list.is_empty() {
        return Err(ApiError::invalid_body(format!(
            "Payload validation error: 'Array is too short (0), minimum 1' on property {property}"
        )));
    }
    Ok(())
}

/// Filters of `GET /roles`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleFilters {
    /// Only roles whose name contains this (case-insensitive).
    pub name_filter: Option<String>,
}

/// Shapes permissions with their API's name and the scope's description.
pub(super) async fn permission_shapes(
    app: &AdminState,
    permissions: &[Permission],
) -> Result<Vec<Value>, ApiError> {
    let (apis, _) = app.store().list_resource_servers(Page::ALL).await?;
    let by_identifier: HashMap<&str, &ResourceServer> =
        apis.iter().map(|a| (a.identifier.as_str(), a)).collect();
    Ok(permissions
        .iter()
        .map(|p| {
            let api = by_identifier
                .get(p.resource_server_identifier.as_str())
                .copied();
            serde_json::to_value(PermissionShape::new(p, api)).unwrap_or_default()
        })
        .collect())
}

/// List roles.
#[utoipa::path(
    get, path = "/roles", tag = "roles",
    params(PageParams, RoleFilters),
    responses(
        (status = 200, description = "A page of roles: an array, or with `include_totals` an object with `roles`", body = Vec<RoleShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:roles"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadRoles>,
    Query(page): Query<PageParams>,
    Query(filters): Query<RoleFilters>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    let filter = filters.name_filter.as_deref().filter(|f| !f.is_empty());
    let (roles, total) = app.store().list_roles(filter, paging.store_page()).await?;
    let items = roles
        .iter()
        .map(|r| serde_json::to_value(RoleShape::from(r)).unwrap_or_default())
        .collect();
    Ok(paging.respond("roles", items, total))
}

/// Create a role.
#[utoipa::path(
    post, path = "/roles", tag = "roles",
    request_body = CreateRole,
    responses(
        (status = 200, description = "The role", body = RoleShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
    ),
    security(("management_api" = ["create:roles"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateRoles>,
    Body(body): Body<CreateRole>,
) -> Result<Json<RoleShape>, ApiError> {
    let new = NewRole {
        name: body.name,
        description: body.description.unwrap_or_default(),
    };
    let role = roles::create(&app.cx, &auth.caller.actor(), new).await?;
    Ok(Json(RoleShape::from(&role)))
}

/// Get a role.
#[utoipa::path(
    get, path = "/roles/{id}", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    responses(
        (status = 200, description = "The role", body = RoleShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:roles"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadRoles>,
    Id(id): Id,
) -> Result<Json<RoleShape>, ApiError> {
    Ok(Json(RoleShape::from(&roles::find(&app.cx, &id).await?)))
}

/// Rename a role or change its description.
#[utoipa::path(
    patch, path = "/roles/{id}", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    request_body = UpdateRole,
    responses(
        (status = 200, description = "The updated role", body = RoleShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["update:roles"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateRoles>,
    Id(id): Id,
    Body(body): Body<UpdateRole>,
) -> Result<Json<RoleShape>, ApiError> {
    let role = roles::update(
        &app.cx,
        &auth.caller.actor(),
        &id,
        body.name,
        body.description,
    )
    .await?;
    Ok(Json(RoleShape::from(&role)))
}

/// Delete a role; its holders lose it and its permissions.
#[utoipa::path(
    delete, path = "/roles/{id}", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:roles"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteRoles>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    roles::delete(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// List the permissions of a role.
#[utoipa::path(
    get, path = "/roles/{id}/permissions", tag = "roles",
    params(("id" = String, Path, description = "The role id"), PageParams),
    responses(
        (status = 200, description = "A page of permissions: an array, or with `include_totals` an object with `permissions`", body = Vec<PermissionShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:roles"]))
)]
pub async fn list_permissions(
    State(app): State<AdminState>,
    _auth: Authorized<ReadRoles>,
    Id(id): Id,
    Query(page): Query<PageParams>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    roles::find(&app.cx, &id).await?;
    let (permissions, total) = paging.slice(app.store().role_permissions(&id).await?);
    let items = permission_shapes(&app, &permissions).await?;
    Ok(paging.respond("permissions", items, total))
}

/// Add permissions to a role.
#[utoipa::path(
    post, path = "/roles/{id}/permissions", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    request_body = PermissionsBody,
    responses(
        (status = 201, description = "Added"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:roles"]))
)]
pub async fn add_permissions(
    State(app): State<AdminState>,
    auth: Authorized<UpdateRoles>,
    Id(id): Id,
    Body(body): Body<PermissionsBody>,
) -> Result<Response, ApiError> {
    let permissions = body.permissions()?;
    roles::add_permissions(
        &app.cx,
        &auth.caller.actor(),
        Holder::Role(&id),
        &permissions,
    )
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Remove permissions from a role.
#[utoipa::path(
    delete, path = "/roles/{id}/permissions", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    request_body = PermissionsBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:roles"]))
)]
pub async fn remove_permissions(
    State(app): State<AdminState>,
    auth: Authorized<UpdateRoles>,
    Id(id): Id,
    Body(body): Body<PermissionsBody>,
) -> Result<Response, ApiError> {
    let permissions = body.permissions()?;
    roles::remove_permissions(
        &app.cx,
        &auth.caller.actor(),
        Holder::Role(&id),
        &permissions,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// List the users holding a role: checkpoint paging (`from`, `take`, as the SDKs send) or
/// offset paging.
#[utoipa::path(
    get, path = "/roles/{id}/users", tag = "roles",
    params(("id" = String, Path, description = "The role id"), PageParams, CheckpointParams),
    responses(
        (status = 200, description = "Users: an array; with `include_totals` an object with `users` and totals; with `from`/`take` an object with `users` and `next`", body = Vec<RoleUserShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:users", "read:roles", "read:role_members"]))
)]
pub async fn list_users(
    State(app): State<AdminState>,
    _auth: Authorized<ReadRoleMembers>,
    Id(id): Id,
    Query(page): Query<PageParams>,
    Query(checkpoint): Query<CheckpointParams>,
) -> Result<Response, ApiError> {
    roles::find(&app.cx, &id).await?;
    let load = |ids: Vec<String>| {
        let app = app.clone();
        async move {
            let mut items = Vec::with_capacity(ids.len());
            for user_id in ids {
                if let Some(user) = app.store().user_by_id(&user_id).await? {
                    items
                        .push(serde_json::to_value(RoleUserShape::from(&user)).unwrap_or_default());
                }
            }
            Ok::<_, ApiError>(items)
        }
    };
    if checkpoint.requested() {
        let checkpoint = checkpoint.checkpoint()?;
        let (store_page, skip) = checkpoint.store_page();
        let (ids, total) = app.store().role_users(&id, store_page).await?;
        let ids: Vec<String> = ids.into_iter().skip(skip).collect();
        return Ok(checkpoint.respond("users", load(ids).await?, total));
    }
    let paging = page.paging()?;
    let (ids, total) = app.store().role_users(&id, paging.store_page()).await?;
    Ok(paging.respond("users", load(ids).await?, total))
}

/// Give a role to users.
#[utoipa::path(
    post, path = "/roles/{id}/users", tag = "roles",
    params(("id" = String, Path, description = "The role id")),
    request_body = UsersBody,
    responses(
        (status = 200, description = "Assigned"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:roles", "create:role_members"]))
)]
pub async fn assign_users(
    State(app): State<AdminState>,
    auth: Authorized<AssignRoleMembers>,
    Id(id): Id,
    Body(body): Body<UsersBody>,
) -> Result<Response, ApiError> {
    at_least_one(&body.users, "users")?;
    roles::assign_users(&app.cx, &auth.caller.actor(), &id, &body.users).await?;
    Ok(StatusCode::OK.into_response())
}
