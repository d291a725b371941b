//! `/resource-servers`: APIs.

use axum::{
    extract::State,
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::apis::{self, ApiChanges, NewApi};
use portcullis_store::{ResourceServer, ScopeDefinition};
use portcullis_types::{Secret, SigningAlg, TokenDialect};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    auth::{
        Authorized, CreateResourceServers, DeleteResourceServers, ReadResourceServers,
        UpdateResourceServers,
    },
    errors::{query_values, ApiError, Auth0Body, Body, ErrorBody, Id, Query},
    pagination::{FieldsParams, PageParams},
};
use crate::{shapes::ResourceServerShape, state::AdminState};

/// A scope to define.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

fn scope_definitions(scopes: Vec<ScopeInput>) -> Vec<ScopeDefinition> {
    scopes
        .into_iter()
        .map(|s| ScopeDefinition {
            value: s.value,
            description: s.description.unwrap_or_default(),
        })
        .collect()
}

/// The body of `POST /resource-servers`. Auth0's `allow_online_access`,
/// `consent_policy`, `authorization_details`, ... are accepted and ignored; `token_encryption`
/// and `proof_of_possession` are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResourceServer {
    /// Defaults to the identifier.
    pub name: Option<String>,
    /// The audience: unique, without spaces.
    pub identifier: String,
    /// `RS256` (default), `PS256`, `ES256` or `HS256`.
    #[schema(value_type = Option<String>)]
    pub signing_alg: Option<SigningAlg>,
    /// HS256: at least 32 bytes, made when not given; ignored with the other algorithms.
    #[schema(value_type = Option<String>)]
    pub signing_secret: Option<Secret>,
    pub scopes: Option<Vec<ScopeInput>>,
    /// Seconds, 60 to 2592000 (default 86400).
    pub token_lifetime: Option<i64>,
    /// Seconds, at most `token_lifetime` (default: `token_lifetime`, at most 7200).
    pub token_lifetime_for_web: Option<i64>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    /// RBAC on.
    pub enforce_policies: Option<bool>,
    /// `access_token` (default), `access_token_authz`, `rfc9068_profile`,
    /// `rfc9068_profile_authz`.
    #[schema(value_type = Option<String>)]
    pub token_dialect: Option<TokenDialect>,
}

/// The body of `PATCH /resource-servers/{id}`: only the given fields change; Auth0's other
/// settings are treated as in `POST /resource-servers`, and `identifier` is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResourceServer {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub signing_alg: Option<SigningAlg>,
    /// HS256 only: replaces the secret (rotation).
    #[schema(value_type = Option<String>)]
    pub signing_secret: Option<Secret>,
    /// Replaces every scope.
    pub scopes: Option<Vec<ScopeInput>>,
    pub token_lifetime: Option<i64>,
    pub token_lifetime_for_web: Option<i64>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    pub enforce_policies: Option<bool>,
    #[schema(value_type = Option<String>)]
    pub token_dialect: Option<TokenDialect>,
}

/// Settings Auth0 defines for APIs that Portcullis accepts and ignores.
const IGNORED_API_SETTINGS: &[&str] = &[
    "allow_online_access",
    "allow_online_access_with_ephemeral_sessions",
    "consent_policy",
    "authorization_details",
    "subject_type_authorization",
    "authorization_policy",
    "verificationLocation",
];

/// Settings Auth0 defines for APIs that would change their tokens: refused when set.
const UNSUPPORTED_API_SETTINGS: &[&str] = &["token_encryption", "proof_of_possession"];

impl Auth0Body for CreateResourceServer {
    const IGNORED: &'static [&'static str] = IGNORED_API_SETTINGS;
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_API_SETTINGS;
}

impl Auth0Body for UpdateResourceServer {
    const IGNORED: &'static [&'static str] = IGNORED_API_SETTINGS;
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_API_SETTINGS;
}

impl UpdateResourceServer {
    fn changes(self) -> Result<ApiChanges, ApiError> {
        Ok(ApiChanges {
            name: self.name,
            signing_alg: self.signing_alg,
            signing_secret: self.signing_secret,
            scopes: self.scopes.map(scope_definitions),
            token_lifetime: self.token_lifetime,
            token_lifetime_for_web: self.token_lifetime_for_web,
            allow_offline_access: self.allow_offline_access,
            skip_consent_for_verifiable_first_party_clients: self
                .skip_consent_for_verifiable_first_party_clients,
            enforce_policies: self.enforce_policies,
            token_dialect: self.token_dialect,
        })
    }
}

/// The API's Auth0 shape, with its signing secret when it has one.
fn shape(app: &AdminState, api: &ResourceServer) -> Result<ResourceServerShape, ApiError> {
    Ok(ResourceServerShape::from(api).with_secret(apis::signing_secret(&app.cx, api)?))
}

