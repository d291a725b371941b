//! Applications: the list, Create Application (single-page, regular web, machine to machine),
//! and one page per application with the Settings, Credentials and APIs tabs. A new client
//! secret (at creation, on rotation) is shown once, in the answer to the POST that made it.

use axum::{
    extract::{Path, RawQuery},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::{self, AdminError, ClientChanges, NewClient, GRANT_TYPES};
use portcullis_store::{AppType, Client, ClientGrant, Page, StoreError};
use serde::Serialize;
use serde_json::json;

use super::{
    auth::{Dash, Posted},
    form::FormData,
    view::{requested_page, segment, FormError, Pager, Section},
};
use crate::state::AppState;

const SECTION: Section = Section::Applications;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list).post(create))
        .route("/applications/new", get(new))
        .route("/applications/{id}", get(show))
        .route(
            "/applications/{id}/settings",
            get(settings).post(save_settings),
        )
        .route(
            "/applications/{id}/credentials",
            get(credentials).post(save_credentials),
        )
        .route("/applications/{id}/rotate", post(rotate))
        .route("/applications/{id}/apis", get(apis).post(grant_api))
        .route("/applications/{id}/apis/update", post(update_grant))
        .route("/applications/{id}/apis/revoke", post(revoke_grant))
        .route("/applications/{id}/delete", post(delete))
}

