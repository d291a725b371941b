//! The Settings tab of an API: name, token lifetimes, RBAC and the token profile; and
//! deleting the API.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::apis::{self, ApiChanges};
use portcullis_store::ResourceServer;
use portcullis_types::TokenDialect;
use serde::Serialize;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    form::FormData,
    view::FormError,
};

/// The Settings form's fields, from the API or as submitted.
#[derive(Serialize)]
struct SettingsForm {
    name: String,
    token_lifetime: String,
    token_lifetime_for_web: String,
    allow_offline_access: bool,
    enforce_policies: bool,
    add_permissions: bool,
    rfc9068: bool,
}

impl SettingsForm {
    fn of(api: &ResourceServer) -> Self {
        SettingsForm {
            name: api.name.clone(),
            token_lifetime: api.token_lifetime.to_string(),
            token_lifetime_for_web: api.token_lifetime_for_web.to_string(),
            allow_offline_access: api.allow_offline_access,
            enforce_policies: api.enforce_policies,
            add_permissions: api.token_dialect.adds_permissions(),
            rfc9068: api.token_dialect.is_rfc9068(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        SettingsForm {
            name: form.get("name").to_owned(),
            token_lifetime: form.get("token_lifetime").to_owned(),
            token_lifetime_for_web: form.get("token_lifetime_for_web").to_owned(),
            allow_offline_access: form.checked("allow_offline_access"),
            enforce_policies: form.checked("enforce_policies"),
            add_permissions: form.checked("add_permissions"),
            rfc9068: form.get("profile") == "rfc9068",
        }
    }

    fn dialect(&self) -> TokenDialect {
        TokenDialect::of(self.rfc9068, self.add_permissions)
    }
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let form = SettingsForm::of(&api);
    let signing_secret = match apis::signing_secret(&dash.app.cx, &api) {
        Ok(secret) => secret.map(portcullis_types::Secret::into_inner),
        Err(error) => return dash.fail(SECTION, error),
    };
    tab(
        &dash,
        StatusCode::OK,
        &api,
        "settings",
        context! { form, error => None::<FormError>, signing_secret },
    )
}

/// Gives an HS256 API a new signing secret, shown on the settings page it goes back to.
pub(super) async fn rotate_secret(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    match apis::rotate_signing_secret(&dash.app.cx, &dash.actor(), &api.id).await {
        Ok(updated) => dash.redirect(
            &href(&updated, "settings"),
            "Signing secret rotated: tokens signed with the previous one no longer verify.",
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => {
                let form = SettingsForm::of(&api);
                tab(&dash, status, &api, "settings", context! { form, error })
            }
            Err(page) => page,
        },
    }
}

pub(super) async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let submitted = SettingsForm::submitted(&form);
    let refuse = |status: StatusCode, error: FormError| {
        tab(
            &dash,
            status,
            &api,
            "settings",
            context! { form => &submitted, error },
        )
    };
    let lifetimes = ["token_lifetime", "token_lifetime_for_web"].map(|field| {
        form.integer(field, field)
            .map_err(|message| FormError::at(field, message))
    });
    let (lifetime, web) = match lifetimes {
        [Ok(lifetime), Ok(web)] => (lifetime, web),
        [Err(error), _] | [_, Err(error)] => return refuse(StatusCode::BAD_REQUEST, error),
    };
    let changes = ApiChanges {
        name: Some(submitted.name.clone()),
        token_lifetime: Some(lifetime),
        token_lifetime_for_web: Some(web),
        allow_offline_access: Some(submitted.allow_offline_access),
        enforce_policies: Some(submitted.enforce_policies),
        token_dialect: Some(submitted.dialect()),
        ..ApiChanges::default()
    };
    match apis::update(&dash.app.cx, &dash.actor(), &api.id, changes).await {
        Ok(updated) => dash.redirect(&href(&updated, "settings"), "Settings saved."),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => refuse(status, error),
            Err(page) => page,
        },
    }
}

pub(super) async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    if form.get("confirm") != api.identifier {
        let error = FormError::at(
            "confirm",
            "Type the API's identifier to confirm that it should be deleted.",
        );
        let form = SettingsForm::of(&api);
        return tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &api,
            "settings",
            context! { form, error },
        );
    }
    match apis::delete(&dash.app.cx, &dash.actor(), &api.id).await {
        Ok(()) => dash.redirect(
            "/dashboard/apis",
            format!("API \u{201c}{}\u{201d} deleted.", api.name),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[("id", "confirm")]) {
            Ok((status, error)) => {
                let form = SettingsForm::of(&api);
                tab(&dash, status, &api, "settings", context! { form, error })
            }
            Err(page) => page,
        },
    }
}
