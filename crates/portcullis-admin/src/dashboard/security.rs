//! Security → Multi-factor: the tenant's factors and policy for its users (the same settings,
//! set through the same core functions, as the Management API's `/guardian`), and the
//! administrators' own: whether a second factor is mandatory for them, who has one, and
//! resetting another administrator's factors.

use axum::{
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    admin::mfa::{self, PolicyLevel},
    mfa::admin::admin_has_factor,
};
use portcullis_store::MfaOwner;
use portcullis_types::MfaFactor;
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    view::{FormError, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Security;
const PATH: &str = "/dashboard/security/mfa";

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route(
            "/security",
            get(|| async { axum::response::Redirect::to(PATH) }),
        )
        .route("/security/mfa", get(show).post(save))
        .route("/security/administrators", post(save_administrators))
        .route(
            "/security/administrators/{id}/reset",
            post(reset_administrator),
        )
}

#[derive(Serialize)]
struct FactorRow {
    name: &'static str,
    label: &'static str,
    enabled: bool,
}

#[derive(Serialize)]
struct AdminRow {
    id: String,
    email: String,
    has_factor: bool,
}

/// The page, with the factors and level `submitted` when a change was refused.
async fn page(
    dash: &Dash,
    status: StatusCode,
    submitted: Option<(&[MfaFactor], PolicyLevel)>,
    error: Option<FormError>,
) -> Response {
    let cx = &dash.app.cx;
    let (settings, admins_required, admins) =
        match tokio::try_join!(mfa::settings(cx), mfa::admins_required(cx), async {
            Ok(cx.store().list_admins().await?)
        },)
        {
            Ok(loaded) => loaded,
            Err(error) => return dash.fail(SECTION, error),
        };
    let (enabled, level): (Vec<MfaFactor>, PolicyLevel) = match submitted {
        Some((enabled, level)) => (enabled.to_vec(), level),
        None => (
            settings.enabled.iter().copied().collect(),
            PolicyLevel::of(&settings),
        ),
    };
    let factors: Vec<FactorRow> = MfaFactor::ALL
        .iter()
        .map(|factor| FactorRow {
            name: factor.as_str(),
            label: factor.label(),
            enabled: enabled.contains(factor),
        })
        .collect();
    let mut administrators = Vec::with_capacity(admins.len());
    for admin in admins {
        let owner = MfaOwner::Admin(admin.id.clone());
        let authenticators = match cx.store().authenticators(&owner).await {
            Ok(authenticators) => authenticators,
            Err(error) => return dash.fail(SECTION, error),
        };
        administrators.push(AdminRow {
            has_factor: admin_has_factor(&authenticators),
            id: admin.id,
            email: admin.email,
        });
    }
    dash.render(
        status,
        "dashboard/security.html",
        SECTION,
        context! {
            factors,
            policy => level.as_str(),
            admins_required => admins_required.required,
            admins_configured => admins_required.configured,
            administrators,
            error,
        },
    )
}

/// `GET /dashboard/security/mfa`.
async fn show(dash: Dash) -> Response {
    page(&dash, StatusCode::OK, None, None).await
}

/// `POST /dashboard/security/mfa`: the factors (`factor`, one per checked box) and the
/// policy (`policy`: never, optional or always).
async fn save(Posted { dash, form }: Posted) -> Response {
    let enabled: Vec<MfaFactor> = form
        .all("factor")
        .iter()
        .filter_map(|name| name.parse().ok())
        .collect();
    let Some(level) = PolicyLevel::parse(form.get("policy")) else {
        let error = FormError::named(
            "policy",
            "Choose when users are asked for a second factor",
            &[],
        );
        return page(&dash, StatusCode::BAD_REQUEST, None, Some(error)).await;
    };
    match mfa::set_security(&dash.app.cx, &dash.actor(), &enabled, level).await {
        Ok(()) => dash.redirect(PATH, "Multi-factor settings saved."),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => page(&dash, status, Some((&enabled, level)), Some(error)).await,
            Err(page) => page,
        },
    }
}

/// `POST /dashboard/security/administrators`: whether administrators must use a second
/// factor (`required`, a checkbox).
async fn save_administrators(Posted { dash, form }: Posted) -> Response {
    let required = form.checked("required");
    match mfa::set_admins_required(&dash.app.cx, &dash.actor(), required).await {
        Ok(()) => dash.redirect(
            PATH,
            if required {
                "Administrators must now use a second factor: those without one enrol it at their next sign-in."
            } else {
                "A second factor is now optional for administrators."
            },
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => page(&dash, status, None, Some(error)).await,
            Err(page) => page,
        },
    }
}

/// `POST /dashboard/security/administrators/{id}/reset`: deletes an administrator's factors
/// (one who lost their app and their recovery codes).
async fn reset_administrator(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    match mfa::reset(&dash.app.cx, &dash.actor(), &MfaOwner::Admin(id)).await {
        Ok(_) => dash.redirect(
            PATH,
            "The administrator's second factor is reset: they sign in with their password, and enrol one again if it is mandatory.",
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => page(&dash, status, None, Some(error)).await,
            Err(page) => page,
        },
    }
}