fn href(client: &Client, tab: &str) -> String {
    format!(
        "/dashboard/applications/{}/{tab}",
        segment(&client.client_id)
    )
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
    match dash.app.store.list_clients(page).await {
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
    let app = &dash.app;
    match admin::create_client(app.store.as_ref(), &app.hasher, app.clock.as_ref(), new).await {
        Ok((client, secret)) => {
            dash.record(
                "Create an application",
                "create",
                "client",
                &client.client_id,
                json!({ "name": client.name, "app_type": client.app_type.as_str() }),
            )
            .await;
            match secret {
                // The secret exists only now: show it in this answer, never in a redirect.
                Some(secret) => credentials_tab(
                    &dash,
                    StatusCode::CREATED,
                    &client,
                    Some(&secret),
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
        Err(AdminError::Invalid(message)) => new_form(
            &dash,
            StatusCode::BAD_REQUEST,
            submitted,
            Some(FormError::new(message, &["name", "app_type"])),
        ),
        Err(AdminError::Conflict(message)) => new_form(
            &dash,
            StatusCode::CONFLICT,
            submitted,
            Some(FormError::at("name", message)),
        ),
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn load(dash: &Dash, id: &str) -> Result<Client, Response> {
    let lookup = dash.app.store.client_by_id(id).await;
    dash.found(lookup, SECTION, "Application", "/dashboard/applications")
}

async fn show(Path(id): Path<String>) -> Response {
    Redirect::to(&format!(
        "/dashboard/applications/{}/settings",
        segment(&id)
    ))
    .into_response()
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
            base => format!("/dashboard/applications/{}", segment(&client.client_id)),
            ..page
        },
    )
}

/// The Settings form's fields, from the application or as submitted.
#[derive(Serialize)]
struct SettingsForm {
    name: String,
    callbacks: String,
    allowed_logout_urls: String,
    web_origins: String,
    allowed_origins: String,
    grant_types: Vec<String>,
    lifetime_in_seconds: String,
    rotation_type: String,
    leeway: String,
}

impl SettingsForm {
    fn of(client: &Client) -> Self {
        SettingsForm {
            name: client.name.clone(),
            callbacks: client.callbacks.join("\n"),
            allowed_logout_urls: client.allowed_logout_urls.join("\n"),
            web_origins: client.web_origins.join("\n"),
            allowed_origins: client.allowed_origins.join("\n"),
            grant_types: client.grant_types.clone(),
            lifetime_in_seconds: client.id_token_lifetime.to_string(),
            rotation_type: client.refresh_token.rotation_type.clone(),
            leeway: client.refresh_token.leeway.to_string(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        SettingsForm {
            name: form.get("name").to_owned(),
            callbacks: form.raw("callbacks").to_owned(),
            allowed_logout_urls: form.raw("allowed_logout_urls").to_owned(),
            web_origins: form.raw("web_origins").to_owned(),
            allowed_origins: form.raw("allowed_origins").to_owned(),
            grant_types: form.all("grant_types"),
            lifetime_in_seconds: form.get("lifetime_in_seconds").to_owned(),
            rotation_type: form.get("rotation_type").to_owned(),
            leeway: form.get("leeway").to_owned(),
        }
    }
}

fn settings_tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    form: SettingsForm,
    error: Option<FormError>,
) -> Response {
    tab(
        dash,
        status,
        client,
        "settings",
        context! { form, error, grant_choices => GRANT_TYPES },
    )
}

async fn settings(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => {
            let form = SettingsForm::of(&client);
            settings_tab(&dash, StatusCode::OK, &client, form, None)
        }
        Err(page) => page,
    }
}

const SETTINGS_FIELDS: [&str; 9] = [
    "name",
    "callbacks",
    "allowed_logout_urls",
    "web_origins",
    "allowed_origins",
    "grant_types",
    "lifetime_in_seconds",
    "rotation_type",
    "leeway",
];

async fn save_settings(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let submitted = SettingsForm::submitted(&form);
    let numbers = form
        .integer("lifetime_in_seconds", "lifetime_in_seconds")
        .and_then(|lifetime| {
            form.integer("leeway", "leeway")
                .map(|leeway| (lifetime, leeway))
        });
    let (lifetime, leeway) = match numbers {
        Ok(numbers) => numbers,
        Err(message) => {
            let error = FormError::new(message, &SETTINGS_FIELDS);
            return settings_tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &client,
                submitted,
                Some(error),
            );
        }
    };
    let mut refresh = client.refresh_token.clone();
    refresh.rotation_type = submitted.rotation_type.clone();
    refresh.leeway = leeway;
    let changes = ClientChanges {
        name: Some(submitted.name.clone()),
        callbacks: Some(form.list("callbacks")),
        allowed_logout_urls: Some(form.list("allowed_logout_urls")),
        web_origins: Some(form.list("web_origins")),
        allowed_origins: Some(form.list("allowed_origins")),
        grant_types: Some(submitted.grant_types.clone()),
        id_token_lifetime: Some(lifetime),
        refresh_token: Some(refresh),
        ..ClientChanges::default()
    };
    let app = &dash.app;
    match admin::update_client(app.store.as_ref(), &app.hasher, &client.client_id, changes).await {
        Ok((updated, _)) => {
            dash.record(
                "Update an application",
                "update",
                "client",
                &updated.client_id,
                json!({
                    "name": updated.name,
                    "callbacks": updated.callbacks,
                    "allowed_logout_urls": updated.allowed_logout_urls,
                    "web_origins": updated.web_origins,
                    "allowed_origins": updated.allowed_origins,
                    "grant_types": updated.grant_types,
                }),
            )
            .await;
            // New web origins must pass CORS right away on this replica.
            if let Err(error) = app.refresh_caches().await {
                tracing::warn!(%error, "could not refresh the caches after a client change");
            }
            dash.redirect(&href(&updated, "settings"), "Settings saved.")
        }
        Err(AdminError::Invalid(message)) => {
            let error = FormError::new(message, &SETTINGS_FIELDS);
            settings_tab(
                &dash,
                StatusCode::BAD_REQUEST,
                &client,
                submitted,
                Some(error),
            )
        }
        Err(AdminError::NotFound) => {
            dash.not_found(SECTION, "Application", "/dashboard/applications")
        }
        Err(other) => dash.fail(SECTION, other),
    }
}

fn credentials_tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    secret: Option<&str>,
    notice: Option<&str>,
    error: Option<FormError>,
) -> Response {
    tab(
        dash,
        status,
        client,
        "credentials",
        context! {
            secret,
            notice,
            error,
            has_secret => client.client_secret_hash.is_some(),
            token_endpoint => dash.app.settings.endpoint("oauth/token"),
        },
    )
}

async fn credentials(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => credentials_tab(&dash, StatusCode::OK, &client, None, None, None),
        Err(page) => page,
    }
}

async fn save_credentials(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let method = form.get("token_endpoint_auth_method").to_owned();
    let changes = ClientChanges {
        token_endpoint_auth_method: Some(method.clone()),
        ..ClientChanges::default()
    };
    let app = &dash.app;
    match admin::update_client(app.store.as_ref(), &app.hasher, &client.client_id, changes).await {
        Ok((updated, secret)) => {
            dash.record(
                "Update an application",
                "update",
                "client",
                &updated.client_id,
                json!({ "token_endpoint_auth_method": updated.token_endpoint_auth_method }),
            )
            .await;
            match secret {
                Some(secret) => credentials_tab(
                    &dash,
                    StatusCode::OK,
                    &updated,
                    Some(&secret),
                    Some("Authentication method saved. The application now has a secret."),
                    None,
                ),
                None => dash.redirect(
                    &href(&updated, "credentials"),
                    "Authentication method saved.",
                ),
            }
        }
        Err(AdminError::Invalid(message)) => credentials_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &client,
            None,
            None,
            Some(FormError::at("token_endpoint_auth_method", message)),
        ),
        Err(AdminError::NotFound) => {
            dash.not_found(SECTION, "Application", "/dashboard/applications")
        }
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn rotate(Path(id): Path<String>, Posted { dash, .. }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let app = &dash.app;
    match admin::rotate_client_secret(app.store.as_ref(), &app.hasher, &client.client_id).await {
        Ok((client, secret)) => {
            dash.record(
                "Rotate an application's secret",
                "rotate_secret",
                "client",
                &client.client_id,
                json!({}),
            )
            .await;
            credentials_tab(
                &dash,
                StatusCode::OK,
                &client,
                Some(&secret),
                Some("Secret rotated. The previous secret no longer works."),
                None,
            )
        }
        Err(AdminError::Invalid(message)) => credentials_tab(
            &dash,
            StatusCode::BAD_REQUEST,
            &client,
            None,
            None,
            Some(FormError::at("rotate", message)),
        ),
        Err(AdminError::NotFound) => {
            dash.not_found(SECTION, "Application", "/dashboard/applications")
        }
        Err(other) => dash.fail(SECTION, other),
    }
}

/// One API the application may get tokens for, with every scope and whether it is granted.
#[derive(Serialize)]
struct GrantCard {
    grant: ClientGrant,
    api_name: String,
    scopes: Vec<(String, String, bool)>,
}

#[derive(Serialize)]
struct ApiChoice {
    identifier: String,
    name: String,
}

async fn apis_tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store.as_ref();
    let loaded = async {
        let (grants, _) = store.list_client_grants(Page::ALL).await?;
        let (apis, _) = store.list_resource_servers(Page::ALL).await?;
        Ok::<_, StoreError>((grants, apis))
    }
    .await;
    let (grants, apis) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return dash.fail(SECTION, error),
    };
    let grants: Vec<ClientGrant> = grants
        .into_iter()
        .filter(|grant| grant.client_id == client.client_id)
        .collect();
    let cards: Vec<GrantCard> = grants
        .iter()
        .map(|grant| {
            let api = apis.iter().find(|api| api.identifier == grant.audience);
            GrantCard {
                grant: grant.clone(),
                api_name: api.map_or_else(|| grant.audience.clone(), |api| api.name.clone()),
                scopes: api.map_or_else(Vec::new, |api| {
                    api.scopes
                        .iter()
                        .map(|scope| {
                            (
                                scope.value.clone(),
                                scope.description.clone(),
                                grant.scope.contains(&scope.value),
                            )
                        })
                        .collect()
                }),
            }
        })
        .collect();
    let choices: Vec<ApiChoice> = apis
        .iter()
        .filter(|api| !grants.iter().any(|grant| grant.audience == api.identifier))
        .map(|api| ApiChoice {
            identifier: api.identifier.clone(),
            name: api.name.clone(),
        })
        .collect();
    tab(
        dash,
        status,
        client,
        "apis",
        context! { cards, choices, error, machine => client.allows_grant("client_credentials") },
    )
}