/// Finds an API by id or, as Auth0 allows, by identifier.
pub(super) async fn find(app: &AdminState, id: &str) -> Result<ResourceServer, ApiError> {
    Ok(apis::find(&app.cx, id).await?)
}

/// List APIs.
#[utoipa::path(
    get, path = "/resource-servers", tag = "resource-servers",
    params(
        PageParams, FieldsParams,
        ("identifiers" = Option<Vec<String>>, Query, description = "Only the APIs with these identifiers (repeat the parameter)"),
    ),
    responses(
        (status = 200, description = "A page of APIs: an array, or with `include_totals` an object with `resource_servers`", body = Vec<ResourceServerShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:resource_servers"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadResourceServers>,
    uri: Uri,
    Query(page): Query<PageParams>,
    Query(fields): Query<FieldsParams>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    let identifiers = query_values(uri.query(), "identifiers");
    let (apis, total) = if identifiers.is_empty() {
        app.store()
            .list_resource_servers(paging.store_page())
            .await?
    } else {
        let (all, _) = app
            .store()
            .list_resource_servers(portcullis_store::Page::ALL)
            .await?;
        paging.slice(
            all.into_iter()
                .filter(|api| identifiers.contains(&api.identifier))
                .collect(),
        )
    };
    let shapes = apis
        .iter()
        .map(|api| shape(&app, api))
        .collect::<Result<Vec<_>, _>>()?;
    let items = fields.project_all(shapes);
    Ok(paging.respond("resource_servers", items, total))
}

/// Create an API.
#[utoipa::path(
    post, path = "/resource-servers", tag = "resource-servers",
    request_body = CreateResourceServer,
    responses(
        (status = 201, description = "The API", body = ResourceServerShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The identifier is taken", body = ErrorBody),
    ),
    security(("management_api" = ["create:resource_servers"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateResourceServers>,
    Body(body): Body<CreateResourceServer>,
) -> Result<(StatusCode, Json<ResourceServerShape>), ApiError> {
    let extra = ApiChanges {
        signing_alg: body.signing_alg,
        signing_secret: body.signing_secret,
        token_lifetime_for_web: body.token_lifetime_for_web,
        skip_consent_for_verifiable_first_party_clients: body
            .skip_consent_for_verifiable_first_party_clients,
        ..ApiChanges::default()
    };
    let new = NewApi {
        name: body.name.unwrap_or_else(|| body.identifier.clone()),
        identifier: body.identifier,
        scopes: scope_definitions(body.scopes.unwrap_or_default()),
        token_lifetime: body.token_lifetime,
        allow_offline_access: body.allow_offline_access.unwrap_or(false),
        enforce_policies: body.enforce_policies.unwrap_or(false),
        token_dialect: body.token_dialect,
    };
    let api = apis::create_with(&app.cx, &auth.caller.actor(), new, extra).await?;
    Ok((StatusCode::CREATED, Json(shape(&app, &api)?)))
}

/// Get an API by id or identifier.
#[utoipa::path(
    get, path = "/resource-servers/{id}", tag = "resource-servers",
    params(("id" = String, Path, description = "The API's id or identifier"), FieldsParams),
    responses(
        (status = 200, description = "The API", body = ResourceServerShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:resource_servers"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadResourceServers>,
    Id(id): Id,
    Query(fields): Query<FieldsParams>,
) -> Result<Json<Value>, ApiError> {
    let api = find(&app, &id).await?;
    let value = fields.project_all([shape(&app, &api)?]);
    Ok(Json(value.into_iter().next().unwrap_or(Value::Null)))
}

/// Update an API. The Management API itself cannot be changed.
#[utoipa::path(
    patch, path = "/resource-servers/{id}", tag = "resource-servers",
    params(("id" = String, Path, description = "The API's id or identifier")),
    request_body = UpdateResourceServer,
    responses(
        (status = 200, description = "The updated API", body = ResourceServerShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:resource_servers"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateResourceServers>,
    Id(id): Id,
    Body(body): Body<UpdateResourceServer>,
) -> Result<Json<ResourceServerShape>, ApiError> {
    let changes = body.changes()?;
    let api = find(&app, &id).await?;
    if api.is_system {
        return Err(system_api());
    }
    let api = apis::update(&app.cx, &auth.caller.actor(), &api.id, changes).await?;
    Ok(Json(shape(&app, &api)?))
}

fn system_api() -> ApiError {
    ApiError::forbidden(
        "operation_not_supported",
        "The system resource server (the Management API) cannot be changed or deleted",
    )
}

/// Delete an API and the client grants for it. The Management API itself cannot be deleted.
#[utoipa::path(
    delete, path = "/resource-servers/{id}", tag = "resource-servers",
    params(("id" = String, Path, description = "The API's id or identifier")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:resource_servers"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteResourceServers>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let api = find(&app, &id).await?;
    if api.is_system {
        return Err(system_api());
    }
    apis::delete(&app.cx, &auth.caller.actor(), &api.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
