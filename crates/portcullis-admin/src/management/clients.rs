//! `/clients`: applications.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::admin::applications::{self, ClientChanges, NewClient};
use portcullis_store::{AppType, Page, RefreshTokenPolicy};
use portcullis_types::{ClientAuthMethod, GrantType, RotationType};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{
        Authorized, CreateClients, DeleteClients, ReadClients, Scope as _, UpdateClientKeys,
        UpdateClients,
    },
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, Query},
    pagination::{FieldsParams, PageParams},
};
use crate::{shapes::ClientShape, state::AdminState};

/// ID token settings.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtConfigurationInput {
    /// Lifetime of ID tokens in seconds (60 to 2592000).
    pub lifetime_in_seconds: Option<i64>,
    /// Only `RS256`.
    pub alg: Option<String>,
}

/// Refresh token settings; omitted fields keep their value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenInput {
    /// `rotating` (default) or `non-rotating`: a non-rotating token is not exchanged for a
    /// new one and stays valid until its absolute or idle expiry.
    #[schema(value_type = Option<String>)]
    pub rotation_type: Option<RotationType>,
    /// Only `expiring`.
    pub expiration_type: Option<String>,
    /// Seconds (0 to 60, default 0) during which a rotated token may be used again without
    /// revoking its family.
    pub leeway: Option<i64>,
    pub token_lifetime: Option<i64>,
    pub idle_token_lifetime: Option<i64>,
    /// Only `false`.
    pub infinite_token_lifetime: Option<bool>,
    /// Only `false`.
    pub infinite_idle_token_lifetime: Option<bool>,
}

impl RefreshTokenInput {
    fn apply(self, mut policy: RefreshTokenPolicy) -> Result<RefreshTokenPolicy, ApiError> {
        if self
            .expiration_type
            .as_deref()
            .is_some_and(|t| t != "expiring")
        {
            return Err(ApiError::invalid_body(
                "refresh_token.expiration_type must be expiring",
            ));
        }
        if self.infinite_token_lifetime == Some(true)
            || self.infinite_idle_token_lifetime == Some(true)
        {
            return Err(ApiError::invalid_body(
                "refresh tokens with an infinite lifetime are not supported",
            ));
        }
        if let Some(rotation) = self.rotation_type {
            policy.rotation_type = rotation;
        }
        if let Some(leeway) = self.leeway {
            policy.leeway = leeway;
        }
        if let Some(lifetime) = self.token_lifetime {
            policy.token_lifetime = lifetime;
        }
        if let Some(idle) = self.idle_token_lifetime {
            policy.idle_token_lifetime = idle;
        }
        Ok(policy)
    }
}

fn parse_app_type(app_type: Option<&str>) -> Result<Option<AppType>, ApiError> {
    app_type
        .map(|t| {
            AppType::parse(t).ok_or_else(|| {
                ApiError::invalid_body(
                    "app_type must be one of spa, regular_web, non_interactive, native",
                )
            })
        })
        .transpose()
}

fn id_token_lifetime(jwt: Option<JwtConfigurationInput>) -> Result<Option<i64>, ApiError> {
    let Some(jwt) = jwt else { return Ok(None) };
    if jwt.alg.as_deref().is_some_and(|alg| alg != "RS256") {
        return Err(ApiError::invalid_body(
            "jwt_configuration.alg must be RS256",
        ));
    }
    Ok(jwt.lifetime_in_seconds)
}

/// The body of `POST /clients`. Auth0's descriptive and unsupported-but-harmless settings
/// (`description`, `logo_uri`, `sso`, `cross_origin_auth`, ...) are
/// accepted and ignored; those that would change how tokens are issued or checked
/// (`encryption_key`, `addons`, `require_pushed_authorization_requests`, ...) are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    pub name: String,
    /// `spa`, `regular_web` (default), `non_interactive` or `native`.
    pub app_type: Option<String>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    /// Default: by app type.
    #[schema(value_type = Option<Vec<String>>)]
    pub grant_types: Option<Vec<GrantType>>,
    /// `none` (default for spa and native), `client_secret_post`, `client_secret_basic`.
    #[schema(value_type = Option<String>)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    pub jwt_configuration: Option<JwtConfigurationInput>,
    pub refresh_token: Option<RefreshTokenInput>,
    /// Default true.
    pub is_first_party: Option<bool>,
    /// Always true; false is refused.
    pub oidc_conformant: Option<bool>,
    /// At most 10 properties, names and values strings of at most 255 characters; Actions
    /// read it as `event.client.metadata`.
    #[schema(value_type = Option<Object>)]
    pub client_metadata: Option<Map<String, Value>>,
}

