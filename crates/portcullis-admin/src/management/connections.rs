//! `/connections`: the one database connection, `Username-Password-Authentication`, in
//! Auth0's shape (strategy `auth0`): whether users may sign up and which passwords they may
//! choose.
//!
//! One deviation from Auth0: `options` of a `PATCH` changes the options it names and keeps
//! the others, where Auth0 replaces the whole object. A script written for Auth0 sends every
//! option and gets the same result; a partial one no longer resets the password policy.

use axum::{extract::State, http::Uri, response::Response, Json};
use portcullis_core::admin::connection::{self, ConnectionChanges};
use portcullis_store::{DatabaseConnection, Page, PasswordDictionary, PasswordHistory};
use portcullis_types::PasswordStrength;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Authorized, ReadConnections, UpdateConnections},
    errors::{parse, present, query_values, ApiError, Auth0Body, ErrorBody, Id, JsonBody, Query},
    pagination::{CheckpointParams, FieldsParams, PageParams},
};
use crate::{shapes::ConnectionShape, state::AdminState};

/// `password_complexity_options`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplexityInput {
    /// 1 to 128 characters; absent or null: the level's own minimum.
    pub min_length: Option<u32>,
}

/// `password_dictionary`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DictionaryInput {
    pub enable: bool,
    /// Up to 200 words of at most 50 characters; absent: the words stay.
    pub dictionary: Option<Vec<String>>,
}

/// `password_no_personal_info`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableInput {
    pub enable: bool,
}

/// `password_history`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryInput {
    pub enable: bool,
    /// 1 to 24; absent: the size stays.
    pub size: Option<u32>,
}

/// The options of `PATCH /connections/{id}`: each one given replaces that setting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionOptionsInput {
    pub disable_signup: Option<bool>,
    /// `none`, `low`, `fair`, `good` or `excellent` (`null`: `none`).
    #[serde(rename = "passwordPolicy", default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub password_policy: Option<Option<PasswordStrength>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ComplexityInput>)]
    pub password_complexity_options: Option<Option<ComplexityInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DictionaryInput>)]
    pub password_dictionary: Option<Option<DictionaryInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<EnableInput>)]
    pub password_no_personal_info: Option<Option<EnableInput>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<HistoryInput>)]
    pub password_history: Option<Option<HistoryInput>>,
    /// Only `true`: failed logins are always throttled.
    pub brute_force_protection: Option<bool>,
}

/// The body of `PATCH /connections/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    pub options: Option<ConnectionOptionsInput>,
    /// Accepted only as every application's client id: they all use the connection.
    pub enabled_clients: Option<Vec<String>>,
}

impl Auth0Body for UpdateConnection {
    const IGNORED: &'static [&'static str] = &[
        "display_name",
        "is_domain_connection",
        "show_as_button",
        "realms",
        "metadata",
        "authentication",
        "connected_accounts",
        "options.strategy_version",
        "options.validation",
        "options.non_persistent_attrs",
        "options.precedence",
        "options.attributes",
        "options.authentication_methods",
        "options.passkey_options",
        "options.mfa",
        "options.realm_fallback",
        "options.configuration",
        "options.customScripts",
        "options.enable_script_context",
        "options.set_user_root_attributes",
        "options.upstream_params",
    ];
    const UNSUPPORTED: &'static [&'static str] = &[
        "cross_app_access_requesting_app",
        "cross_app_access_resource_app",
        "options.requires_username",
        "options.import_mode",
        "options.enabledDatabaseCustomization",
        "options.disable_self_service_change_password",
        "options.password_options",
    ];
}

impl ConnectionOptionsInput {
    fn changes(self, current: &DatabaseConnection) -> Result<ConnectionChanges, ApiError> {
        if self.brute_force_protection == Some(false) {
            return Err(ApiError::invalid_body(
                "Payload validation error: 'brute_force_protection cannot be turned off: failed logins are always throttled' on property options",
            ));
        }
        Ok(ConnectionChanges {
            disable_signup: self.disable_signup,
            password_policy: self
                .password_policy
                .map(|level| level.unwrap_or(PasswordStrength::None)),
            min_length: self
                .password_complexity_options
                .map(|options| options.and_then(|o| o.min_length)),
            dictionary: self.password_dictionary.map(|dictionary| match dictionary {
                Some(given) => PasswordDictionary {
                    enable: given.enable,
                    entries: given
                        .dictionary
                        .unwrap_or_else(|| current.dictionary.entries.clone()),
                },
                None => PasswordDictionary {
                    enable: false,
                    entries: current.dictionary.entries.clone(),
                },
            }),
            no_personal_info: self
                .password_no_personal_info
                .map(|option| option.is_some_and(|o| o.enable)),
            history: self.password_history.map(|history| PasswordHistory {
                enable: history.as_ref().is_some_and(|h| h.enable),
                size: history.and_then(|h| h.size).unwrap_or(current.history.size),
            }),
        })
    }
}

/// Filters of `GET /connections`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionFilters {
    /// Only the connection with this name.
    pub name: Option<String>,
}

/// The client id of every application.
async fn client_ids(app: &AdminState) -> Result<Vec<String>, ApiError> {
    let (clients, _) = app.store().list_clients(Page::ALL).await?;
    Ok(clients.into_iter().map(|c| c.client_id).collect())
}

