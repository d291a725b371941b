//! Jobs (Auth0's `/api/v2/jobs`): user imports ([`super::user_import`]) and exports run to
//! completion inside the request that starts them, bounded by their size, and are kept for
//! [`JOB_LIFETIME_SECONDS`] so that their status, errors and file can be read afterwards.

use portcullis_store::{Job, Page};
use serde_json::{json, Map, Value};

use super::{AdminError, Context};
use crate::secrets::{b64url, constant_time_eq};

/// Auth0's job types.
pub const USERS_IMPORT: &str = "users_import";
pub const USERS_EXPORT: &str = "users_export";

/// How long a job, and an export's download link, stays readable: a day.
pub const JOB_LIFETIME_SECONDS: i64 = 24 * 3600;

/// The most users an export holds.
pub const MAX_EXPORT_USERS: u32 = 10_000;

/// Stores a finished job.
pub(crate) async fn store(
    cx: &Context,
    id: String,
    kind: &str,
    connection_id: &str,
    details: Map<String, Value>,
    errors: Vec<Value>,
    output: Option<String>,
) -> Result<Job, AdminError> {
    let now = cx.now();
    let job = Job {
        id,
        kind: kind.to_owned(),
        status: "completed".to_owned(),
        connection_id: connection_id.to_owned(),
        created_at: now,
        details,
        errors,
        output,
        expires_at: now + JOB_LIFETIME_SECONDS,
    };
    cx.store().insert_job(&job).await?;
    Ok(job)
}

/// The job `id`, while it is kept.
pub async fn get(cx: &Context, id: &str) -> Result<Option<Job>, AdminError> {
    Ok(cx.store().job_by_id(id, cx.now()).await?)
}

/// The signature of an export's download link: whoever holds the link may download the file
/// until the job expires, as with Auth0's pre-signed links.
pub fn download_signature(cx: &Context, job_id: &str) -> String {
    b64url(&cx.secrets.hash(&format!("users-export-download:{job_id}")))
}

/// The export file of job `id` if `signature` is its link's; `None` otherwise.
pub async fn download(cx: &Context, id: &str, signature: &str) -> Result<Option<Job>, AdminError> {
    if !constant_time_eq(download_signature(cx, id).as_bytes(), signature.as_bytes()) {
        return Ok(None);
    }
    Ok(cx
        .store()
        .job_by_id(id, cx.now())
        .await?
        .filter(|job| job.output.is_some()))
}

/// An export's format (Auth0's `format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line.
    Json,
    Csv,
}

impl ExportFormat {
    pub fn parse(value: &str) -> Result<Self, AdminError> {
        match value {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(AdminError::invalid("format", "format must be json or csv")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

/// A field of an export: the user's property (dotted into the metadata objects, as
/// `user_metadata.plan`) and its name in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportField {
    pub name: String,
    pub export_as: Option<String>,
}

/// The fields exported when none are asked for.
const DEFAULT_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "blocked",
    "created_at",
    "updated_at",
    "last_login",
    "logins_count",
    "user_metadata",
    "app_metadata",
];

/// Exports the users of the database connection (never their password hashes) and stores
/// the file with its job.
pub async fn export_users(
    cx: &Context,
    format: ExportFormat,
    fields: Vec<ExportField>,
    limit: Option<u32>,
) -> Result<Job, AdminError> {
    let connection = cx.store().database_connection().await?;
    let fields = if fields.is_empty() {
        DEFAULT_FIELDS
            .iter()
            .map(|name| ExportField {
                name: (*name).to_owned(),
                export_as: None,
            })
            .collect()
    } else {
        fields
    };
    if let Some(field) = fields.iter().find(|f| f.name.trim().is_empty()) {
        return Err(AdminError::invalid(
            "fields",
            format!("a field needs a name: {field:?}"),
        ));
    }
    let limit = limit.unwrap_or(MAX_EXPORT_USERS).min(MAX_EXPORT_USERS);
    let (users, _) = cx
        .store()
        .list_users(
            None,
            Page {
                page: 0,
                per_page: limit,
            },
        )
        .await?;
    let columns: Vec<String> = fields
        .iter()
        .map(|f| f.export_as.clone().unwrap_or_else(|| f.name.clone()))
        .collect();
    let rows: Vec<Vec<Value>> = users
        .iter()
        .map(|user| {
            let document = user_document(user);
            fields
                .iter()
                .map(|field| lookup(&document, &field.name))
                .collect()
        })
        .collect();
    let output = match format {
        ExportFormat::Json => ndjson(&columns, &rows),
        ExportFormat::Csv => csv_file(&columns, &rows)?,
    };
    let mut details = Map::new();
    details.insert("format".into(), json!(format.as_str()));
    details.insert("limit".into(), json!(limit));
    details.insert(
        "fields".into(),
        Value::Array(
            fields
                .iter()
                .map(|f| match &f.export_as {
                    Some(as_) => json!({"name": f.name, "export_as": as_}),
                    None => json!({"name": f.name}),
                })
                .collect(),
        ),
    );
    let id = format!("job_{}", crate::secrets::random_hex(8));
    store(
        cx,
        id,
        USERS_EXPORT,
        &connection.id,
        details,
        Vec::new(),
        Some(output),
    )
    .await
}

/// The user as the export reads its fields (the Management API's names).
fn user_document(user: &portcullis_store::User) -> Value {
    let mut document = serde_json::to_value(user).unwrap_or_default();
    if let Some(object) = document.as_object_mut() {
        object.remove("password_hash");
    }
    document
}

/// The value at a dotted path, `null` when absent.
fn lookup(document: &Value, path: &str) -> Value {
    path.split('.')
        .try_fold(document, |value, key| value.get(key))
        .cloned()
        .unwrap_or(Value::Null)
}

fn ndjson(columns: &[String], rows: &[Vec<Value>]) -> String {
    let mut out = String::new();
    for row in rows {
        let object: Map<String, Value> = columns
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .filter(|(_, value)| !value.is_null())
            .collect();
        out.push_str(&Value::Object(object).to_string());
        out.push('\n');
    }
    out
}

fn csv_file(columns: &[String], rows: &[Vec<Value>]) -> Result<String, AdminError> {
    let failed = |error: csv::Error| AdminError::invalid("format", error.to_string());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns).map_err(failed)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|value| match value {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            }))
            .map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|error| AdminError::invalid("format", error.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
