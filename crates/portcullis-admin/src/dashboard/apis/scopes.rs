//! The Scopes tab of an API: the permissions it defines.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::apis;
use portcullis_store::{ResourceServer, ScopeDefinition};
use serde::Serialize;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    view::FormError,
};

#[derive(Default, Serialize)]
struct ScopeForm {
    value: String,
    description: String,
}

fn scopes_tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    form: ScopeForm,
    error: Option<FormError>,
) -> Response {
    tab(dash, status, api, "scopes", context! { form, error })
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(api) => scopes_tab(&dash, StatusCode::OK, &api, ScopeForm::default(), None),
        Err(page) => page,
    }
}

pub(super) async fn add(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let submitted = ScopeForm {
        value: form.get("value").to_owned(),
        description: form.get("description").to_owned(),
    };
    if submitted.value.is_empty() {
        return scopes_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            submitted,
            Some(FormError::at(
                "value",
                "Enter the permission, such as read:messages.",
            )),
        );
    }
    let scope = ScopeDefinition {
        value: submitted.value.clone(),
        description: submitted.description.clone(),
    };
    match apis::add_scope(&dash.app.cx, &dash.actor(), &api.id, scope).await {
        Ok(updated) => dash.redirect(
            &href(&updated, "scopes"),
            format!("Permission {} added.", submitted.value),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[("scopes", "value")]) {
            Ok((status, error)) => scopes_tab(&dash, status, &api, submitted, Some(error)),
            Err(page) => page,
        },
    }
}

pub(super) async fn remove(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let value = form.get("value");
    if !api.defines_scope(value) {
        return dash.redirect(
            &href(&api, "scopes"),
            format!("{value} was already removed."),
        );
    }
    match apis::remove_scope(&dash.app.cx, &dash.actor(), &api.id, value).await {
        Ok(updated) => dash.redirect(
            &href(&updated, "scopes"),
            format!("Permission {value} removed."),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[("scopes", "value")]) {
            Ok((status, error)) => {
                scopes_tab(&dash, status, &api, ScopeForm::default(), Some(error))
            }
            Err(page) => page,
        },
    }
}
