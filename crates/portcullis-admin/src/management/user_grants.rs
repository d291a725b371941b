//! `/grants`: users' consents to third-party applications (Auth0's user grants), listed and
//! revoked. A revoked consent is asked for again at the application's next request, and the
//! refresh tokens the user held at the application stop working.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use portcullis_core::admin::consents;
use portcullis_store::ConsentFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    auth::{Authorized, DeleteGrants, ReadGrants},
    errors::{ApiError, ErrorBody, Id, Query},
    pagination::PageParams,
};
use crate::{shapes::UserGrantShape, state::AdminState};

/// Filters of `GET /grants`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserGrantFilters {
    /// The user's id.
    pub user_id: Option<String>,
    /// The application's client id.
    pub client_id: Option<String>,
    /// The API's identifier, or the userinfo endpoint.
    pub audience: Option<String>,
}

/// The query of `DELETE /grants`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserGrantOwner {
    /// The user whose grants to delete (required).
    pub user_id: Option<String>,
}

/// List users' grants, oldest first: offset paging (`page`, `per_page`, `include_totals`).
#[utoipa::path(
    get, path = "/grants", tag = "grants",
    params(PageParams, UserGrantFilters),
    responses(
        (status = 200, description = "Grants: an array, or with `include_totals` an object with `grants` and totals", body = Vec<UserGrantShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:grants"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadGrants>,
    Query(page): Query<PageParams>,
    Query(filters): Query<UserGrantFilters>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    let filter = ConsentFilter {
        user_id: filters.user_id,
        client_id: filters.client_id,
        audience: filters.audience,
    };
    let (grants, total) = consents::list(&app.cx, &filter, paging.store_page()).await?;
    let items = grants
        .iter()
        .map(|g| serde_json::to_value(UserGrantShape::from(g)).unwrap_or_default())
        .collect();
    Ok(paging.respond("grants", items, total))
}

/// Delete every grant of a user.
#[utoipa::path(
    delete, path = "/grants", tag = "grants",
    params(UserGrantOwner),
    responses(
        (status = 204, description = "Deleted (also when the user had none)"),
        (status = 400, description = "Missing user_id", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["delete:grants"]))
)]
pub async fn delete_by_user(
    State(app): State<AdminState>,
    auth: Authorized<DeleteGrants>,
    Query(owner): Query<UserGrantOwner>,
) -> Result<Response, ApiError> {
    let Some(user_id) = owner.user_id.filter(|u| !u.trim().is_empty()) else {
        return Err(ApiError::invalid_query(
            "Query validation error: Missing required property: user_id",
        ));
    };
    consents::revoke_all(&app.cx, &auth.caller.actor(), &user_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete a grant.
#[utoipa::path(
    delete, path = "/grants/{id}", tag = "grants",
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:grants"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteGrants>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    consents::revoke(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
