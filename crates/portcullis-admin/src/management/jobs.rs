//! `/jobs`: bulk user imports (multipart, Auth0's bulk-import JSON) and exports (ndjson or
//! CSV), their status and errors, in Auth0's shapes. A job runs to completion inside the
//! request that starts it (its size is bounded: [`MAX_IMPORT_BYTES`], [`MAX_EXPORT_USERS`]),
//! so it is answered already `completed`; an export's `location` is a signed link valid
//! while the job is kept.

use axum::{
    extract::{Multipart, Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{
    admin::{
        jobs::{self, ExportField, ExportFormat, MAX_EXPORT_USERS},
        user_import::{self, ImportOptions, MAX_IMPORT_BYTES},
    },
    claims::rfc3339,
};
use portcullis_store::Job;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{
    auth::{Authorized, CreateUsers, ReadUsers},
    errors::{ApiError, Auth0Body, Body, ErrorBody, Query},
};
use crate::{shapes::DATABASE_CONNECTION, state::AdminState};

/// The request body limit of an import: the file and the form's other fields.
pub const IMPORT_BODY_BYTES: usize = MAX_IMPORT_BYTES + 16 * 1024;

/// A job in Auth0's shape.
pub fn job_json(job: &Job, location: Option<String>) -> Value {
    let mut value = json!({
        "id": job.id,
        "type": job.kind,
        "status": job.status,
        "created_at": rfc3339(job.created_at),
        "connection_id": job.connection_id,
        "connection": DATABASE_CONNECTION,
    });
    if let Some(object) = value.as_object_mut() {
        for (key, detail) in &job.details {
            object.insert(key.clone(), detail.clone());
        }
        if let Some(location) = location {
            object.insert("location".into(), json!(location));
        }
    }
    value
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request_entity_too_large",
        format!("The users file is larger than {MAX_IMPORT_BYTES} bytes; split it into several imports."),
    )
}

/// The import form's fields.
#[derive(Default)]
struct ImportForm {
    users: Option<Vec<u8>>,
    options: ImportOptions,
}

async fn read_form(mut multipart: Multipart) -> Result<ImportForm, ApiError> {
    let mut form = ImportForm::default();
    let broken = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::invalid_body(format!("Payload validation error: {}", error.body_text()))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "users" => form.users = Some(field.bytes().await.map_err(broken)?.to_vec()),
            "connection_id" | "upsert" | "external_id" | "send_completion_email" => {
                let text = field.text().await.map_err(broken)?;
                let flag = |text: &str| match text {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(ApiError::invalid_body(format!(
                        "Payload validation error: '{name} must be true or false'"
                    ))),
                };
                match name.as_str() {
                    "connection_id" => form.options.connection_id = Some(text),
                    "upsert" => form.options.upsert = flag(&text)?,
                    "send_completion_email" => form.options.send_completion_email = flag(&text)?,
                    _ => form.options.external_id = Some(text),
                }
            }
            other => {
                return Err(ApiError::invalid_body(format!(
                    "Payload validation error: 'Additional properties not allowed: {other}'"
                )))
            }
        }
    }
    Ok(form)
}

/// Import users from a file of Auth0's bulk-import format.
#[utoipa::path(
    post, path = "/jobs/users-imports", tag = "jobs",
    request_body(content_type = "multipart/form-data", description = "`users` (a JSON file, at most 500 KB), `connection_id`, `upsert`, `external_id`, `send_completion_email`"),
    responses(
        (status = 202, description = "The job, completed"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "The file is larger than 500 KB", body = ErrorBody),
    ),
    security(("management_api" = ["create:users"]))
)]
pub async fn import_users(
    State(app): State<AdminState>,
    auth: Authorized<CreateUsers>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let form = read_form(multipart).await?;
    let users = form.users.ok_or_else(|| {
        ApiError::invalid_body("Payload validation error: 'Missing required property: users'")
    })?;
    if users.len() > MAX_IMPORT_BYTES {
        return Err(too_large());
    }
    if form.options.connection_id.is_none() {
        return Err(ApiError::invalid_body(
            "Payload validation error: 'Missing required property: connection_id'",
        ));
    }
    let job =
        user_import::import_users(&app.cx, &auth.caller.actor(), &users, form.options).await?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job, None))).into_response())
}

