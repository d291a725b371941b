//! Bulk user import in Auth0's format (`POST /api/v2/jobs/users-imports`, `portcullis users
//! import`): a JSON array of users, each checked on its own. A row with errors is reported
//! with them and changes nothing; a valid row is one INSERT or one UPDATE, so no user is ever
//! half-written. Password hashes are kept with their algorithm ([`crate::password::legacy`])
//! until the user's first sign-in replaces them with argon2id.

use portcullis_store::{Job, User};
use serde_json::{json, Map, Value};

use super::{
    custom_password_hash, jobs, Action, Actor, AdminError, Change, Context, Kind, MetadataChange,
};
use crate::{
    email::{self, JobVariables, Variables},
    password::legacy,
    profile::{self, NamePart},
    secrets::random_hex,
};
use portcullis_types::EmailKind;

/// The largest file an import accepts (Auth0's limit): larger ones are refused whole.
pub const MAX_IMPORT_BYTES: usize = 500 * 1024;

/// The properties a row may have (Auth0's bulk-import schema, less what this server has no
/// place for).
const PROPERTIES: &[&str] = &[
    "email",
    "email_verified",
    "user_id",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "blocked",
    "user_metadata",
    "app_metadata",
    "password_hash",
    "custom_password_hash",
];

/// How an import runs (the multipart form's other fields).
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The database connection's id; `None` (the CLI) means the one connection.
    pub connection_id: Option<String>,
    /// Existing users (by email or id) are updated instead of reported.
    pub upsert: bool,
    /// A value of the caller's, returned with the job.
    pub external_id: Option<String>,
    /// When the job is done, every dashboard administrator gets an email with its counts (as
    /// Auth0 emails the tenant's owners).
    pub send_completion_email: bool,
}

/// One problem of a row, in Auth0's shape.
struct RowError {
    code: &'static str,
    message: String,
    path: &'static str,
}

impl RowError {
    fn new(code: &'static str, path: &'static str, message: impl Into<String>) -> Self {
        RowError {
            code,
            message: message.into(),
            path,
        }
    }

    fn format(path: &'static str, message: impl Into<String>) -> Self {
        RowError::new("INVALID_FORMAT", path, message)
    }
}

/// What became of a row.
enum Outcome {
    Inserted,
    Updated,
}

/// Runs an import of `file` and stores its job.
pub async fn import_users(
    cx: &Context,
    actor: &Actor,
    file: &[u8],
    options: ImportOptions,
) -> Result<Job, AdminError> {
    if file.len() > MAX_IMPORT_BYTES {
        return Err(AdminError::invalid(
            "users",
            format!(
                "the file is larger than {MAX_IMPORT_BYTES} bytes; split it into several imports"
            ),
        ));
    }
    let connection = cx.store().database_connection().await?;
    if let Some(id) = options.connection_id.as_deref() {
        if id != connection.id {
            return Err(AdminError::invalid(
                "connection_id",
                format!("connection {id} does not exist"),
            ));
        }
    }
    let rows: Vec<Value> = serde_json::from_slice(file).map_err(|error| {
        AdminError::invalid(
            "users",
            format!("the file must be a JSON array of users: {error}"),
        )
    })?;
    let job_id = format!("job_{}", random_hex(8));
    let (mut inserted, mut updated) = (0u64, 0u64);
    let mut failed = Vec::new();
    for row in &rows {
        match import_row(cx, actor, &job_id, row, options.upsert).await {
            Ok(Outcome::Inserted) => inserted += 1,
            Ok(Outcome::Updated) => updated += 1,
            Err(errors) => failed.push(json!({
                "user": echoed(row),
                "errors": errors
                    .into_iter()
                    .map(|e| json!({"code": e.code, "message": e.message, "path": e.path}))
                    .collect::<Vec<_>>(),
            })),
        }
    }
    let mut details = Map::new();
    details.insert(
        "summary".into(),
        json!({
            "failed": failed.len(),
            "updated": updated,
            "inserted": inserted,
            "total": rows.len(),
        }),
    );
    details.insert("upsert".into(), json!(options.upsert));
    details.insert(
        "send_completion_email".into(),
        json!(options.send_completion_email),
    );
    if let Some(external_id) = options.external_id {
        details.insert("external_id".into(), json!(external_id));
    }
    let summary = JobVariables {
        id: job_id.clone(),
        connection: connection.name.clone(),
        connection_id: connection.id.clone(),
        inserted,
        updated,
        failed: failed.len() as u64,
        total: rows.len() as u64,
    };
    let job = jobs::store(
        cx,
        job_id,
        jobs::USERS_IMPORT,
        &connection.id,
        details,
        failed,
        None,
    )
    .await?;
    if options.send_completion_email {
        email_administrators(cx, summary).await;
    }
    Ok(job)
}

