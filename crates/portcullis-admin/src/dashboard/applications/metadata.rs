//! The Application Metadata section of the Settings tab (Auth0's Advanced Settings >
//! Application Metadata): the application's `client_metadata`, a key added, changed or
//! removed at a time. Core's rule (ten strings, 255 characters) decides; a refusal comes back
//! on the Settings tab, next to the section.

use axum::{extract::Path, response::Response};
use portcullis_core::admin::applications::{self, ClientChanges};
use serde_json::{Map, Value};

use super::{
    load,
    settings::{self, MetadataForm},
    SECTION,
};
use crate::dashboard::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
};

/// The change a form of the section posts. The Add row names its key in `new_key` (trimmed,
/// as typed); an existing key's row sends it back as stored, in `key`.
fn submitted(form: &FormData) -> MetadataForm {
    let new = form.has("new_key");
    MetadataForm {
        key: if new {
            form.get("new_key").to_owned()
        } else {
            form.raw("key").to_owned()
        },
        value: form.get("value").to_owned(),
        new,
    }
}

/// Where the section is on the Settings tab.
fn section(client_id: &str) -> String {
    format!("{}#metadata", paths::application(client_id, "settings"))
}

/// Adds a key or changes its value.
pub(super) async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let submitted = submitted(&form);
    let patch = Value::String(submitted.value.clone());
    let flash = format!("Metadata key \u{201c}{}\u{201d} saved.", submitted.key);
    change(dash, &id, submitted, patch, flash).await
}

/// Removes a key.
pub(super) async fn remove(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let submitted = submitted(&form);
    let flash = format!("Metadata key \u{201c}{}\u{201d} removed.", submitted.key);
    change(dash, &id, submitted, Value::Null, flash).await
}

/// Merges `key: value` into the application's metadata (`null` removes the key), as the
/// Management API's PATCH does.
async fn change(
    dash: Dash,
    id: &str,
    submitted: MetadataForm,
    value: Value,
    flash: String,
) -> Response {
    let client = match load(&dash, id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let mut patch = Map::new();
    patch.insert(submitted.key.clone(), value);
    let changes = ClientChanges {
        client_metadata: Some(patch),
        ..ClientChanges::default()
    };
    match applications::update(&dash.app.cx, &dash.actor(), &client.client_id, changes).await {
        Ok((updated, _)) => dash.redirect(&section(&updated.client_id), flash),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => {
                settings::refused_metadata(&dash, status, &client, submitted, error)
            }
            Err(page) => page,
        },
    }
}
