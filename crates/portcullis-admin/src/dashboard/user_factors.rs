//! The Multi-factor tab of a user: the second factors the user enrolled (TOTP, recovery codes,
//! security keys), and resetting them all (through `portcullis_core::admin::mfa`, as the
//! Management API's `DELETE /users/{id}/authenticators`): the user's next login that needs a
//! second factor enrols one again.

use axum::{
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::mfa;
use portcullis_store::MfaOwner;
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    paths,
    users::{load, tab},
    view::Section,
};
use crate::state::AdminState;

const SECTION: Section = Section::Users;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/users/{id}/factors", get(show))
        .route("/users/{id}/factors/reset", post(reset))
}

/// One factor as the tab shows it (never its secret).
#[derive(Serialize)]
pub(super) struct Row {
    id: String,
    kind: &'static str,
    name: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    unused_codes: Option<u64>,
}

impl From<mfa::Method> for Row {
    fn from(method: mfa::Method) -> Self {
        let kind = method.type_name();
        let a = method.authenticator;
        Row {
            id: a.id,
            kind,
            name: a.name,
            created_at: a.created_at,
            last_used_at: a.last_used_at,
            unused_codes: method.unused_codes,
        }
    }
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    match mfa::user_methods(&dash.app.cx, &user.user_id).await {
        Ok(methods) => {
            let factors: Vec<Row> = methods.into_iter().map(Row::from).collect();
            tab(
                &dash,
                StatusCode::OK,
                &user,
                "factors",
                context! { factors },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn reset(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let owner = MfaOwner::User(user.user_id.clone());
    match mfa::reset(&dash.app.cx, &dash.actor(), &owner).await {
        Ok(_) => dash.redirect(
            &paths::user(&user.user_id, "factors"),
            "Multi-factor reset: the user enrols a factor again at the next login that needs one.",
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}
