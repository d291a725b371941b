//! `/users` and `/users-by-email`: users of the database connection.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::{
    users::{self, NewUser, UserChanges},
    AdminError, MetadataChange,
};
use portcullis_store::User;
use portcullis_types::Secret;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Authorized, CreateUsers, DeleteUsers, ReadUsers, UpdateUsers},
    errors::{present, ApiError, Auth0Body, Body, ErrorBody, Id, Query},
    pagination::{FieldsParams, PageParams},
};
use crate::{
    shapes::{UserShape, DATABASE_CONNECTION},
    state::AdminState,
};

/// Auth0 answers a taken email with the connection's error code.
fn user_error(error: AdminError) -> ApiError {
    match error {
        AdminError::Conflict { message, .. } => {
            ApiError::new(StatusCode::CONFLICT, "auth0_idp_error", message)
        }
        other => other.into(),
    }
}

fn check_connection(connection: &str) -> Result<(), ApiError> {
    if connection == DATABASE_CONNECTION {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "inexistent_connection",
            "The connection does not exist.",
        ))
    }
}

fn missing(property: &str) -> ApiError {
    ApiError::invalid_body(format!(
        "Payload validation error: 'Missing required property: {property}'."
    ))
}

/// The body of `POST /users`. Auth0's `username`, `phone_number`, `phone_verified` and
/// `verify_email` are accepted and ignored; `user_id` is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Only `Username-Password-Authentication`.
    pub connection: String,
    pub email: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret>,
    pub email_verified: Option<bool>,
    pub blocked: Option<bool>,
    pub name: Option<String>,
    /// At most 150 characters.
    pub given_name: Option<String>,
    /// At most 150 characters.
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    /// A JSON object (property names without `.` or `$`; at most 16 KB).
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Map<String, Value>>,
    /// A JSON object, without Auth0's reserved properties (`email`, `user_id`, ...).
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Map<String, Value>>,
}

/// What Auth0 defines for a user's profile that Portcullis accepts and ignores: the first four
/// on creation, all of them on an update.
const IGNORED_PROFILE: &[&str] = &[
    "username",
    "phone_number",
    "phone_verified",
    "verify_email",
    "verify_phone_number",
    "client_id",
];

impl Auth0Body for CreateUser {
    const IGNORED: &'static [&'static str] = IGNORED_PROFILE.split_at(4).0;
    const UNSUPPORTED: &'static [&'static str] = &["user_id"];
}

/// The body of `PATCH /users/{id}`: only the given fields change. Metadata follows Auth0's
/// merge rules: top-level properties are merged, one set to `null` is deleted, nested objects
/// are replaced whole, and `{}` clears everything. `given_name` or `family_name` set to `null`
/// is cleared. Auth0's `username`, `phone_number`, `phone_verified`, `verify_email`,
/// `verify_phone_number` and `client_id` are accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub blocked: Option<bool>,
    pub email_verified: Option<bool>,
    pub email: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret>,
    pub name: Option<String>,
    /// At most 150 characters; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    /// At most 150 characters; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub family_name: Option<Option<String>>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    /// When given, only `Username-Password-Authentication`.
    pub connection: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Map<String, Value>>,
}

impl Auth0Body for UpdateUser {
    const IGNORED: &'static [&'static str] = IGNORED_PROFILE;
}

/// Search parameters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// A query in the subset of Auth0's syntax Portcullis supports: `email:"jane@example.com"`
    /// (exact, case-insensitive), `email:*example.com` or `email:jane*` (contains),
    /// `user_id:"auth0|..."`, or plain text (contained in the email).
    pub q: Option<String>,
    /// `v3` (the default) or `v2`.
    pub search_engine: Option<String>,
    /// Accepted for compatibility; results are ordered by creation time.
    pub sort: Option<String>,
}

/// What a `q` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Search {
    All,
    EmailIs(String),
    EmailContains(String),
    UserIdIs(String),
}

fn parse_search(q: Option<&str>) -> Result<Search, ApiError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() || q == "*" {
        return Ok(Search::All);
    }
    let unquote = |value: &str| value.trim().trim_matches('"').to_owned();
    let Some((field, value)) = q.split_once(':') else {
        return Ok(Search::EmailContains(unquote(q)));
    };
    let quoted = value.trim().starts_with('"');
    let value = unquote(value);
    match field.trim() {
        "email" if !quoted && value.contains('*') => Ok(Search::EmailContains(
            value.trim_matches('*').to_owned(),
        )),
        "email" => Ok(Search::EmailIs(value)),
        "user_id" => Ok(Search::UserIdIs(value)),
        // A plain-text search for something with a colon in it.
        field if field.contains(' ') || field.contains('"') => Ok(Search::EmailContains(unquote(q))),
        field => Err(ApiError::invalid_query(format!(
            "Query validation error: searching by '{field}' is not supported (email, user_id or plain text)"
        ))),
    }
}