/// The connection with this id: a 404 `inexistent_connection` for any other.
async fn by_id(app: &AdminState, id: &str) -> Result<DatabaseConnection, ApiError> {
    let connection = connection::find(&app.cx).await?;
    if connection.id == id {
        Ok(connection)
    } else {
        Err(ApiError::not_found(
            "inexistent_connection",
            "The connection does not exist",
        ))
    }
}

/// List connections: the database connection, unless the filters leave it out.
#[utoipa::path(
    get, path = "/connections", tag = "connections",
    params(
        PageParams, CheckpointParams, FieldsParams, ConnectionFilters,
        ("strategy" = Option<Vec<String>>, Query, description = "Only connections of these strategies (repeat the parameter): the database connection's is `auth0`"),
    ),
    responses(
        (status = 200, description = "Connections: an array; with `include_totals` an object with `connections` and totals; with `from`/`take` an object with `connections` and `next`", body = Vec<ConnectionShape>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:connections"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadConnections>,
    uri: Uri,
    Query(page): Query<PageParams>,
    Query(checkpoint): Query<CheckpointParams>,
    Query(fields): Query<FieldsParams>,
    Query(filters): Query<ConnectionFilters>,
) -> Result<Response, ApiError> {
    let connection = connection::find(&app.cx).await?;
    let strategies = query_values(uri.query(), "strategy");
    let matches = (strategies.is_empty() || strategies.iter().any(|s| s == "auth0"))
        && filters
            .name
            .as_ref()
            .is_none_or(|name| *name == connection.name);
    let mut found: Vec<Value> = if matches {
        vec![
            serde_json::to_value(ConnectionShape::new(&connection, client_ids(&app).await?))
                .unwrap_or(Value::Null),
        ]
    } else {
        Vec::new()
    };
    for other in super::upstream_connections::shapes(&app).await? {
        let strategy = other["strategy"].as_str().unwrap_or_default();
        let wanted = (strategies.is_empty() || strategies.iter().any(|s| s == strategy))
            && filters
                .name
                .as_ref()
                .is_none_or(|name| other["name"] == name.as_str());
        if wanted {
            found.push(other);
        }
    }
    if checkpoint.requested() {
        let checkpoint = checkpoint.checkpoint()?;
        let (items, total) = checkpoint.slice(found);
        return Ok(checkpoint.respond("connections", fields.project_all(items), total));
    }
    let paging = page.paging()?;
    let (items, total) = paging.slice(found);
    Ok(paging.respond("connections", fields.project_all(items), total))
}

/// Get the database connection.
#[utoipa::path(
    get, path = "/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "The connection's id (`con_...`)"), FieldsParams),
    responses(
        (status = 200, description = "The connection", body = ConnectionShape),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:connections"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadConnections>,
    Id(id): Id,
    Query(fields): Query<FieldsParams>,
) -> Result<Json<Value>, ApiError> {
    let value =
        match by_id(&app, &id).await {
            Ok(connection) => {
                fields.project_all([ConnectionShape::new(&connection, client_ids(&app).await?)])
            }
            Err(missing) => match portcullis_core::admin::upstream::find(&app.cx, &id).await {
                Ok(other) => fields.project_all([
                    super::upstream_connections::UpstreamConnectionShape::from(&other),
                ]),
                Err(_) => return Err(missing),
            },
        };
    Ok(Json(value.into_iter().next().unwrap_or(Value::Null)))
}

/// `PATCH /connections/{id}`'s body: the database connection's or another provider's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Only documents the two shapes; each is read by its own type.
pub enum ConnectionPatch {
    Database(UpdateConnection),
    Upstream(super::upstream_connections::UpdateUpstreamConnection),
}

/// Change a connection: the database connection's sign-ups and password policy, or another
/// provider's display name, options (replaced whole, as in Auth0) and applications.
#[utoipa::path(
    patch, path = "/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = ConnectionPatch,
    responses(
        (status = 200, description = "The updated connection: the database connection's shape, or a connection to another provider's", body = ConnectionShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["update:connections"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateConnections>,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let Ok(current) = by_id(&app, &id).await else {
        // Any other id is a connection to another provider's, or Auth0's 404 from there.
        let actor = auth.caller.actor();
        let shape = super::upstream_connections::update(&app, &actor, &id, body).await?;
        return Ok(Json(serde_json::to_value(shape).unwrap_or(Value::Null)));
    };
    let body: UpdateConnection = parse(body)?;
    let clients = client_ids(&app).await?;
    if let Some(mut enabled) = body.enabled_clients {
        let mut every = clients.clone();
        enabled.sort();
        enabled.dedup();
        every.sort();
        if enabled != every {
            return Err(ApiError::invalid_body(
                "Payload validation error: 'enabled_clients cannot be changed: every application uses the database connection'",
            ));
        }
    }
    let changes = match body.options {
        Some(options) => options.changes(&current)?,
        None => ConnectionChanges::default(),
    };
    let updated = connection::update(&app.cx, &auth.caller.actor(), changes).await?;
    Ok(Json(
        serde_json::to_value(ConnectionShape::new(&updated, clients)).unwrap_or(Value::Null),
    ))
}
