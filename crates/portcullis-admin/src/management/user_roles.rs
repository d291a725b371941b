//! `/users/{id}/roles` and `/users/{id}/permissions`: what a user holds (RBAC).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use portcullis_core::admin::roles::{self, Holder};

use super::{
    auth::{AssignUserRoles, Authorized, ReadRoleMembers, ReadUsers, RemoveUserRoles, UpdateUsers},
    errors::{ApiError, Body, ErrorBody, Id, Query},
    pagination::PageParams,
    roles::{at_least_one, existing_user, permission_shapes, PermissionsBody, RolesBody},
};
use crate::{
    shapes::{PermissionShape, RoleShape},
    state::AdminState,
};

/// List a user's roles.
#[utoipa::path(
    get, path = "/users/{id}/roles", tag = "users",
    params(("id" = String, Path, description = "The user id"), PageParams),
    responses(
        (status = 200, description = "A page of roles: an array, or with `include_totals` an object with `roles`", body = Vec<RoleShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:users", "read:roles", "read:role_members"]))
)]
pub async fn list_roles(
    State(app): State<AdminState>,
    _auth: Authorized<ReadRoleMembers>,
    Id(id): Id,
    Query(page): Query<PageParams>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    existing_user(&app, &id).await?;
    let (roles, total) = paging.slice(app.store().user_roles(&id).await?);
    let items = roles
        .iter()
        .map(|r| serde_json::to_value(RoleShape::from(r)).unwrap_or_default())
        .collect();
    Ok(paging.respond("roles", items, total))
}

/// Give a user roles.
#[utoipa::path(
    post, path = "/users/{id}/roles", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = RolesBody,
    responses(
        (status = 204, description = "Assigned"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users", "create:role_members"]))
)]
pub async fn assign_roles(
    State(app): State<AdminState>,
    auth: Authorized<AssignUserRoles>,
    Id(id): Id,
    Body(body): Body<RolesBody>,
) -> Result<Response, ApiError> {
    at_least_one(&body.roles, "roles")?;
    roles::assign_roles(&app.cx, &auth.caller.actor(), &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Take roles from a user.
#[utoipa::path(
    delete, path = "/users/{id}/roles", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = RolesBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users", "delete:role_members"]))
)]
pub async fn remove_roles(
    State(app): State<AdminState>,
    auth: Authorized<RemoveUserRoles>,
    Id(id): Id,
    Body(body): Body<RolesBody>,
) -> Result<Response, ApiError> {
    at_least_one(&body.roles, "roles")?;
    roles::remove_roles(&app.cx, &auth.caller.actor(), &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// List a user's permissions: those given directly and those of the user's roles.
#[utoipa::path(
    get, path = "/users/{id}/permissions", tag = "users",
    params(("id" = String, Path, description = "The user id"), PageParams),
    responses(
        (status = 200, description = "A page of permissions (direct and through roles): an array, or with `include_totals` an object with `permissions`", body = Vec<PermissionShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn list_permissions(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Id(id): Id,
    Query(page): Query<PageParams>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    existing_user(&app, &id).await?;
    let mut permissions = app.store().user_permissions(&id).await?;
    for role in app.store().user_roles(&id).await? {
        permissions.extend(app.store().role_permissions(&role.id).await?);
    }
    permissions.sort();
    permissions.dedup();
    let (permissions, total) = paging.slice(permissions);
    let items = permission_shapes(&app, &permissions).await?;
    Ok(paging.respond("permissions", items, total))
}

/// Give a user permissions directly.
#[utoipa::path(
    post, path = "/users/{id}/permissions", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = PermissionsBody,
    responses(
        (status = 201, description = "Added"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn add_permissions(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Id(id): Id,
    Body(body): Body<PermissionsBody>,
) -> Result<Response, ApiError> {
    let permissions = body.permissions()?;
    roles::add_permissions(
        &app.cx,
        &auth.caller.actor(),
        Holder::User(&id),
        &permissions,
    )
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Take direct permissions from a user.
#[utoipa::path(
    delete, path = "/users/{id}/permissions", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = PermissionsBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn remove_permissions(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Id(id): Id,
    Body(body): Body<PermissionsBody>,
) -> Result<Response, ApiError> {
    let permissions = body.permissions()?;
    roles::remove_permissions(
        &app.cx,
        &auth.caller.actor(),
        Holder::User(&id),
        &permissions,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
