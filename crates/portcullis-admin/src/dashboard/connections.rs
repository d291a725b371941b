//! Authentication → Social / Enterprise: connections to other identity providers (a preset —
//! Google, Microsoft, GitHub — or any OpenID Connect or OAuth 2 provider). The list, Create
//! Connection, and one page per connection to change its settings, choose the applications
//! that show its button, or delete it. The options are Auth0's, checked by core as for the
//! Management API and the CLI; the client secret is sealed and never shown back, not even in
//! a form sent back with an error.

use axum::{
    extract::Path,
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::admin::{
    upstream::{self, ConnectionUpdate, NewConnection},
    AdminError,
};
use portcullis_store::{Client, Page, UpstreamConnection};
use portcullis_types::Strategy;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    auth::{Dash, Posted},
    form::FormData,
    view::{segment, FormError, Section},
};
use crate::{management::upstream_connections::UpstreamConnectionShape, state::AdminState};

const SECTION: Section = Section::Connections;
const PATH: &str = "/dashboard/connections";

/// The strategies offered, with the words the page shows.
const STRATEGIES: [(&str, &str); 5] = [
    ("google-oauth2", "Google"),
    ("windowslive", "Microsoft"),
    ("github", "GitHub"),
    ("oidc", "OpenID Connect (any provider)"),
    ("oauth2", "OAuth 2 (endpoints given by hand)"),
];

/// The options the form has a field for (Auth0's names); any other is in the JSON field.
const TEXT_OPTIONS: [&str; 8] = [
    "client_id",
    "scope",
    "issuer",
    "discovery_url",
    "authorizationURL",
    "tokenURL",
    "profileURL",
    "user_id_attribute",
];
const FLAG_OPTIONS: [&str; 2] = ["link_verified_email", "store_upstream_tokens"];

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/connections", get(list).post(create))
        .route("/connections/new", get(new))
        .route("/connections/{id}", get(show).post(save))
        .route("/connections/{id}/delete", post(delete))
}

fn href(connection: &UpstreamConnection) -> String {
    format!("{PATH}/{}", segment(&connection.id))
}

/// The form's fields, from a connection or as submitted; never the client secret.
#[derive(Default, Serialize)]
struct ConnectionForm {
    name: String,
    strategy: String,
    display_name: String,
    /// The text options, by their option name.
    text: Map<String, Value>,
    /// The flag options that are on.
    flags: Vec<String>,
    /// The other options, as JSON.
    other: String,
    enabled_clients: Vec<String>,
}

impl ConnectionForm {
    fn of(connection: &UpstreamConnection) -> Self {
        let mut text = Map::new();
        let mut flags = Vec::new();
        let mut other = Map::new();
        for (name, value) in &connection.options {
            match value {
                Value::String(s) if TEXT_OPTIONS.contains(&name.as_str()) => {
                    text.insert(name.clone(), Value::String(s.clone()));
                }
                Value::Bool(on) if FLAG_OPTIONS.contains(&name.as_str()) => {
                    if *on {
                        flags.push(name.clone());
                    }
                }
                _ => {
                    other.insert(name.clone(), value.clone());
                }
            }
        }
        ConnectionForm {
            name: connection.name.clone(),
            strategy: connection.strategy.as_str().to_owned(),
            display_name: connection.display_name.clone().unwrap_or_default(),
            text,
            flags,
            other: if other.is_empty() {
                String::new()
            } else {
                serde_json::to_string_pretty(&other).unwrap_or_default()
            },
            enabled_clients: connection.enabled_clients.clone(),
        }
    }

    fn submitted(form: &FormData) -> Self {
        let text = TEXT_OPTIONS
            .iter()
            .filter_map(|name| {
                form.opt(name)
                    .map(|v| ((*name).to_owned(), Value::String(v.to_owned())))
            })
            .collect();
        ConnectionForm {
            name: form.get("name").to_owned(),
            strategy: form.get("strategy").to_owned(),
            display_name: form.get("display_name").to_owned(),
            text,
            flags: FLAG_OPTIONS
                .iter()
                .filter(|name| form.checked(name))
                .map(|name| (*name).to_owned())
                .collect(),
            other: form.raw("other").trim().to_owned(),
            enabled_clients: form.all("enabled_clients"),
        }
    }

    /// Auth0's options object the form makes (the secret only when one was typed).
    fn options(&self, secret: Option<&str>) -> Result<Map<String, Value>, FormError> {
        let mut options = match self.other.as_str() {
            "" => Map::new(),
            text => match serde_json::from_str(text) {
                Ok(Value::Object(options)) => options,
                _ => {
                    return Err(FormError::at(
                        "other",
                        "Other options must be a JSON object, such as {\"attribute_map\": {\"mapping_mode\": \"use_map\", \"attributes\": {\"nickname\": \"preferred_username\"}}}.",
                    ))
                }
            },
        };
        options.extend(self.text.clone());
        for flag in &self.flags {
            options.insert(flag.clone(), Value::Bool(true));
        }
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            options.insert("client_secret".into(), Value::String(secret.to_owned()));
        }
        Ok(options)
    }
}

/// An application with whether the connection is on for it.
#[derive(Serialize)]
struct AppChoice {
    client_id: String,
    name: String,
    enabled: bool,
}

