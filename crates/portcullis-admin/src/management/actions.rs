//! `/actions`: Auth0 Actions in Auth0's shapes — the Actions (drafts), their deployment as
//! versions, the triggers and their ordered bindings, and a test run of the draft.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    admin::actions::{
        self, ActionPatch, ActionRef, ActionView, BindingInput, NewAction, SecretInput,
    },
    claims::rfc3339,
};
use portcullis_store::{ActionBinding, ActionVersion};
use portcullis_types::ActionTrigger;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::{Authorized, CreateActions, DeleteActions, DeployActions, ReadActions, UpdateActions},
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, Query},
};
use crate::state::AdminState;

fn triggers_of(trigger: ActionTrigger) -> Value {
    json!([{"id": trigger.as_str(), "version": trigger.version()}])
}

fn version_shape(version: &ActionVersion, trigger: ActionTrigger, deployed: bool) -> Value {
    json!({
        "id": version.id,
        "action_id": version.action_id,
        "number": version.number,
        "code": version.code,
        "runtime": version.runtime,
        "dependencies": [],
        "secrets": [],
        "deployed": deployed,
        "status": "built",
        "supported_triggers": triggers_of(trigger),
        "created_at": rfc3339(version.created_at),
        "updated_at": rfc3339(version.created_at),
    })
}

/// An Action in Auth0's shape (its secrets' names, never their values).
pub fn action_shape(view: &ActionView) -> Value {
    let action = &view.action;
    let secrets: Vec<Value> = view
        .secrets
        .iter()
        .map(|(name, updated_at)| json!({"name": name, "updated_at": rfc3339(*updated_at)}))
        .collect();
    json!({
        "id": action.id,
        "name": action.name,
        "supported_triggers": triggers_of(action.trigger),
        "code": action.code,
        "runtime": action.runtime,
        "dependencies": [],
        "secrets": secrets,
        "deployed_version": view.deployed.as_ref().map(|v| version_shape(v, action.trigger, true)),
        "all_changes_deployed": view.all_changes_deployed(),
        "status": "built",
        "created_at": rfc3339(action.created_at),
        "updated_at": rfc3339(action.updated_at),
    })
}

/// A trigger named in a body or path.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TriggerRef {
    pub id: String,
    #[serde(default)]
    pub version: Option<String>,
}

fn trigger(id: &str, _field: &'static str) -> Result<ActionTrigger, ApiError> {
    id.parse()
        .map_err(|error: portcullis_types::UnknownValue| ApiError::invalid_body(error.to_string()))
}

/// A secret as given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    pub name: String,
    pub value: Option<String>,
}

fn secrets_of(list: Vec<SecretBody>) -> Vec<SecretInput> {
    list.into_iter()
        .map(|secret| SecretInput {
            name: secret.name,
            value: secret.value,
        })
        .collect()
}

fn no_dependencies(dependencies: &Option<Vec<Value>>) -> Result<(), ApiError> {
    match dependencies {
        Some(list) if !list.is_empty() => Err(ApiError::invalid_body(
            "npm dependencies are not available: Portcullis runs Actions in an embedded engine",
        )),
        _ => Ok(()),
    }
}

/// The body of `POST /actions/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAction {
    pub name: String,
    pub supported_triggers: Vec<TriggerRef>,
    #[serde(default)]
    pub code: String,
    pub runtime: Option<String>,
    #[serde(default)]
    pub secrets: Vec<SecretBody>,
    pub dependencies: Option<Vec<Value>>,
}

impl Auth0Body for CreateAction {}

/// The body of `PATCH /actions/actions/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAction {
    pub name: Option<String>,
    pub code: Option<String>,
    pub runtime: Option<String>,
    pub secrets: Option<Vec<SecretBody>>,
    pub dependencies: Option<Vec<Value>>,
    pub supported_triggers: Option<Vec<TriggerRef>>,
}

impl Auth0Body for UpdateAction {}

/// Create an Action.
#[utoipa::path(
    post, path = "/actions/actions", tag = "actions", request_body = CreateAction,
    responses(
        (status = 201, description = "The Action", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["create:actions"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateActions>,
    Body(body): Body<CreateAction>,
) -> Result<Response, ApiError> {
    no_dependencies(&body.dependencies)?;
    let [only] = body.supported_triggers.as_slice() else {
        return Err(ApiError::invalid_body("name exactly one trigger"));
    };
    let new = NewAction {
        name: body.name,
        trigger: trigger(&only.id, "supported_triggers")?,
        code: body.code,
        runtime: body.runtime,
        secrets: secrets_of(body.secrets),
    };
    let view = actions::create(&app.cx, &auth.caller.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(action_shape(&view))).into_response())
}

/// Filters of the Actions' list.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ActionFilters {
    #[serde(rename = "triggerId")]
    pub trigger_id: Option<String>,
    #[serde(rename = "actionName")]
    pub action_name: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub deployed: Option<bool>,
    pub installed: Option<bool>,
}