/// Puts the job's completion message for each dashboard administrator in the outbox. The job
/// is done whatever becomes of its messages: a failure to write one is logged.
async fn email_administrators(cx: &Context, job: JobVariables) {
    let administrators = match cx.store().list_admins().await {
        Ok(administrators) => administrators,
        Err(error) => {
            tracing::error!(%error, job = %job.id, "users import: the administrators could not be read for the completion email");
            return;
        }
    };
    for administrator in administrators {
        let variables = Variables::for_job(&administrator.email, job.clone());
        if let Err(error) = email::send_to_address(
            cx,
            EmailKind::UsersImportCompleted,
            &administrator.email,
            &variables,
        )
        .await
        {
            tracing::error!(%error, job = %job.id, "users import: the completion email could not be written");
        }
    }
}

/// A failed row as the job's errors show it: without its password hash.
fn echoed(row: &Value) -> Value {
    let mut row = row.clone();
    if let Some(object) = row.as_object_mut() {
        object.remove("password_hash");
        object.remove("custom_password_hash");
    }
    row
}

/// Checks one row and writes it; its errors otherwise.
async fn import_row(
    cx: &Context,
    actor: &Actor,
    job_id: &str,
    row: &Value,
    upsert: bool,
) -> Result<Outcome, Vec<RowError>> {
    let Some(object) = row.as_object() else {
        return Err(vec![RowError::format(
            "",
            "each user must be a JSON object",
        )]);
    };
    let imported = parse_row(object)?;
    let store = cx.store();
    let stored = |error: portcullis_store::StoreError| {
        tracing::error!(%error, "user import: store failure");
        vec![RowError::new(
            "INTERNAL",
            "",
            "the user could not be stored",
        )]
    };
    let by_email = store.user_by_email(&imported.email).await.map_err(stored)?;
    let by_id = match imported.user_id.as_deref() {
        Some(id) => store.user_by_id(id).await.map_err(stored)?,
        None => None,
    };
    let existing = match (by_email, by_id) {
        (Some(a), Some(b)) if a.user_id != b.user_id => {
            return Err(vec![RowError::new(
                "DUPLICATED_USER",
                "user_id",
                "the user_id belongs to a user with another email",
            )])
        }
        (Some(user), _) | (None, Some(user)) => Some(user),
        (None, None) => None,
    };
    let now = cx.now();
    match existing {
        Some(_) if !upsert => Err(vec![RowError::new(
            "DUPLICATED_USER",
            "email",
            "The user already exist and upsert parameter is false",
        )]),
        Some(mut user) => {
            imported.apply_to(&mut user).map_err(|e| vec![e])?;
            user.updated_at = now;
            store.update_user(&user).await.map_err(stored)?;
            cx.record(actor, described(Action::Update, &user, job_id))
                .await;
            Ok(Outcome::Updated)
        }
        None => {
            let local_part = imported.email.split('@').next().unwrap_or_default();
            let mut user = User {
                user_id: imported
                    .user_id
                    .clone()
                    .unwrap_or_else(|| format!("auth0|{}", random_hex(12))),
                email: imported.email.clone(),
                email_verified: false,
                password_hash: String::new(),
                name: imported.email.clone(),
                given_name: None,
                family_name: None,
                nickname: local_part.to_owned(),
                picture: String::new(),
                blocked: false,
                created_at: now,
                updated_at: now,
                last_login: None,
                logins_count: 0,
                user_metadata: Map::new(),
                app_metadata: Map::new(),
            };
            imported.apply_to(&mut user).map_err(|e| vec![e])?;
            store
                .create_user(&user)
                .await
                .map_err(|error| match error {
                    portcullis_store::StoreError::Conflict(_) => vec![RowError::new(
                        "DUPLICATED_USER",
                        "email",
                        "The user already exist and upsert parameter is false",
                    )],
                    other => stored(other),
                })?;
            cx.record(actor, described(Action::Create, &user, job_id))
                .await;
            Ok(Outcome::Inserted)
        }
    }
}

fn described(action: Action, user: &User, job_id: &str) -> Change {
    Change::new(action, Kind::User, &user.user_id).with(json!({
        "email": user.email,
        "job_id": job_id,
    }))
}

/// A row that passed its checks.
struct Imported {
    email: String,
    user_id: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    blocked: Option<bool>,
    user_metadata: Option<Map<String, Value>>,
    app_metadata: Option<Map<String, Value>>,
    password_hash: Option<String>,
}

impl Imported {
    /// Sets what the row gives; the metadata objects are merged as a Management API update
    /// merges them.
    fn apply_to(&self, user: &mut User) -> Result<(), RowError> {
        user.email.clone_from(&self.email);
        if let Some(value) = self.email_verified {
            user.email_verified = value;
        }
        if let Some(value) = &self.name {
            user.name.clone_from(value);
        }
        if let Some(value) = &self.given_name {
            user.given_name = Some(value.clone());
        }
        if let Some(value) = &self.family_name {
            user.family_name = Some(value.clone());
        }
        if let Some(value) = &self.nickname {
            user.nickname.clone_from(value);
        }
        if let Some(value) = &self.picture {
            user.picture.clone_from(value);
        }
        if let Some(value) = self.blocked {
            user.blocked = value;
        }
        if let Some(value) = &self.password_hash {
            user.password_hash.clone_from(value);
        }
        for (field, given, target) in [
            (
                "user_metadata",
                &self.user_metadata,
                &mut user.user_metadata,
            ),
            ("app_metadata", &self.app_metadata, &mut user.app_metadata),
        ] {
            if let Some(given) = given {
                *target = MetadataChange::Merge(given.clone())
                    .apply(field, target)
                    .map_err(|error| RowError::format(field, error.to_string()))?;
            }
        }
        Ok(())
    }
}