/// The body of `PATCH /clients/{id}`: only the given fields change; Auth0's other settings are
/// treated as in `POST /clients`, and `client_secret` is refused (rotate the secret instead).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    pub app_type: Option<String>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub grant_types: Option<Vec<GrantType>>,
    #[schema(value_type = Option<String>)]
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    pub jwt_configuration: Option<JwtConfigurationInput>,
    pub refresh_token: Option<RefreshTokenInput>,
    pub is_first_party: Option<bool>,
    pub oidc_conformant: Option<bool>,
    /// Merged into the stored object: a property set to `null` is removed.
    #[schema(value_type = Option<Object>)]
    pub client_metadata: Option<Map<String, Value>>,
}

/// Settings Auth0 defines for applications that Portcullis accepts and ignores.
const IGNORED_CLIENT_SETTINGS: &[&str] = &[
    "description",
    "logo_uri",
    "client_aliases",
    "allowed_clients",
    "sso",
    "sso_disabled",
    "cross_origin_authentication",
    "cross_origin_auth",
    "cross_origin_loc",
    "custom_login_page_on",
    "custom_login_page",
    "custom_login_page_preview",
    "form_template",
    "mobile",
    "initiate_login_uri",
    "native_social_login",
    "fedcm_login",
    "default_organization",
    "organization_usage",
    "organization_require_behavior",
    "organization_discovery_methods",
    "compliance_level",
    "skip_non_verifiable_callback_uri_confirmation_prompt",
    "token_quota",
    "is_token_endpoint_ip_header_trusted",
    "session_transfer",
    "oidc_logout",
    "oidc_backchannel_logout",
    "express_configuration",
    "my_organization_configuration",
    "async_approval_notification_channels",
    "third_party_security_mode",
    "redirection_policy",
    "resource_server_identifier",
    "token_vault_privileged_access",
    "par_request_expiry",
    "jwt_configuration.secret_encoded",
    "jwt_configuration.scopes",
    "refresh_token.policies",
];

/// Settings Auth0 defines for applications that would change how their tokens are issued or
/// checked: refused when set. The first, `client_secret`, only exists in an update (a secret
/// is rotated, never chosen).
const UNSUPPORTED_CLIENT_SETTINGS: &[&str] = &[
    "client_secret",
    "encryption_key",
    "addons",
    "require_pushed_authorization_requests",
    "require_proof_of_possession",
    "signed_request_object",
    "client_authentication_methods",
    "token_exchange",
    "identity_assertion_authorization_grant",
];

impl Auth0Body for CreateClient {
    const IGNORED: &'static [&'static str] = IGNORED_CLIENT_SETTINGS;
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_CLIENT_SETTINGS.split_at(1).1;
}

impl Auth0Body for UpdateClient {
    const IGNORED: &'static [&'static str] = IGNORED_CLIENT_SETTINGS;
    const UNSUPPORTED: &'static [&'static str] = UNSUPPORTED_CLIENT_SETTINGS;
}

fn refuse_legacy(oidc_conformant: Option<bool>) -> Result<(), ApiError> {
    if oidc_conformant == Some(false) {
        return Err(ApiError::invalid_body(
            "oidc_conformant must be true: legacy flows are not supported",
        ));
    }
    Ok(())
}

/// Filters of `GET /clients`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilters {
    /// Only these app types (comma-separated).
    pub app_type: Option<String>,
    pub is_first_party: Option<bool>,
}

