//! The Authorized Applications tab of a user: the user's consents to third-party applications
//! (Auth0's user grants), each with its application, API and scopes, and revoking one
//! (through `portcullis_core::admin::consents`, as the Management API's `DELETE /grants/{id}`).

use axum::{
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::{consents, AdminError};
use portcullis_store::{Consent, ConsentFilter, Page, Store, StoreError, User};
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
        .route("/users/{id}/applications", get(show))
        .route("/users/{id}/applications/revoke", post(revoke))
}

/// One consent as the tab shows it.
#[derive(Serialize)]
struct Row {
    id: String,
    client_id: String,
    /// The application's name (its id when it is gone).
    client_name: String,
    audience: String,
    /// The API's name, when the audience is an API.
    api_name: Option<String>,
    scope: Vec<String>,
    updated_at: i64,
}

async fn row(store: &dyn Store, consent: Consent) -> Result<Row, StoreError> {
    let client_name = store
        .client_by_id(&consent.client_id)
        .await?
        .map_or_else(|| consent.client_id.clone(), |client| client.name);
    let api_name = store
        .resource_server_by_identifier(&consent.audience)
        .await?
        .map(|api| api.name);
    Ok(Row {
        id: consent.id,
        client_id: consent.client_id,
        client_name,
        audience: consent.audience,
        api_name,
        scope: consent.scope.iter().map(str::to_owned).collect(),
        updated_at: consent.updated_at,
    })
}

async fn rows(store: &dyn Store, user: &User) -> Result<Vec<Row>, StoreError> {
    let filter = ConsentFilter {
        user_id: Some(user.user_id.clone()),
        ..ConsentFilter::default()
    };
    let (consents, _) = store.list_consents(&filter, Page::ALL).await?;
    let mut rows = Vec::with_capacity(consents.len());
    for consent in consents {
        rows.push(row(store, consent).await?);
    }
    Ok(rows)
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    match rows(dash.app.store(), &user).await {
        Ok(grants) => tab(
            &dash,
            StatusCode::OK,
            &user,
            "applications",
            context! { grants },
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn revoke(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let user = match load(&dash, &id).await {
        Ok(user) => user,
        Err(page) => return page,
    };
    let grant_id = form.get("grant_id");
    // Only this user's consents are revoked from this user's page.
    let owned = match consents::find(&dash.app.cx, grant_id).await {
        Ok(consent) => consent.user_id == user.user_id,
        Err(AdminError::NotFound(_)) => false,
        Err(error) => return dash.fail(SECTION, error),
    };
    let back = paths::user(&user.user_id, "applications");
    if !owned {
        return dash.redirect(&back, "That authorization was already revoked.");
    }
    match consents::revoke(&dash.app.cx, &dash.actor(), grant_id).await {
        Ok(()) | Err(AdminError::NotFound(_)) => dash.redirect(
            &back,
            "Authorization revoked: the application must ask the user again.",
        ),
        Err(error) => dash.fail(SECTION, error),
    }
}
