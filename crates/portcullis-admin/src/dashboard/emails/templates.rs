//! The Templates tab: one page per kind of email, with its subject, sender, HTML and text
//! parts, result URL and link lifetime, a preview rendered with made-up values, and, for a
//! customised kind, a way back to the default. Changes go through
//! `portcullis_core::admin::email_templates`, which checks and records them.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::{
    admin::email_templates,
    email::{templates::render, TemplateChanges, Variables},
};
use portcullis_store::EmailTemplate;
use portcullis_types::EmailKind;
use serde::Serialize;

use super::{SECTION, TABS};
use crate::dashboard::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
    view::{allow_inline_styles, FormError},
};

/// The Management API's names of the fields this form names differently.
const ALIASES: &[(&str, &str)] = &[
    ("textBody", "text_body"),
    ("resultUrl", "result_url"),
    ("urlLifetimeInSeconds", "url_lifetime_in_seconds"),
];

/// The form's values, as shown or as submitted.
#[derive(Serialize)]
struct TemplateForm {
    subject: String,
    from: String,
    body: String,
    text_body: String,
    enabled: bool,
    result_url: String,
    url_lifetime_in_seconds: String,
}

impl TemplateForm {
    fn of(template: &EmailTemplate) -> Self {
        TemplateForm {
            subject: template.subject.clone(),
            from: template.from.clone(),
            body: template.body.clone(),
            text_body: template.text.clone(),
            enabled: template.enabled,
            result_url: template.result_url.clone().unwrap_or_default(),
            url_lifetime_in_seconds: template
                .url_lifetime_in_seconds
                .map(|seconds| seconds.to_string())
                .unwrap_or_default(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        TemplateForm {
            subject: form.raw("subject").to_owned(),
            from: form.get("from").to_owned(),
            body: form.raw("body").to_owned(),
            text_body: form.raw("text_body").to_owned(),
            enabled: form.checked("enabled"),
            result_url: form.get("result_url").to_owned(),
            url_lifetime_in_seconds: form.get("url_lifetime_in_seconds").to_owned(),
        }
    }

    /// Every field, as a change: the form shows the whole template.
    fn changes(&self) -> Result<TemplateChanges, FormError> {
        let lifetime = match self.url_lifetime_in_seconds.as_str() {
            "" => None,
            text => Some(text.parse::<i64>().map_err(|_| {
                FormError::at(
                    "url_lifetime_in_seconds",
                    "The link lifetime must be a whole number of seconds",
                )
            })?),
        };
        Ok(TemplateChanges {
            subject: Some(self.subject.clone()),
            body: Some(self.body.clone()),
            text: Some(self.text_body.clone()),
            from: Some(self.from.clone()),
            enabled: Some(self.enabled),
            syntax: None,
            result_url: Some(Some(self.result_url.clone()).filter(|url| !url.is_empty())),
            url_lifetime_in_seconds: Some(lifetime),
            include_email_in_redirect: None,
        })
    }
}

/// The kinds, for the page's list of templates.
#[derive(Serialize)]
struct KindLink {
    name: &'static str,
    label: &'static str,
    href: String,
}

/// The kind a path names, or the page that says there is none.
#[allow(clippy::result_large_err)] // The error is the page itself, answered at once.
fn kind_of(dash: &Dash, name: &str) -> Result<EmailKind, Response> {
    name.parse()
        .map_err(|_| dash.not_found(SECTION, "Email template", "/dashboard/emails/templates"))
}

/// The page of `template`, showing `form` (the stored values, or a refused submission).
async fn page(
    dash: &Dash,
    status: StatusCode,
    template: &EmailTemplate,
    form: TemplateForm,
    error: Option<FormError>,
) -> Response {
    let kind = template.template;
    let customized = match email_templates::is_customized(&dash.app.cx, kind).await {
        Ok(customized) => customized,
        Err(error) => return dash.fail(SECTION, error),
    };
    let preview = render(template, &Variables::sample()).ok().map(|rendered| {
        context! { subject => rendered.subject, html => rendered.html, text => rendered.text }
    });
    let kinds: Vec<KindLink> = EmailKind::ALL
        .iter()
        .map(|kind| KindLink {
            name: kind.as_str(),
            label: kind.label(),
            href: paths::email_template(kind.as_str()),
        })
        .collect();
    let mut response = dash.render(
        status,
        "dashboard/email_templates.html",
        SECTION,
        context! {
            kind => kind.as_str(),
            label => kind.label(),
            action => paths::email_template(kind.as_str()),
            kinds,
            customized,
            form,
            error,
            preview,
            tabs => TABS,
            delivering => dash.app.cx.outbox.is_delivering(),
        },
    );
    allow_inline_styles(&mut response);
    response
}

/// `GET /dashboard/emails/templates/{name}`.
pub async fn show(dash: Dash, Path(name): Path<String>) -> Response {
    let kind = match kind_of(&dash, &name) {
        Ok(kind) => kind,
        Err(page) => return page,
    };
    match email_templates::get(&dash.app.cx, kind).await {
        Ok(template) => {
            let form = TemplateForm::of(&template);
            page(&dash, StatusCode::OK, &template, form, None).await
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

/// `POST /dashboard/emails/templates/{name}`: saves the whole form.
pub async fn save(Path(name): Path<String>, Posted { dash, form }: Posted) -> Response {
    let kind = match kind_of(&dash, &name) {
        Ok(kind) => kind,
        Err(page) => return page,
    };
    let current = match email_templates::get(&dash.app.cx, kind).await {
        Ok(template) => template,
        Err(error) => return dash.fail(SECTION, error),
    };
    let submitted = TemplateForm::submitted(&form);
    let changes = match submitted.changes() {
        Ok(changes) => changes,
        Err(error) => {
            return page(
                &dash,
                StatusCode::BAD_REQUEST,
                &current,
                submitted,
                Some(error),
            )
            .await
        }
    };
    match email_templates::update(&dash.app.cx, &dash.actor(), kind, changes).await {
        Ok(_) => dash.redirect(
            &paths::email_template(kind.as_str()),
            format!("{} template saved.", kind.label()),
        ),
        Err(error) => match dash.refusal(error, SECTION, ALIASES) {
            Ok((status, error)) => page(&dash, status, &current, submitted, Some(error)).await,
            Err(page) => page,
        },
    }
}

/// `POST /dashboard/emails/templates/{name}/restore`: back to the default.
pub async fn restore(Path(name): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let kind = match kind_of(&dash, &name) {
        Ok(kind) => kind,
        Err(page) => return page,
    };
    match email_templates::restore_default(&dash.app.cx, &dash.actor(), kind).await {
        Ok(()) => dash.redirect(
            &paths::email_template(kind.as_str()),
            format!("{} template restored to the default.", kind.label()),
        ),
        Err(error) => match dash.refusal(error, SECTION, ALIASES) {
            Ok(_) => dash.fail(SECTION, "restoring a template answered a form error"),
            Err(page) => page,
        },
    }
}