async fn applications(dash: &Dash, enabled: &[String]) -> Result<Vec<AppChoice>, Response> {
    match dash.app.store().list_clients(Page::ALL).await {
        Ok((clients, _)) => Ok(clients
            .into_iter()
            .map(|c: Client| AppChoice {
                enabled: enabled.contains(&c.client_id),
                client_id: c.client_id,
                name: c.name,
            })
            .collect()),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

async fn list(dash: Dash) -> Response {
    match upstream::list(&dash.app.cx).await {
        Ok(connections) => {
            let rows: Vec<_> = connections
                .iter()
                .map(|c| {
                    context! {
                        href => href(c),
                        name => c.name,
                        display_name => c.display_name,
                        strategy => label(c.strategy),
                        applications => c.enabled_clients.len(),
                    }
                })
                .collect();
            dash.render(
                StatusCode::OK,
                "dashboard/connections.html",
                SECTION,
                context! { rows },
            )
        }
        Err(error) => dash.fail(SECTION, error),
    }
}

fn label(strategy: Strategy) -> &'static str {
    STRATEGIES
        .iter()
        .find(|(name, _)| *name == strategy.as_str())
        .map_or("", |(_, label)| label)
}

/// The create or edit page; `connection` is the one edited.
async fn page(
    dash: &Dash,
    status: StatusCode,
    connection: Option<&UpstreamConnection>,
    form: ConnectionForm,
    error: Option<FormError>,
) -> Response {
    let apps = match applications(dash, &form.enabled_clients).await {
        Ok(apps) => apps,
        Err(page) => return page,
    };
    let (template, has_secret, base) = match connection {
        Some(c) => (
            "dashboard/connection.html",
            c.sealed_client_secret.is_some(),
            href(c),
        ),
        None => ("dashboard/connection_new.html", false, PATH.to_owned()),
    };
    let strategy_label = connection.map(|c| label(c.strategy));
    // The page sees the connection as the Management API shows it: never its secret.
    let connection = connection.map(UpstreamConnectionShape::from);
    dash.render(
        status,
        template,
        SECTION,
        context! { connection, form, error, apps, has_secret, base, strategy_label, strategies => STRATEGIES },
    )
}

async fn new(dash: Dash) -> Response {
    let form = ConnectionForm {
        strategy: "oidc".into(),
        text: [(
            "scope".to_owned(),
            Value::String("openid profile email".into()),
        )]
        .into_iter()
        .collect(),
        ..ConnectionForm::default()
    };
    page(&dash, StatusCode::OK, None, form, None).await
}

/// The form's refusal as the page shows it.
async fn refused(
    dash: &Dash,
    connection: Option<&UpstreamConnection>,
    form: ConnectionForm,
    error: AdminError,
) -> Response {
    match dash.refusal(error, SECTION, &[]) {
        Ok((status, error)) => page(dash, status, connection, form, Some(error)).await,
        Err(page) => page,
    }
}

async fn create(Posted { dash, form }: Posted) -> Response {
    let submitted = ConnectionForm::submitted(&form);
    let Ok(strategy) = submitted.strategy.parse::<Strategy>() else {
        let error = FormError::at("strategy", "Choose a kind of provider.");
        return page(&dash, StatusCode::BAD_REQUEST, None, submitted, Some(error)).await;
    };
    let options = match submitted.options(form.opt("client_secret")) {
        Ok(options) => options,
        Err(error) => {
            return page(&dash, StatusCode::BAD_REQUEST, None, submitted, Some(error)).await
        }
    };
    let new = NewConnection {
        name: submitted.name.clone(),
        display_name: Some(submitted.display_name.clone()),
        strategy,
        options,
        enabled_clients: submitted.enabled_clients.clone(),
    };
    match upstream::create(&dash.app.cx, &dash.actor(), new).await {
        Ok(connection) => dash.redirect(
            &href(&connection),
            format!("Connection \u{201c}{}\u{201d} created.", connection.name),
        ),
        Err(error) => refused(&dash, None, submitted, error).await,
    }
}

async fn load(dash: &Dash, id: &str) -> Result<UpstreamConnection, Response> {
    let lookup = dash.app.store().upstream_connection_by_id(id).await;
    dash.found(lookup, SECTION, "Connection", PATH)
}

async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(connection) => {
            let form = ConnectionForm::of(&connection);
            page(&dash, StatusCode::OK, Some(&connection), form, None).await
        }
        Err(page) => page,
    }
}

async fn save(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let connection = match load(&dash, &id).await {
        Ok(connection) => connection,
        Err(page) => return page,
    };
    let mut submitted = ConnectionForm::submitted(&form);
    submitted.name = connection.name.clone();
    submitted.strategy = connection.strategy.as_str().to_owned();
    let options = match submitted.options(form.opt("client_secret")) {
        Ok(options) => options,
        Err(error) => {
            let status = StatusCode::BAD_REQUEST;
            return page(&dash, status, Some(&connection), submitted, Some(error)).await;
        }
    };
    let update = ConnectionUpdate {
        display_name: Some(Some(submitted.display_name.clone())),
        options: Some(options),
        enabled_clients: Some(submitted.enabled_clients.clone()),
    };
    match upstream::update(&dash.app.cx, &dash.actor(), &connection.id, update).await {
        Ok(updated) => dash.redirect(&href(&updated), "Connection saved."),
        Err(error) => refused(&dash, Some(&connection), submitted, error).await,
    }
}

async fn delete(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let connection = match load(&dash, &id).await {
        Ok(connection) => connection,
        Err(page) => return page,
    };
    if form.get("confirm") != connection.name {
        let error = FormError::at("confirm", "Type the connection's name to delete it.");
        let form = ConnectionForm::of(&connection);
        let status = StatusCode::BAD_REQUEST;
        return page(&dash, status, Some(&connection), form, Some(error)).await;
    }
    match upstream::delete(&dash.app.cx, &dash.actor(), &connection.id).await {
        Ok(()) => dash.redirect(
            PATH,
            format!("Connection \u{201c}{}\u{201d} deleted.", connection.name),
        ),
        Err(error) => {
            refused(
                &dash,
                Some(&connection),
                ConnectionForm::of(&connection),
                error,
            )
            .await
        }
    }
}
