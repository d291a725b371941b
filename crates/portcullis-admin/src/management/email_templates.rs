//! `/email-templates`: the templates of the emails the server sends (`verify_email`,
//! `reset_email`, `welcome_email`, `blocked_account`, and Portcullis's `users_import_completed`),
//! in Auth0's shape. Every kind has a
//! template: a kind the tenant has not customised reads as the default shipped in the binary
//! (`from` empty: the server's default sender). `POST` customises a kind that is not customised
//! yet (409 otherwise), `PATCH` changes the current template, `PUT` replaces it. `textBody`,
//! the text part, is a Portcullis extension (Auth0 sends HTML only).

use axum::{
    extract::{FromRequestParts, State},
    http::request::Parts,
    Json,
};
use portcullis_core::{admin::email_templates, email::TemplateChanges};
use portcullis_store::EmailTemplate;
use portcullis_types::EmailKind;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::{
    auth::{Authorized, CreateEmailTemplates, ReadEmailTemplates, UpdateEmailTemplates},
    errors::{ApiError, Auth0Body, Body, ErrorBody},
};
use crate::state::AdminState;

/// An email template, as Auth0 answers it.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = EmailTemplate)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplateShape {
    /// `verify_email`, `reset_email`, `welcome_email`, `blocked_account` or
    /// `users_import_completed`.
    #[schema(value_type = String)]
    pub template: EmailKind,
    /// The HTML part.
    pub body: String,
    /// The text part (a Portcullis extension).
    pub text_body: String,
    /// The sender; empty: the server's default sender (`PORTCULLIS_SMTP_FROM`).
    pub from: String,
    pub subject: String,
    /// Always `liquid`, Auth0's only value. The templates are rendered by minijinja: Liquid's
    /// common subset (`{{ url }}`, `{{ user.email }}`, `{% if user.name %}...{% endif %}`)
    /// reads the same; `{% elsif %}`, `{% unless %}`, `{% assign %}` and `| filter: arg` are
    /// refused with their Jinja spelling (`{% elif %}`, `{% if not %}`, `{% set %}`,
    /// `| filter(arg)`).
    pub syntax: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_lifetime_in_seconds: Option<i64>,
    pub include_email_in_redirect: bool,
    pub enabled: bool,
}

impl From<EmailTemplate> for EmailTemplateShape {
    fn from(template: EmailTemplate) -> Self {
        EmailTemplateShape {
            template: template.template,
            body: template.body,
            text_body: template.text,
            from: template.from,
            subject: template.subject,
            syntax: "liquid",
            result_url: template.result_url,
            url_lifetime_in_seconds: template.url_lifetime_in_seconds,
            include_email_in_redirect: template.include_email_in_redirect,
            enabled: template.enabled,
        }
    }
}

/// A field whose `null` means "remove" (`Some(None)`), distinct from its absence (`None`).
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The fields a body may set; absent (or, but for `resultUrl` and `urlLifetimeInSeconds`,
/// `null`) keeps the base's value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TemplateFields {
    /// The kind; in `PATCH` and `PUT` bodies it must be the path's.
    #[schema(value_type = Option<String>)]
    pub template: Option<EmailKind>,
    pub body: Option<String>,
    pub text_body: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// Only `liquid`.
    pub syntax: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub result_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub url_lifetime_in_seconds: Option<Option<i64>>,
    pub include_email_in_redirect: Option<bool>,
    pub enabled: Option<bool>,
}

impl Auth0Body for TemplateFields {}

impl TemplateFields {
    /// The changes, once the body's `template` (if any) is checked against `kind`.
    fn changes(self, kind: Option<EmailKind>) -> Result<(EmailKind, TemplateChanges), ApiError> {
        let kind = match (kind, self.template) {
            (Some(path), Some(body)) if path != body => {
                return Err(ApiError::invalid_body(format!(
                    "Payload validation error: the template {body} is not the path's {path}"
                )))
            }
            (Some(kind), _) | (None, Some(kind)) => kind,
            (None, None) => {
                return Err(ApiError::invalid_body(
                    "Payload validation error: 'Missing required property: template'",
                ))
            }
        };
        let changes = TemplateChanges {
            subject: self.subject,
            body: self.body,
            text: self.text_body,
            from: self.from,
            enabled: self.enabled,
            syntax: self.syntax,
            result_url: self.result_url,
            url_lifetime_in_seconds: self.url_lifetime_in_seconds,
            include_email_in_redirect: self.include_email_in_redirect,
        };
        Ok((kind, changes))
    }
}