/// List or search users.
#[utoipa::path(
    get, path = "/users", tag = "users",
    params(PageParams, FieldsParams, UserSearch),
    responses(
        (status = 200, description = "A page of users: an array, or with `include_totals` an object with `users`", body = Vec<UserShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Query(page): Query<PageParams>,
    Query(fields): Query<FieldsParams>,
    Query(search): Query<UserSearch>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    if !matches!(search.search_engine.as_deref(), None | Some("v2" | "v3")) {
        return Err(ApiError::invalid_query(
            "Query validation error: search_engine must be v2 or v3",
        ));
    }
    let (users, total): (Vec<User>, u64) = match parse_search(search.q.as_deref())? {
        Search::All => app.store().list_users(None, paging.store_page()).await?,
        Search::EmailContains(text) => {
            app.store()
                .list_users(Some(&text), paging.store_page())
                .await?
        }
        Search::EmailIs(email) => paging.slice(
            app.store()
                .user_by_email(&email)
                .await?
                .into_iter()
                .collect(),
        ),
        Search::UserIdIs(id) => {
            paging.slice(app.store().user_by_id(&id).await?.into_iter().collect())
        }
    };
    let items = fields.project_all(users.iter().map(UserShape::from));
    Ok(paging.respond("users", items, total))
}

/// Create a user in the database connection.
#[utoipa::path(
    post, path = "/users", tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "The user", body = UserShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The email is taken", body = ErrorBody),
        (status = 429, description = "Every password-hashing slot is taken: retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("management_api" = ["create:users"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateUsers>,
    Body(body): Body<CreateUser>,
) -> Result<(StatusCode, Json<UserShape>), ApiError> {
    check_connection(&body.connection)?;
    let email = body.email.ok_or_else(|| missing("email"))?;
    let password = body.password.ok_or_else(|| missing("password"))?;
    let new = NewUser {
        email,
        password,
        email_verified: body.email_verified.unwrap_or(false),
        name: body.name,
        given_name: body.given_name,
        family_name: body.family_name,
        nickname: body.nickname,
        picture: body.picture,
        blocked: body.blocked.unwrap_or(false),
        user_metadata: body.user_metadata.unwrap_or_default(),
        app_metadata: body.app_metadata.unwrap_or_default(),
    };
    let user = users::create(&app.cx, &auth.caller.actor(), new)
        .await
        .map_err(user_error)?;
    Ok((StatusCode::CREATED, Json(UserShape::from(&user))))
}

/// Get a user.
#[utoipa::path(
    get, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id (`auth0|...`)"), FieldsParams),
    responses(
        (status = 200, description = "The user", body = UserShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Id(id): Id,
    Query(fields): Query<FieldsParams>,
) -> Result<Json<Value>, ApiError> {
    let user = users::find(&app.cx, &id).await?;
    let linked = portcullis_core::admin::identities::linked(&app.cx, &user.user_id).await?;
    let value = fields.project_all([UserShape::from(&user).with_linked(&linked)]);
    Ok(Json(value.into_iter().next().unwrap_or(Value::Null)))
}

/// Parameters of `GET /users-by-email`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ByEmail {
    /// The email address (case-insensitive).
    pub email: Option<String>,
}

/// Find users by email address.
#[utoipa::path(
    get, path = "/users-by-email", tag = "users",
    params(ByEmail, FieldsParams),
    responses(
        (status = 200, description = "The users with this email (zero or one)", body = Vec<UserShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn by_email(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Query(query): Query<ByEmail>,
    Query(fields): Query<FieldsParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let email = query
        .email
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            ApiError::invalid_query("Query validation error: 'Missing required property: email'")
        })?;
    let user = app.store().user_by_email(email.trim()).await?;
    Ok(Json(fields.project_all(user.iter().map(UserShape::from))))
}

/// Update a user: block or unblock, change email, name, password, verification, metadata.
#[utoipa::path(
    patch, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user", body = UserShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "The new email is taken", body = ErrorBody),
        (status = 429, description = "Every password-hashing slot is taken: retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("management_api" = ["update:users"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateUsers>,
    Id(id): Id,
    Body(body): Body<UpdateUser>,
) -> Result<Json<UserShape>, ApiError> {
    if let Some(connection) = body.connection.as_deref() {
        check_connection(connection)?;
    }
    let user = users::update(
        &app.cx,
        &auth.caller.actor(),
        &id,
        UserChanges {
            email: body.email,
            email_verified: body.email_verified,
            password: body.password,
            name: body.name,
            given_name: body.given_name,
            family_name: body.family_name,
            nickname: body.nickname,
            picture: body.picture,
            blocked: body.blocked,
            user_metadata: body.user_metadata.map(MetadataChange::Merge),
            app_metadata: body.app_metadata.map(MetadataChange::Merge),
        },
    )
    .await
    .map_err(user_error)?;
    Ok(Json(UserShape::from(&user)))
}

/// Delete a user, with their sessions, roles and permissions.
#[utoipa::path(
    delete, path = "/users/{id}", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:users"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteUsers>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    users::delete(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_queries() {
        assert_eq!(parse_search(None).unwrap(), Search::All);
        assert_eq!(
            parse_search(Some("email:\"Jane@Example.com\"")).unwrap(),
            Search::EmailIs("Jane@Example.com".into())
        );
        assert_eq!(
            parse_search(Some("email:*example.com")).unwrap(),
            Search::EmailContains("example.com".into())
        );
        assert_eq!(
            parse_search(Some("jane")).unwrap(),
            Search::EmailContains("jane".into())
        );
        assert_eq!(
            parse_search(Some("user_id:\"auth0|abc\"")).unwrap(),
            Search::UserIdIs("auth0|abc".into())
        );
        assert!(parse_search(Some("logins_count:[1 TO 5]")).is_err());
    }
}
