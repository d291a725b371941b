//! `POST /users/{id}/identities` (link) and `DELETE /users/{id}/identities/{provider}/{user_id}`
//! (unlink), in Auth0's shapes: both answer the primary user's identities.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::{identities, users};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    auth::{Authorized, UpdateUsers},
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id},
};
use crate::{
    shapes::{IdentityShape, UserShape},
    state::AdminState,
};

/// The body of `POST /users/{id}/identities`: the secondary user, by provider and id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIdentity {
    /// The secondary user's provider (`oidc`, `google-oauth2`, ...).
    pub provider: String,
    /// The secondary user's id without the provider (`<connection>|<sub>` for `oidc`).
    pub user_id: String,
    /// Accepted and ignored: the provider and id name the user.
    pub connection_id: Option<String>,
}

impl Auth0Body for LinkIdentity {
    const IGNORED: &'static [&'static str] = &[];
    const UNSUPPORTED: &'static [&'static str] = &["link_with"];
}

async fn identities_of(app: &AdminState, user_id: &str) -> Result<Vec<IdentityShape>, ApiError> {
    let user = users::find(&app.cx, user_id).await?;
    let linked = identities::linked(&app.cx, user_id).await?;
    Ok(UserShape::from(&user).with_linked(&linked).identities)
}

/// Link a user to this one.
#[utoipa::path(
    post, path = "/users/{id}/identities", tag = "users",
    params(("id" = String, Path, description = "The primary user's id")),
    request_body = LinkIdentity,
    responses(
        (status = 201, description = "The primary user's identities", body = Vec<IdentityShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn link(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Id(id): Id,
    Body(body): Body<LinkIdentity>,
) -> Result<Response, ApiError> {
    identities::link(
        &app.cx,
        &auth.caller.actor(),
        &id,
        &body.provider,
        &body.user_id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(identities_of(&app, &id).await?)).into_response())
}

/// Unlink an identity from this user: it becomes a user of its own again.
#[utoipa::path(
    delete, path = "/users/{id}/identities/{provider}/{user_id}", tag = "users",
    params(
        ("id" = String, Path, description = "The primary user's id"),
        ("provider" = String, Path, description = "The identity's provider"),
        ("user_id" = String, Path, description = "The identity's user id"),
    ),
    responses(
        (status = 200, description = "The primary user's remaining identities", body = Vec<IdentityShape>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn unlink(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Path((id, provider, user_id)): Path<(String, String, String)>,
) -> Result<Json<Vec<IdentityShape>>, ApiError> {
    identities::unlink(&app.cx, &auth.caller.actor(), &id, &provider, &user_id).await?;
    Ok(Json(identities_of(&app, &id).await?))
}
