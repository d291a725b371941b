//! The signed-in administrator's passkeys and security keys on their account page: adding
//! one (named, through the ceremonies of [`super::admin_keys`], with recovery codes shown once
//! when it is their first factor) and deleting one. Each key then answers the sign-in's
//! second step.

use axum::{
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{admin::mfa, mfa::webauthn::Refusal};

use super::{
    admin_keys::{self, relying_party},
    admin_mfa::KEY_REFUSED,
    auth::{Dash, Posted},
    view::Section,
};
use crate::state::AdminState;

const SECTION: Section = Section::Account;
const ACCOUNT: &str = "/dashboard/account";

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/account/keys", get(add_page).post(add))
        .route("/account/keys/{id}/delete", post(delete))
}

/// The page that adds a key: a name and one button per kind of key, or `error` after a
/// refused answer (with fresh ceremonies: each is used once).
async fn key_form(dash: &Dash, status: StatusCode, error: Option<&str>, name: &str) -> Response {
    let keys = match admin_keys::offers(dash).await {
        Ok(keys) => keys,
        Err(error) => return dash.fail(SECTION, error),
    };
    dash.render(
        status,
        "dashboard/account_key.html",
        SECTION,
        context! { keys, error, name },
    )
}

/// `GET /dashboard/account/keys`: adding a passkey or security key (not offered where the
/// issuer's host is not a domain name).
async fn add_page(dash: Dash) -> Response {
    if relying_party(&dash.app).is_none() {
        return dash.redirect(
            ACCOUNT,
            "Passkeys need the dashboard to be served under a domain name.",
        );
    }
    key_form(&dash, StatusCode::OK, None, "").await
}

/// `POST /dashboard/account/keys`: the browser's answer to the page's ceremony.
async fn add(Posted { dash, form }: Posted) -> Response {
    match admin_keys::register(&dash, &form).await {
        Ok(registered) if registered.recovery_codes.is_empty() => {
            let name = registered.key.name.unwrap_or_default();
            dash.redirect(ACCOUNT, format!("\"{name}\" is added."))
        }
        Ok(registered) => dash.render(
            StatusCode::OK,
            "dashboard/account_mfa.html",
            SECTION,
            context! { codes => registered.recovery_codes },
        ),
        Err(Refusal::Failed(error)) => dash.fail(SECTION, error),
        Err(_) => {
            key_form(
                &dash,
                StatusCode::BAD_REQUEST,
                Some(KEY_REFUSED),
                form.get("name"),
            )
            .await
        }
    }
}

/// `POST /dashboard/account/keys/{id}/delete`: removes one of the administrator's own keys.
async fn delete(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    match mfa::delete_admin_key(&dash.app.cx, &dash.actor(), &dash.admin.id, &id).await {
        Ok(()) => dash.redirect(ACCOUNT, "The key is removed."),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, refused)) => key_form(&dash, status, Some(&refused.message), "").await,
            Err(page) => page,
        },
    }
}