/// The `{templateName}` of a path; an unknown name is a 400.
pub struct TemplateName(pub EmailKind);

impl<S: Send + Sync> FromRequestParts<S> for TemplateName {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(name) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::invalid_uri("Path validation error: templateName"))?;
        name.parse().map(TemplateName).map_err(|error| {
            ApiError::invalid_uri(format!(
                "Path validation error: '{error}' on property templateName"
            ))
        })
    }
}

/// Create an email template: customise a kind that is not customised yet.
#[utoipa::path(
    post, path = "/email-templates", tag = "email-templates",
    request_body = TemplateFields,
    responses(
        (status = 200, description = "The template", body = EmailTemplateShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
    ),
    security(("management_api" = ["create:email_templates"]))
)]
pub async fn create(
    State(app): State<AdminState>,
    auth: Authorized<CreateEmailTemplates>,
    Body(fields): Body<TemplateFields>,
) -> Result<Json<EmailTemplateShape>, ApiError> {
    let (kind, changes) = fields.changes(None)?;
    let template = email_templates::create(&app.cx, &auth.caller.actor(), kind, changes).await?;
    Ok(Json(template.into()))
}

/// Get an email template.
#[utoipa::path(
    get, path = "/email-templates/{templateName}", tag = "email-templates",
    params(("templateName" = String, Path, description = "verify_email, reset_email, welcome_email, blocked_account or users_import_completed")),
    responses(
        (status = 200, description = "The template", body = EmailTemplateShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:email_templates"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadEmailTemplates>,
    TemplateName(kind): TemplateName,
) -> Result<Json<EmailTemplateShape>, ApiError> {
    Ok(Json(email_templates::get(&app.cx, kind).await?.into()))
}

/// Patch an email template: change the fields the body names.
#[utoipa::path(
    patch, path = "/email-templates/{templateName}", tag = "email-templates",
    params(("templateName" = String, Path, description = "verify_email, reset_email, welcome_email, blocked_account or users_import_completed")),
    request_body = TemplateFields,
    responses(
        (status = 200, description = "The template", body = EmailTemplateShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:email_templates"]))
)]
pub async fn update(
    State(app): State<AdminState>,
    auth: Authorized<UpdateEmailTemplates>,
    TemplateName(kind): TemplateName,
    Body(fields): Body<TemplateFields>,
) -> Result<Json<EmailTemplateShape>, ApiError> {
    let (kind, changes) = fields.changes(Some(kind))?;
    let template = email_templates::update(&app.cx, &auth.caller.actor(), kind, changes).await?;
    Ok(Json(template.into()))
}

/// Update an email template: replace it (what the body leaves out is the default's).
#[utoipa::path(
    put, path = "/email-templates/{templateName}", tag = "email-templates",
    params(("templateName" = String, Path, description = "verify_email, reset_email, welcome_email, blocked_account or users_import_completed")),
    request_body = TemplateFields,
    responses(
        (status = 200, description = "The template", body = EmailTemplateShape),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:email_templates"]))
)]
pub async fn replace(
    State(app): State<AdminState>,
    auth: Authorized<UpdateEmailTemplates>,
    TemplateName(kind): TemplateName,
    Body(fields): Body<TemplateFields>,
) -> Result<Json<EmailTemplateShape>, ApiError> {
    let (kind, changes) = fields.changes(Some(kind))?;
    let template = email_templates::replace(&app.cx, &auth.caller.actor(), kind, changes).await?;
    Ok(Json(template.into()))
}
