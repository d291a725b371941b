//! APIs: the list, Create API, and one page per API with the Settings, Scopes, Access rules
//! and Test tabs.
//!
//! The Test tab works as Auth0's: a machine-to-machine "<API name> (Test Application)" is
//! created on request and granted every scope of the API; the page then shows a token minted
//! for it by the server's own token code, and the curl lines that use it.

mod rules;
mod scopes;
mod settings;
mod test;

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::apis::{self, ApiChanges, NewApi};
use portcullis_store::ResourceServer;
use portcullis_types::SigningAlg;
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
    view::{requested_page, FormError, Pager, Section},
};
use crate::state::AdminState;

const SECTION: Section = Section::Apis;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/apis", get(list).post(create))
        .route("/apis/new", get(new))
        .route("/apis/{id}", get(show))
        .route(
            "/apis/{id}/settings",
            get(settings::show).post(settings::save),
        )
        .route("/apis/{id}/delete", post(settings::delete))
        .route("/apis/{id}/rotate-secret", post(settings::rotate_secret))
        .route("/apis/{id}/scopes", get(scopes::show).post(scopes::add))
        .route("/apis/{id}/scopes/remove", post(scopes::remove))
        .route("/apis/{id}/rules", get(rules::show).post(rules::add))
        .route("/apis/{id}/rules/remove", post(rules::remove))
        .route(
            "/apis/{id}/test",
            get(test::show).post(test::create_application),
        )
}

fn href(api: &ResourceServer, tab: &str) -> String {
    paths::api(&api.id, tab)
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    match dash.app.store().list_resource_servers(page).await {
        Ok((apis, total)) => {
            let pager = Pager::new(page, apis.len(), total, "/dashboard/apis", &[]);
            dash.render(
                StatusCode::OK,
                "dashboard/apis.html",
                SECTION,
                context! { apis, pager },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Default, Serialize)]
struct NewApiForm {
    name: String,
    identifier: String,
    signing_alg: String,
}

fn new_form(
    dash: &Dash,
    status: StatusCode,
    form: NewApiForm,
    error: Option<FormError>,
) -> Response {
    dash.render(
        status,
        "dashboard/api_new.html",
        SECTION,
        context! { form, error },
    )
}

async fn new(dash: Dash) -> Response {
    new_form(
        &dash,
        StatusCode::OK,
        NewApiForm {
            signing_alg: "RS256".into(),
            ..NewApiForm::default()
        },
        None,
    )
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = NewApiForm {
        name: form.get("name").to_owned(),
        identifier: form.get("identifier").to_owned(),
        signing_alg: form.get("signing_alg").to_owned(),
    };
    let signing_alg = match submitted.signing_alg.parse::<SigningAlg>() {
        Ok(alg) => alg,
        Err(error) => {
            let error = FormError::at("signing_alg", error.to_string());
            return new_form(&dash, StatusCode::BAD_REQUEST, submitted, Some(error));
        }
    };
    let new = NewApi {
        name: submitted.name.clone(),
        identifier: submitted.identifier.clone(),
        scopes: Vec::new(),
        token_lifetime: None,
        allow_offline_access: false,
        enforce_policies: false,
        token_dialect: None,
    };
    let changes = ApiChanges {
        signing_alg: Some(signing_alg),
        ..ApiChanges::default()
    };
    match apis::create_with(&dash.app.cx, &dash.actor(), new, changes).await {
        Ok(api) => dash.redirect(
            &href(&api, "settings"),
            format!("API \u{201c}{}\u{201d} created.", api.name),
        ),
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => new_form(&dash, status, submitted, Some(error)),
            Err(page) => page,
        },
    }
}

/// Loads the API of the path, or answers the page to show instead.
async fn load(dash: &Dash, id: &str) -> Result<ResourceServer, Response> {
    let lookup = dash.app.store().resource_server_by_id(id).await;
    dash.found(lookup, SECTION, "API", "/dashboard/apis")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&paths::api(&id, "settings")).into_response()
}

/// The API page with one tab; `page` adds what the tab shows.
fn tab(
    dash: &Dash,
    status: StatusCode,
    api: &ResourceServer,
    tab: &str,
    page: minijinja::Value,
) -> Response {
    dash.render(
        status,
        "dashboard/api.html",
        SECTION,
        context! { api, tab, base => paths::api(&api.id, "").trim_end_matches('/').to_owned(), ..page },
    )
}
