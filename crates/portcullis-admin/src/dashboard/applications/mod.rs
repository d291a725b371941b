//! Applications: the list, Create Application (single-page, regular web, machine to machine),
//! and one page per application with the Settings (and its Application Metadata section),
//! Credentials and APIs tabs. A new client
//! secret (at creation, on rotation) is shown once, in the answer to the POST that made it.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::applications::{self, NewClient};
use portcullis_store::{AppType, Client};
use serde::Serialize;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    paths,
    view::{requested_page, FormError, Pager, Section},
};
use crate::state::AdminState;

mod credentials;
mod grants;
mod metadata;
mod settings;

const SECTION: Section = Section::Applications;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/applications", get(list).post(create))
        .route("/applications/new", get(new))
        .route("/applications/{id}", get(show))
        .route(
            "/applications/{id}/settings",
            get(settings::show).post(settings::save),
        )
        .route(
            "/applications/{id}/credentials",
            get(credentials::show).post(credentials::save),
        )
        .route("/applications/{id}/rotate", post(credentials::rotate))
        .route(
            "/applications/{id}/apis",
            get(grants::show).post(grants::grant),
        )
        .route("/applications/{id}/apis/update", post(grants::update))
        .route("/applications/{id}/apis/revoke", post(grants::revoke))
        .route("/applications/{id}/metadata", post(metadata::save))
        .route("/applications/{id}/metadata/remove", post(metadata::remove))
        .route("/applications/{id}/delete", post(settings::delete))
}

fn href(client: &Client, tab: &str) -> String {
    paths::application(&client.client_id, tab)
}

/// How the dashboard names an application type.
pub fn type_label(app_type: AppType) -> &'static str {
    match app_type {
        AppType::Spa => "Single Page Application",
        AppType::RegularWeb => "Regular Web Application",
        AppType::NonInteractive => "Machine to Machine",
        AppType::Native => "Native",
    }
}

/// An application as lists show it.
#[derive(Serialize)]
struct Row {
    client: Client,
    type_label: &'static str,
}

async fn list(dash: Dash, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let page = requested_page(&query);
    match dash.app.store().list_clients(page).await {
        Ok((clients, total)) => {
            let pager = Pager::new(page, clients.len(), total, "/dashboard/applications", &[]);
            let rows: Vec<Row> = clients
                .into_iter()
                .map(|client| Row {
                    type_label: type_label(client.app_type),
                    client,
                })
                .collect();
            dash.render(
                StatusCode::OK,
                "dashboard/applications.html",
                SECTION,
                context! { rows, pager },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

#[derive(Default, Serialize)]
struct NewForm {
    name: String,
    app_type: String,
}

fn new_form(dash: &Dash, status: StatusCode, form: NewForm, error: Option<FormError>) -> Response {
    dash.render(
        status,
        "dashboard/application_new.html",
        SECTION,
        context! { form, error },
    )
}

async fn new(dash: Dash) -> Response {
    let form = NewForm {
        app_type: "spa".into(),
        ..NewForm::default()
    };
    new_form(&dash, StatusCode::OK, form, None)
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = NewForm {
        name: form.get("name").to_owned(),
        app_type: form.get("app_type").to_owned(),
    };
    let app_type = match submitted.app_type.as_str() {
        "spa" | "regular_web" | "non_interactive" | "native" => AppType::parse(&submitted.app_type),
        _ => None,
    };
    let Some(app_type) = app_type else {
        let error = FormError::at("app_type", "Choose the type of the application.");
        return new_form(&dash, StatusCode::BAD_REQUEST, submitted, Some(error));
    };
    let new = NewClient {
        name: submitted.name.clone(),
        app_type: Some(app_type),
        ..NewClient::default()
    };
    match applications::create(&dash.app.cx, &dash.actor(), new).await {
        Ok((client, secret)) => {
            match secret {
                // The secret exists only now: show it in this answer, never in a redirect.
                Some(secret) => credentials::tab(
                    &dash,
                    StatusCode::CREATED,
                    &client,
                    Some(secret.expose_str()),
                    Some(&format!(
                        "Application \u{201c}{}\u{201d} created.",
                        client.name
                    )),
                    None,
                ),
                None => dash.redirect(
                    &href(&client, "settings"),
                    format!("Application \u{201c}{}\u{201d} created.", client.name),
                ),
            }
        }
        Err(error) => match dash.refusal(error, SECTION, &[("id", "name")]) {
            Ok((status, error)) => new_form(&dash, status, submitted, Some(error)),
            Err(page) => page,
        },
    }
}

async fn load(dash: &Dash, id: &str) -> Result<Client, Response> {
    let lookup = dash.app.store().client_by_id(id).await;
    dash.found(lookup, SECTION, "Application", "/dashboard/applications")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&paths::application(&id, "settings")).into_response()
}

fn tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    tab: &str,
    page: minijinja::Value,
) -> Response {
    dash.render(
        status,
        "dashboard/application.html",
        SECTION,
        context! {
            client,
            tab,
            type_label => type_label(client.app_type),
            base => paths::application(&client.client_id, "").trim_end_matches('/').to_owned(),
            ..page
        },
    )
}