/// The body of `POST /jobs/users-exports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub connection_id: Option<String>,
    /// `json` (one object per line) or `csv`.
    pub format: Option<String>,
    /// At most this many users (and never more than 10,000).
    pub limit: Option<u32>,
    pub fields: Option<Vec<ExportFieldBody>>,
}

/// A field to export and its name in the file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportFieldBody {
    pub name: String,
    pub export_as: Option<String>,
}

impl Auth0Body for ExportRequest {}

/// Export the users as ndjson or CSV.
#[utoipa::path(
    post, path = "/jobs/users-exports", tag = "jobs",
    request_body = ExportRequest,
    responses(
        (status = 201, description = "The job, completed, with its file's location"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:users"]))
)]
pub async fn export_users(
    State(app): State<AdminState>,
    _auth: Authorized<ReadUsers>,
    Body(body): Body<ExportRequest>,
) -> Result<Response, ApiError> {
    let format = ExportFormat::parse(body.format.as_deref().unwrap_or("json"))?;
    if let Some(id) = body.connection_id.as_deref() {
        let connection = app.cx.store().database_connection().await?;
        if id != connection.id {
            return Err(ApiError::invalid_body(format!(
                "connection {id} does not exist"
            )));
        }
    }
    let fields = body
        .fields
        .unwrap_or_default()
        .into_iter()
        .map(|field| ExportField {
            name: field.name,
            export_as: field.export_as,
        })
        .collect();
    let job = jobs::export_users(
        &app.cx,
        format,
        fields,
        body.limit.map(|l| l.min(MAX_EXPORT_USERS)),
    )
    .await?;
    let location = location(&app, &job);
    Ok((StatusCode::CREATED, Json(job_json(&job, location))).into_response())
}

/// The signed download link of an export.
fn location(app: &AdminState, job: &Job) -> Option<String> {
    job.output.as_ref().map(|_| {
        let signature = jobs::download_signature(&app.cx, &job.id);
        app.settings.endpoint(&format!(
            "api/v2/jobs/{}/file?signature={signature}",
            job.id
        ))
    })
}

fn no_job() -> ApiError {
    ApiError::not_found("inexistent_job", "The job does not exist.")
}

/// A job's status (and an import's summary, an export's location).
#[utoipa::path(
    get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["create:users", "read:users"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadJobs>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs::get(&app.cx, &id).await?.ok_or_else(no_job)?;
    Ok(Json(job_json(&job, location(&app, &job))))
}

/// An import's rows that failed, each with its errors.
#[utoipa::path(
    get, path = "/jobs/{id}/errors", tag = "jobs",
    params(("id" = String, Path, description = "The job id")),
    responses(
        (status = 200, description = "The failed rows"),
        (status = 204, description = "No row failed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["create:users", "read:users"]))
)]
pub async fn errors(
    State(app): State<AdminState>,
    _auth: Authorized<ReadJobs>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = jobs::get(&app.cx, &id).await?.ok_or_else(no_job)?;
    if job.errors.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Json(job.errors).into_response())
}

/// The query of an export's download link.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    pub signature: Option<String>,
}

/// An export's file, through the signed link of its job's `location` (no token needed, so it
/// is mounted outside the documented, token-protected routes).
pub async fn file(
    State(app): State<AdminState>,
    Path(id): Path<String>,
    Query(query): Query<Signed>,
) -> Result<Response, ApiError> {
    let signature = query.signature.unwrap_or_default();
    let job = jobs::download(&app.cx, &id, &signature)
        .await?
        .ok_or_else(no_job)?;
    let content_type = match job.details.get("format").and_then(Value::as_str) {
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/x-ndjson",
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        job.output.unwrap_or_default(),
    )
        .into_response())
}

/// Reading a job: Auth0 accepts either scope.
pub struct ReadJobs;

impl super::auth::Scope for ReadJobs {
    const ANY_OF: &'static [&'static str] = &["create:users", "read:users"];
}
