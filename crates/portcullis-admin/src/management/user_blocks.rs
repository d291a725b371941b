//! `/user-blocks`: the (identifier, address) pairs brute-force protection refuses on the login
//! page, listed and cleared by identifier or by user, as Auth0's User Blocks endpoints do.
//! Blocking a user (`PATCH /users/{id}` with `blocked`) is another thing, left as it is.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{admin::users, sign_in::LoginBlock};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Authorized, ReadUsers, UpdateUsers},
    errors::{ApiError, ErrorBody, Id, Query},
};
use crate::{shapes::DATABASE_CONNECTION, state::AdminState};

/// One blocked pair.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockedFor {
    /// The identifier (email) the failed logins were for.
    pub identifier: String,
    /// The address they came from (an IPv6 address as its /64 network).
    pub ip: String,
    pub connection: String,
}

/// The answer of both listings.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBlocks {
    pub blocked_for: Vec<BlockedFor>,
}

impl UserBlocks {
    fn of(blocks: Vec<LoginBlock>) -> Self {
        UserBlocks {
            blocked_for: blocks
                .into_iter()
                .map(|block| BlockedFor {
                    identifier: block.identifier,
                    ip: block.ip,
                    connection: DATABASE_CONNECTION.to_owned(),
                })
                .collect(),
        }
    }
}

/// The query of the by-identifier endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByIdentifier {
    /// The email the failed logins were typed with (case-insensitive).
    pub identifier: Option<String>,
}

impl ByIdentifier {
    fn required(self) -> Result<String, ApiError> {
        self.identifier
            .filter(|identifier| !identifier.trim().is_empty())
            .ok_or_else(|| {
                ApiError::invalid_query(
                    "Query validation error: 'Missing required property: identifier'",
                )
            })
    }
}

/// List the addresses an identifier is blocked for after too many failed logins.
#[utoipa::path(
    get, path = "/user-blocks", tag = "user-blocks",
    params(ByIdentifier),
    responses(
        (status = 200, description = "The blocked pairs", body = UserBlocks),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Query(query): Query<ByIdentifier>,
) -> Result<Json<UserBlocks>, ApiError> {
    let identifier = query.required()?;
    let blocks = users::login_blocks(&app.cx, &identifier).await?;
    Ok(Json(UserBlocks::of(blocks)))
}

/// Unblock an identifier from every address.
#[utoipa::path(
    delete, path = "/user-blocks", tag = "user-blocks",
    params(ByIdentifier),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn clear(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Query(query): Query<ByIdentifier>,
) -> Result<Response, ApiError> {
    let identifier = query.required()?;
    users::clear_login_blocks(&app.cx, &auth.caller.actor(), &identifier).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// List the addresses a user's email is blocked for after too many failed logins.
#[utoipa::path(
    get, path = "/user-blocks/{id}", tag = "user-blocks",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "The blocked pairs", body = UserBlocks),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn list_of_user(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Id(id): Id,
) -> Result<Json<UserBlocks>, ApiError> {
    let blocks = users::login_blocks_of(&app.cx, &id).await?;
    Ok(Json(UserBlocks::of(blocks)))
}

/// Unblock a user's email from every address.
#[utoipa::path(
    delete, path = "/user-blocks/{id}", tag = "user-blocks",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn clear_of_user(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    users::clear_login_blocks_of(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
