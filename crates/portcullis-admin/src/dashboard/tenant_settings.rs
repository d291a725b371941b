//! Settings: the tenant's flags, the same ones as the Management API's `/tenants/settings`
//! (Auth0's Settings → Advanced → "OIDC Dynamic Application Registration").

use axum::{http::StatusCode, response::Response, routing::get, Router};
use minijinja::context;
use portcullis_core::admin::tenant_settings::{self, FlagChanges};

use super::{
    auth::{Dash, Posted},
    view::Section,
};
use crate::state::AdminState;

const SECTION: Section = Section::Settings;
const PATH: &str = "/dashboard/settings";

pub fn routes() -> Router<AdminState> {
    // Nested under `/dashboard`.
    Router::new().route("/settings", get(show).post(save))
}

async fn show(dash: Dash) -> Response {
    match tenant_settings::flags(&dash.app.cx).await {
        Ok(flags) => dash.render(
            StatusCode::OK,
            "dashboard/tenant_settings.html",
            SECTION,
            context! {
                enable_dynamic_client_registration => flags.enable_dynamic_client_registration,
                registration_endpoint => dash.app.settings.endpoint("oidc/register"),
            },
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn save(Posted { dash, form }: Posted) -> Response {
    let changes = FlagChanges {
        enable_dynamic_client_registration: Some(
            form.checked("enable_dynamic_client_registration"),
        ),
    };
    match tenant_settings::update_flags(&dash.app.cx, &dash.actor(), changes).await {
        Ok(_) => dash.redirect(PATH, "Tenant settings saved."),
        Err(error) => dash.fail(SECTION, error),
    }
}
