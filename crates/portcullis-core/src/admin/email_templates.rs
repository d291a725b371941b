//! Email templates: read (the tenant's customisation, or the default shipped in the binary),
//! customised, and restored to the default. `POST` customises a kind that is not customised
//! yet, `PATCH` changes the current template, `PUT` replaces it (what it leaves out is the
//! default's). Each change is checked by `email::templates` (the parts compile and render, the
//! sender is an address) and recorded with the fields it changed, never their text.

use portcullis_store::EmailTemplate;
use portcullis_types::EmailKind;
use serde_json::json;

use super::{conflict_as, missing, Action, Actor, AdminError, Change, Context, Kind};
use crate::email::{default_template, effective_template, TemplateChanges};

/// The template `kind` is sent with.
pub async fn get(cx: &Context, kind: EmailKind) -> Result<EmailTemplate, AdminError> {
    Ok(effective_template(cx.store(), kind).await?)
}

/// Whether the tenant customised `kind`.
pub async fn is_customized(cx: &Context, kind: EmailKind) -> Result<bool, AdminError> {
    Ok(cx.store().email_template(kind).await?.is_some())
}

/// Customises `kind` from its default; a conflict when it is customised already.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    kind: EmailKind,
    changes: TemplateChanges,
) -> Result<EmailTemplate, AdminError> {
    let message = format!("Template {kind} already exists.");
    let template = checked(changes, default_template(kind), cx.now())?;
    cx.store()
        .create_email_template(&template)
        .await
        .map_err(conflict_as("template", &message))?;
    record(
        cx,
        actor,
        Action::Create,
        &default_template(kind),
        &template,
    )
    .await;
    Ok(template)
}

/// Changes the current template of `kind` (`PATCH`).
pub async fn update(
    cx: &Context,
    actor: &Actor,
    kind: EmailKind,
    changes: TemplateChanges,
) -> Result<EmailTemplate, AdminError> {
    let before = get(cx, kind).await?;
    save(
        cx,
        actor,
        before.clone(),
        checked(changes, before, cx.now())?,
    )
    .await
}

/// Replaces the template of `kind` (`PUT`): what `changes` leaves out is the default's.
pub async fn replace(
    cx: &Context,
    actor: &Actor,
    kind: EmailKind,
    changes: TemplateChanges,
) -> Result<EmailTemplate, AdminError> {
    let before = get(cx, kind).await?;
    let template = checked(changes, default_template(kind), cx.now())?;
    save(cx, actor, before, template).await
}

/// Forgets the customisation of `kind`: it is sent with the default again.
pub async fn restore_default(
    cx: &Context,
    actor: &Actor,
    kind: EmailKind,
) -> Result<(), AdminError> {
    let before = get(cx, kind).await?;
    cx.store()
        .delete_email_template(kind)
        .await
        .map_err(missing(Kind::EmailTemplate))?;
    record(cx, actor, Action::Delete, &before, &default_template(kind)).await;
    Ok(())
}

fn checked(
    changes: TemplateChanges,
    base: EmailTemplate,
    now: i64,
) -> Result<EmailTemplate, AdminError> {
    changes
        .apply(base, now)
        .map_err(|invalid| AdminError::invalid(invalid.field, invalid.message))
}

async fn save(
    cx: &Context,
    actor: &Actor,
    before: EmailTemplate,
    template: EmailTemplate,
) -> Result<EmailTemplate, AdminError> {
    cx.store().put_email_template(&template).await?;
    record(cx, actor, Action::Update, &before, &template).await;
    Ok(template)
}

/// The audit entry: the template, whether it is enabled, and which fields changed.
async fn record(
    cx: &Context,
    actor: &Actor,
    action: Action,
    before: &EmailTemplate,
    after: &EmailTemplate,
) {
    let fields = [
        ("subject", before.subject != after.subject),
        ("body", before.body != after.body),
        ("textBody", before.text != after.text),
        ("from", before.from != after.from),
        ("enabled", before.enabled != after.enabled),
        ("resultUrl", before.result_url != after.result_url),
        (
            "urlLifetimeInSeconds",
            before.url_lifetime_in_seconds != after.url_lifetime_in_seconds,
        ),
        (
            "includeEmailInRedirect",
            before.include_email_in_redirect != after.include_email_in_redirect,
        ),
    ];
    let changed: Vec<&str> = fields
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| *name)
        .collect();
    let change = Change::new(action, Kind::EmailTemplate, after.template.as_str()).with(json!({
        "template": after.template.as_str(),
        "enabled": after.enabled,
        "changed": changed,
    }));
    cx.record(actor, change).await;
}