/// List applications.
#[utoipa::path(
    get, path = "/clients", tag = "clients",
    params(PageParams, FieldsParams, ClientFilters),
    responses(
        (status = 200, description = "A page of applications: an array, or with `include_totals` an object with `clients`", body = Vec<ClientShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:clients"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadClients>,
    Query(page): Query<PageParams>,
    Query(fields): Query<FieldsParams>,
    Query(filters): Query<ClientFilters>,
) -> Result<Response, ApiError> {
    let paging = page.paging()?;
    let app_types: Vec<&str> = filters
        .app_type
        .as_deref()
        .map(|t| t.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let (clients, total) = if app_types.is_empty() && filters.is_first_party.is_none() {
        app.store().list_clients(paging.store_page()).await?
    } else {
        let (all, _) = app.store().list_clients(Page::ALL).await?;
        paging.slice(
            all.into_iter()
                .filter(|c| app_types.is_empty() || app_types.contains(&c.app_type.as_str()))
                .filter(|c| filters.is_first_party.is_none_or(|f| c.is_first_party == f))
                .collect(),
        )
    };
    let items = fields.project_all(clients.iter().map(|c| ClientShape::new(c, None)));
    Ok(paging.respond("clients", items, total))
}

/// Create an application. A confidential client's secret is in this answer only.
#[utoipa::path(
    post, path = "/clients", tag = "clients",
    request_body = CreateClient,
    responses(
        (status = 201, description = "The application, with `client_secret` when confidential", body = ClientShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["create:clients"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateClients>,
    Body(body): Body<CreateClient>,
) -> Result<(StatusCode, Json<ClientShape>), ApiError> {
    refuse_legacy(body.oidc_conformant)?;
    let refresh_token = body
        .refresh_token
        .map(|r| r.apply(RefreshTokenPolicy::default()))
        .transpose()?;
    let new = NewClient {
        name: body.name,
        app_type: parse_app_type(body.app_type.as_deref())?,
        callbacks: body.callbacks.unwrap_or_default(),
        allowed_logout_urls: body.allowed_logout_urls.unwrap_or_default(),
        web_origins: body.web_origins.unwrap_or_default(),
        allowed_origins: body.allowed_origins.unwrap_or_default(),
        grant_types: body.grant_types,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
        refresh_token,
        id_token_lifetime: id_token_lifetime(body.jwt_configuration)?,
        is_first_party: body.is_first_party,
        client_metadata: body.client_metadata.unwrap_or_default(),
    };
    let (client, secret) = applications::create(&app.cx, &auth.caller.actor(), new).await?;
    Ok((
        StatusCode::CREATED,
        Json(ClientShape::new(
            &client,
            secret.as_ref().map(|s| s.expose_str()),
        )),
    ))
}

/// Get an application.
#[utoipa::path(
    get, path = "/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id"), FieldsParams),
    responses(
        (status = 200, description = "The application (never its secret)", body = ClientShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:clients"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadClients>,
    Id(id): Id,
    Query(fields): Query<FieldsParams>,
) -> Result<Json<Value>, ApiError> {
    let client = applications::find(&app.cx, &id).await?;
    let value = fields.project_all([ClientShape::new(&client, None)]);
    Ok(Json(value.into_iter().next().unwrap_or(Value::Null)))
}

/// Update an application. Making a public client confidential returns its new secret and
/// needs `update:client_keys` as well.
#[utoipa::path(
    patch, path = "/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    request_body = UpdateClient,
    responses(
        (status = 200, description = "The updated application", body = ClientShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:clients"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateClients>,
    Id(id): Id,
    Body(body): Body<UpdateClient>,
) -> Result<Json<ClientShape>, ApiError> {
    refuse_legacy(body.oidc_conformant)?;
    let current = applications::find(&app.cx, &id).await?;
    let changes = ClientChanges {
        name: body.name,
        app_type: parse_app_type(body.app_type.as_deref())?,
        callbacks: body.callbacks,
        allowed_logout_urls: body.allowed_logout_urls,
        web_origins: body.web_origins,
        allowed_origins: body.allowed_origins,
        grant_types: body.grant_types,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
        id_token_lifetime: id_token_lifetime(body.jwt_configuration)?,
        refresh_token: body
            .refresh_token
            .map(|r| r.apply(current.refresh_token.clone()))
            .transpose()?,
        is_first_party: body.is_first_party,
        client_metadata: body.client_metadata,
    };
    // Minting a secret is a key operation (Auth0's `update:client_keys`), whichever route
    // leads to it: `update:clients` alone cannot make a public client confidential.
    if changes.issues_secret(&current) {
        auth.caller.require(UpdateClientKeys::ANY_OF)?;
    }
    let (client, secret) =
        applications::update(&app.cx, &auth.caller.actor(), &id, changes).await?;
    Ok(Json(ClientShape::new(
        &client,
        secret.as_ref().map(|s| s.expose_str()),
    )))
}

/// Delete an application and its client grants.
#[utoipa::path(
    delete, path = "/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:clients"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteClients>,
    Id(id): Id,
) -> Result<Response, ApiError> {
    applications::delete(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Give a confidential application a new secret; the old one stops working at once.
#[utoipa::path(
    post, path = "/clients/{id}/rotate-secret", tag = "clients",
    params(("id" = String, Path, description = "The client id")),
    responses(
        (status = 200, description = "The application with its new `client_secret`", body = ClientShape),
        (status = 400, description = "A public client has no secret", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:client_keys"]))
)]
pub async fn rotate_secret(
    State(app): State<AdminState>,
    auth: Authorized<UpdateClientKeys>,
    Id(id): Id,
) -> Result<Json<ClientShape>, ApiError> {
    let (client, secret) = applications::rotate_secret(&app.cx, &auth.caller.actor(), &id).await?;
    Ok(Json(ClientShape::new(&client, Some(secret.expose_str()))))
}