/// List the Actions.
#[utoipa::path(
    get, path = "/actions/actions", tag = "actions", params(ActionFilters),
    responses(
        (status = 200, description = "`{actions, total, page, per_page}`", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn list(
    State(app): State<AdminState>,
    _auth: Authorized<ReadActions>,
    Query(filters): Query<ActionFilters>,
) -> Result<Json<Value>, ApiError> {
    let trigger = filters
        .trigger_id
        .as_deref()
        .map(|id| trigger(id, "triggerId"))
        .transpose()?;
    let views: Vec<Value> = actions::list(&app.cx, trigger)
        .await?
        .iter()
        .filter(|view| {
            filters
                .action_name
                .as_ref()
                .is_none_or(|name| &view.action.name == name)
        })
        .filter(|view| {
            filters
                .deployed
                .is_none_or(|d| d == view.deployed.is_some())
        })
        .map(action_shape)
        .collect();
    Ok(Json(json!({
        "total": views.len(),
        "page": filters.page.unwrap_or(0),
        "per_page": filters.per_page.unwrap_or(50),
        "actions": views,
    })))
}

/// Read an Action.
#[utoipa::path(
    get, path = "/actions/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "The Action's id")),
    responses(
        (status = 200, description = "The Action", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadActions>,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(action_shape(&actions::find(&app.cx, &id).await?)))
}

/// Update an Action's draft.
#[utoipa::path(
    patch, path = "/actions/actions/{id}", tag = "actions", request_body = UpdateAction,
    params(("id" = String, Path, description = "The Action's id")),
    responses(
        (status = 200, description = "The Action", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["update:actions"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateActions>,
    Id(id): Id,
    Body(body): Body<UpdateAction>,
) -> Result<Json<Value>, ApiError> {
    no_dependencies(&body.dependencies)?;
    if let Some(triggers) = &body.supported_triggers {
        let current = actions::find(&app.cx, &id).await?.action.trigger;
        if triggers.len() != 1 || trigger(&triggers[0].id, "supported_triggers")? != current {
            return Err(ApiError::invalid_body(
                "an Action's trigger cannot change: create another Action",
            ));
        }
    }
    let patch = ActionPatch {
        name: body.name,
        code: body.code,
        runtime: body.runtime,
        secrets: body.secrets.map(secrets_of),
    };
    let view = actions::update(&app.cx, &auth.caller.actor(), &id, patch).await?;
    Ok(Json(action_shape(&view)))
}

/// `force=true` deletes a bound Action with its bindings.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DeleteParams {
    pub force: Option<bool>,
}

/// Delete an Action with its versions.
#[utoipa::path(
    delete, path = "/actions/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "The Action's id"), DeleteParams),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:actions"]))
)]
pub async fn delete(
    State(app): State<AdminState>,
    auth: Authorized<DeleteActions>,
    Id(id): Id,
    Query(params): Query<DeleteParams>,
) -> Result<Response, ApiError> {
    actions::delete(
        &app.cx,
        &auth.caller.actor(),
        &id,
        params.force.unwrap_or(false),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Deploy the Action's draft as a new version.
#[utoipa::path(
    post, path = "/actions/actions/{id}/deploy", tag = "actions",
    params(("id" = String, Path, description = "The Action's id")),
    responses(
        (status = 200, description = "The new version", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["create:actions", "update:actions"]))
)]
pub async fn deploy(
    State(app): State<AdminState>,
    auth: Authorized<DeployActions>,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let version = actions::deploy(&app.cx, &auth.caller.actor(), &id).await?;
    let trigger = actions::find(&app.cx, &id).await?.action.trigger;
    Ok(Json(version_shape(&version, trigger, true)))
}

/// List the Action's versions, newest first.
#[utoipa::path(
    get, path = "/actions/actions/{id}/versions", tag = "actions",
    params(("id" = String, Path, description = "The Action's id")),
    responses(
        (status = 200, description = "`{versions, total, page, per_page}`", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn versions(
    State(app): State<AdminState>,
    _auth: Authorized<ReadActions>,
    Id(id): Id,
) -> Result<Json<Value>, ApiError> {
    let trigger = actions::find(&app.cx, &id).await?.action.trigger;
    let versions = actions::versions(&app.cx, &id).await?;
    let shapes: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(index, version)| version_shape(version, trigger, index == 0))
        .collect();
    Ok(Json(
        json!({"total": shapes.len(), "page": 0, "per_page": 50, "versions": shapes}),
    ))
}

/// The body of `POST /actions/actions/{id}/test`: `payload` is the event (or `{event}`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    pub payload: Value,
}

impl Auth0Body for TestBody {}

/// Run the Action's draft on a sample event; nothing is written.
#[utoipa::path(
    post, path = "/actions/actions/{id}/test", tag = "actions", request_body = TestBody,
    params(("id" = String, Path, description = "The Action's id")),
    responses(
        (status = 200, description = "`{payload: {commands, logs}}`: the api calls made", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn test(
    State(app): State<AdminState>,
    _auth: Authorized<ReadActions>,
    Id(id): Id,
    Body(body): Body<TestBody>,
) -> Result<Json<Value>, ApiError> {
    let event = match body.payload.get("event") {
        Some(event) => event.clone(),
        None => body.payload,
    };
    let outcome = actions::test(&app.cx, &id, event).await?;
    Ok(Json(json!({
        "payload": {
            "commands": portcullis_core::actions::describe_calls(&outcome.calls),
            "logs": outcome.logs,
        }
    })))
}

/// List the triggers.
#[utoipa::path(
    get, path = "/actions/triggers", tag = "actions",
    responses(
        (status = 200, description = "`{triggers}`", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn triggers(_auth: Authorized<ReadActions>) -> Json<Value> {
    let triggers: Vec<Value> = ActionTrigger::ALL
        .iter()
        .map(|trigger| {
            json!({
                "id": trigger.as_str(),
                "version": trigger.version(),
                "status": "CURRENT",
                "runtimes": ["node18"],
                "default_runtime": "node18",
                "compatible_triggers": [],
            })
        })
        .collect();
    Json(json!({"triggers": triggers}))
}

async fn bindings_shape(app: &AdminState, bindings: &[ActionBinding]) -> Result<Value, ApiError> {
    let mut shapes = Vec::new();
    for binding in bindings {
        let action = actions::find(&app.cx, &binding.action_id).await?;
        shapes.push(json!({
            "id": binding.id,
            "trigger_id": binding.trigger.as_str(),
            "display_name": binding.display_name,
            "action": action_shape(&action),
            "created_at": rfc3339(binding.created_at),
            "updated_at": rfc3339(binding.created_at),
        }));
    }
    Ok(json!({"total": shapes.len(), "page": 0, "per_page": 50, "bindings": shapes}))
}

/// List a trigger's bindings, in the order they run.
#[utoipa::path(
    get, path = "/actions/triggers/{triggerId}/bindings", tag = "actions",
    params(("triggerId" = String, Path, description = "post-login or credentials-exchange")),
    responses(
        (status = 200, description = "`{bindings, total, page, per_page}`", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:actions"]))
)]
pub async fn bindings(
    State(app): State<AdminState>,
    _auth: Authorized<ReadActions>,
    Path(trigger_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let trigger = trigger(&trigger_id, "triggerId")?;
    let bindings = actions::bindings(&app.cx, trigger).await?;
    Ok(Json(bindings_shape(&app, &bindings).await?))
}

/// Which Action a binding names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingRefBody {
    /// `action_id` or `action_name`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingBody {
    #[serde(rename = "ref")]
    pub reference: BindingRefBody,
    pub display_name: Option<String>,
    pub secrets: Option<Vec<Value>>,
}

/// The body of `PATCH /actions/triggers/{triggerId}/bindings`: the whole flow, in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBindings {
    pub bindings: Vec<BindingBody>,
}

impl Auth0Body for UpdateBindings {}

/// Replace a trigger's bindings (the Actions run in this order).
#[utoipa::path(
    patch, path = "/actions/triggers/{triggerId}/bindings", tag = "actions", request_body = UpdateBindings,
    params(("triggerId" = String, Path, description = "post-login or credentials-exchange")),
    responses(
        (status = 200, description = "`{bindings}`", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:actions"]))
)]
pub async fn update_bindings(
    State(app): State<AdminState>,
    auth: Authorized<UpdateActions>,
    Path(trigger_id): Path<String>,
    Body(body): Body<UpdateBindings>,
) -> Result<Json<Value>, ApiError> {
    let trigger = trigger(&trigger_id, "triggerId")?;
    let mut inputs = Vec::new();
    for binding in body.bindings {
        let action = match binding.reference.kind.as_str() {
            "action_id" => ActionRef::Id(binding.reference.value),
            "action_name" => ActionRef::Name(binding.reference.value),
            other => {
                return Err(ApiError::invalid_body(format!(
                    "unknown ref type {other:?}: use action_id or action_name"
                )))
            }
        };
        inputs.push(BindingInput {
            action,
            display_name: binding.display_name,
        });
    }
    let bindings = actions::set_bindings(&app.cx, &auth.caller.actor(), trigger, inputs).await?;
    Ok(Json(bindings_shape(&app, &bindings).await?))
}