/// Checks a row against Auth0's schema: every problem is reported, not only the first.
fn parse_row(object: &Map<String, Value>) -> Result<Imported, Vec<RowError>> {
    let mut errors = Vec::new();
    for key in object.keys() {
        if !PROPERTIES.contains(&key.as_str()) {
            errors.push(RowError::new(
                "OBJECT_ADDITIONAL_PROPERTIES",
                "",
                format!("Additional properties not allowed: {key}"),
            ));
        }
    }
    let text = |errors: &mut Vec<RowError>, field: &'static str| -> Option<String> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(value)) => Some(value.clone()),
            Some(_) => {
                errors.push(RowError::format(field, format!("{field} must be a string")));
                None
            }
        }
    };
    let flag = |errors: &mut Vec<RowError>, field: &'static str| -> Option<bool> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(_) => {
                errors.push(RowError::format(
                    field,
                    format!("{field} must be a boolean"),
                ));
                None
            }
        }
    };
    let metadata = |errors: &mut Vec<RowError>, field: &'static str| match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Object(value)) => Some(value.clone()),
        Some(_) => {
            errors.push(RowError::format(
                field,
                format!("{field} must be an object"),
            ));
            None
        }
    };
    let email = text(&mut errors, "email").map(|email| email.trim().to_owned());
    match &email {
        None => errors.push(RowError::new(
            "OBJECT_REQUIRED",
            "email",
            "Missing required property: email",
        )),
        Some(email) if super::check_email(email).is_err() => errors.push(RowError::format(
            "email",
            format!("Object didn't pass validation for format email: {email}"),
        )),
        Some(_) => {}
    }
    // Auth0 prefixes the connection's strategy to an imported id; an id exported from Auth0
    // already has it and is kept as it is.
    let user_id = text(&mut errors, "user_id").map(|id| {
        if id.starts_with("auth0|") {
            id
        } else {
            format!("auth0|{id}")
        }
    });
    let mut name_part = |part: NamePart| {
        let value = text(&mut errors, part.field());
        profile::name_part(part, value).unwrap_or_else(|error| {
            errors.push(RowError::format(part.field(), error.to_string()));
            None
        })
    };
    let given_name = name_part(NamePart::Given);
    let family_name = name_part(NamePart::Family);
    // Kept as they are, and they make the name when the row has none.
    let name = text(&mut errors, "name")
        .or_else(|| profile::composed_name(given_name.as_deref(), family_name.as_deref()));
    let picture = text(&mut errors, "picture");
    if let Some(picture) = picture.as_deref().filter(|p| !p.is_empty()) {
        if super::validate::url("picture", picture).is_err() {
            errors.push(RowError::format("picture", "picture must be a URL"));
        }
    }
    let password_hash = match (
        object.get("password_hash"),
        object.get("custom_password_hash"),
    ) {
        (Some(_), Some(_)) => {
            errors.push(RowError::new(
                "CONFLICT",
                "custom_password_hash",
                "password_hash and custom_password_hash cannot both be given",
            ));
            None
        }
        (Some(Value::String(hash)), None) if legacy::is_bcrypt(hash) && bcrypt_parses(hash) => {
            Some(hash.clone())
        }
        (Some(_), None) => {
            errors.push(RowError::format(
                "password_hash",
                "password_hash must be a bcrypt hash ($2a$ or $2b$)",
            ));
            None
        }
        (None, Some(custom)) => match custom_password_hash::stored_form(custom) {
            Ok(hash) => Some(hash),
            Err(message) => {
                errors.push(RowError::format("custom_password_hash", message));
                None
            }
        },
        (None, None) => None,
    };
    let imported = Imported {
        email_verified: flag(&mut errors, "email_verified"),
        blocked: flag(&mut errors, "blocked"),
        nickname: text(&mut errors, "nickname"),
        user_metadata: metadata(&mut errors, "user_metadata"),
        app_metadata: metadata(&mut errors, "app_metadata"),
        email: email.unwrap_or_default(),
        user_id,
        name,
        given_name,
        family_name,
        picture,
        password_hash,
    };
    if errors.is_empty() {
        Ok(imported)
    } else {
        Err(errors)
    }
}

/// Whether the bcrypt crate reads `hash` (its cost and salt).
fn bcrypt_parses(hash: &str) -> bool {
    hash.parse::<bcrypt::HashParts>().is_ok()
}
