//! The signed-in administrator's own account page (`/dashboard/account`): their second
//! factors, enrolling an authenticator app (QR code, the key as text, a first code, then
//! recovery codes shown once), their passkeys and security keys ([`super::account_keys`]), and
//! removing their factors. Enrolment and codes go through the same core functions as the
//! sign-in's second step ([`super::admin_mfa`]).

use axum::{
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    admin::mfa,
    mfa::{
        admin::{admin_factor_kinds, admin_has_factor},
        webauthn::is_webauthn,
    },
};
use portcullis_store::MfaOwner;
use portcullis_types::MfaFactor;
use serde::Serialize;

use super::{
    admin_keys::relying_party,
    admin_mfa::{confirm, provisioning, refused_code},
    auth::{Dash, Posted},
    user_factors::Row,
    view::Section,
};
use crate::state::AdminState;

const SECTION: Section = Section::Account;
const ACCOUNT: &str = "/dashboard/account";

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/mfa", get(enrol_page).post(enrol))
        .route("/account/mfa/reset", post(remove))
}

fn owner(dash: &Dash) -> MfaOwner {
    MfaOwner::Admin(dash.admin.id.clone())
}

/// Whether the signed-in administrator has an authenticator app (one at a time; passkeys
/// and security keys may be added next to it).
async fn has_app(dash: &Dash) -> Result<bool, Response> {
    match dash.app.store().authenticators(&owner(dash)).await {
        Ok(authenticators) => Ok(admin_factor_kinds(&authenticators).contains(&MfaFactor::Otp)),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

/// One of the administrator's keys as their account page lists it, to delete.
#[derive(Serialize)]
struct KeyRow {
    id: String,
    name: Option<String>,
    kind: &'static str,
}

/// `GET /dashboard/account`.
async fn show(dash: Dash) -> Response {
    let methods = match mfa::methods(&dash.app.cx, &owner(&dash)).await {
        Ok(methods) => methods,
        Err(error) => return dash.fail(SECTION, error),
    };
    let required = match mfa::admins_required(&dash.app.cx).await {
        Ok(setting) => setting.required,
        Err(error) => return dash.fail(SECTION, error),
    };
    let has_factor = methods
        .iter()
        .any(|method| admin_has_factor(std::slice::from_ref(&method.authenticator)));
    let has_app = methods
        .iter()
        .any(|method| method.authenticator.kind == MfaFactor::Otp);
    let keys: Vec<KeyRow> = methods
        .iter()
        .map(|method| &method.authenticator)
        .filter(|a| is_webauthn(a.kind))
        .map(|a| KeyRow {
            id: a.id.clone(),
            name: a.name.clone(),
            kind: a.kind.as_str(),
        })
        .collect();
    let keys_offered = relying_party(&dash.app).is_some();
    let factors: Vec<Row> = methods.into_iter().map(Row::from).collect();
    dash.render(
        StatusCode::OK,
        "dashboard/account.html",
        SECTION,
        context! { factors, has_factor, has_app, keys, keys_offered, required },
    )
}

/// The enrolment form, with `error` after a refused code.
async fn enrol_form(dash: &Dash, status: StatusCode, error: Option<&str>) -> Response {
    let shown = match provisioning(dash).await {
        Ok(shown) => shown,
        Err(error) => return dash.fail(SECTION, error),
    };
    dash.render(
        status,
        "dashboard/account_mfa.html",
        SECTION,
        context! { secret => shown.secret_base32, qr_data_uri => shown.qr_data_uri, error },
    )
}

/// `GET /dashboard/account/mfa`: the QR code and key of a new authenticator app, unless the
/// administrator has one already (they remove it first).
async fn enrol_page(dash: Dash) -> Response {
    match has_app(&dash).await {
        Ok(true) => dash.redirect(ACCOUNT, "You already have an authenticator app."),
        Ok(false) => enrol_form(&dash, StatusCode::OK, None).await,
        Err(page) => page,
    }
}

/// `POST /dashboard/account/mfa`: the app's first code confirms it; the recovery codes are
/// shown once.
async fn enrol(Posted { dash, form }: Posted) -> Response {
    match has_app(&dash).await {
        Ok(true) => return dash.redirect(ACCOUNT, "You already have an authenticator app."),
        Ok(false) => {}
        Err(page) => return page,
    }
    match confirm(&dash, form.raw("code")).await {
        Ok(confirmed) => dash.render(
            StatusCode::OK,
            "dashboard/account_mfa.html",
            SECTION,
            context! { codes => confirmed.recovery_codes },
        ),
        Err(error) => {
            let (status, text) = refused_code(&dash, error).await;
            enrol_form(&dash, status, Some(text)).await
        }
    }
}

/// `POST /dashboard/account/mfa/reset`: removes the administrator's own factors.
async fn remove(Posted { dash, .. }: Posted) -> Response {
    match mfa::reset(&dash.app.cx, &dash.actor(), &owner(&dash)).await {
        Ok(_) => dash.redirect(ACCOUNT, "Your second factor is removed."),
        Err(error) => dash.fail(SECTION, error),
    }
}