async fn apis(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => apis_tab(&dash, StatusCode::OK, &client, None).await,
        Err(page) => page,
    }
}

async fn grant_api(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let audience = form.get("audience");
    match admin::create_client_grant(
        dash.app.store.as_ref(),
        &client.client_id,
        audience,
        Vec::new(),
    )
    .await
    {
        Ok(grant) => {
            dash.record(
                "Create a client grant",
                "create",
                "client_grant",
                &grant.id,
                json!({ "client_id": grant.client_id, "audience": grant.audience, "scope": grant.scope }),
            )
            .await;
            dash.redirect(
                &href(&client, "apis"),
                "API authorized. Choose the scopes the application may get.",
            )
        }
        Err(AdminError::Invalid(message) | AdminError::Conflict(message)) => {
            let error = FormError::at("audience", message);
            apis_tab(&dash, StatusCode::BAD_REQUEST, &client, Some(error)).await
        }
        Err(other) => dash.fail(SECTION, other),
    }
}

/// The grant of the form's `grant_id`, when it belongs to `client`.
async fn client_grant(dash: &Dash, client: &Client, id: &str) -> Result<ClientGrant, Response> {
    match dash.app.store.list_client_grants(Page::ALL).await {
        Ok((grants, _)) => grants
            .into_iter()
            .find(|grant| grant.id == id && grant.client_id == client.client_id)
            .ok_or_else(|| dash.not_found(SECTION, "Client grant", &href(client, "apis"))),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

async fn update_grant(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let grant = match client_grant(&dash, &client, form.get("grant_id")).await {
        Ok(grant) => grant,
        Err(page) => return page,
    };
    match admin::update_client_grant(dash.app.store.as_ref(), &grant.id, form.all("scope")).await {
        Ok(grant) => {
            dash.record(
                "Update a client grant",
                "update",
                "client_grant",
                &grant.id,
                json!({ "client_id": grant.client_id, "audience": grant.audience, "scope": grant.scope }),
            )
            .await;
            dash.redirect(&href(&client, "apis"), "Scopes saved.")
        }
        Err(AdminError::Invalid(message)) => {
            let error = FormError::at("scope", message);
            apis_tab(&dash, StatusCode::BAD_REQUEST, &client, Some(error)).await
        }
        Err(AdminError::NotFound) => {
            dash.not_found(SECTION, "Client grant", &href(&client, "apis"))
        }
        Err(other) => dash.fail(SECTION, other),
    }
}

async fn revoke_grant(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let grant = match client_grant(&dash, &client, form.get("grant_id")).await {
        Ok(grant) => grant,
        Err(page) => return page,
    };
    match dash.app.store.delete_client_grant(&grant.id).await {
        Ok(()) | Err(StoreError::NotFound) => {
            dash.record(
                "Delete a client grant",
                "delete",
                "client_grant",
                &grant.id,
                json!({ "client_id": grant.client_id, "audience": grant.audience }),
            )
            .await;
            dash.redirect(&href(&client, "apis"), "Access to the API revoked.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    if form.get("confirm") != client.name {
        let error = FormError::at(
            "confirm",
            "Type the application's name to confirm that it should be deleted.",
        );
        let form = SettingsForm::of(&client);
        return settings_tab(&dash, StatusCode::BAD_REQUEST, &client, form, Some(error));
    }
    match dash.app.store.delete_client(&client.client_id).await {
        Ok(()) | Err(StoreError::NotFound) => {
            dash.record(
                "Delete an application",
                "delete",
                "client",
                &client.client_id,
                json!({ "name": client.name }),
            )
            .await;
            dash.redirect(
                "/dashboard/applications",
                format!("Application \u{201c}{}\u{201d} deleted.", client.name),
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
