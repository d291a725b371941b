//! The APIs tab of an application: the client grants of a machine-to-machine application.

use axum::{extract::Path, http::StatusCode, response::Response};
use minijinja::context;
use portcullis_core::admin::{grants, AdminError, Kind};
use portcullis_store::{Client, ClientGrant, Page, StoreError};
use portcullis_types::GrantType;
use serde::Serialize;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    form::FormData,
    view::FormError,
};

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

async fn grants_tab(
    dash: &Dash,
    status: StatusCode,
    client: &Client,
    error: Option<FormError>,
) -> Response {
    let store = dash.app.store();
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
        context! { cards, choices, error, machine => client.allows_grant(GrantType::ClientCredentials) },
    )
}

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    match load(&dash, &id).await {
        Ok(client) => grants_tab(&dash, StatusCode::OK, &client, None).await,
        Err(page) => page,
    }
}

pub(super) async fn grant(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let client = match load(&dash, &id).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let audience = form.get("audience");
    let created = grants::create(
        &dash.app.cx,
        &dash.actor(),
        &client.client_id,
        audience,
        Vec::new(),
    )
    .await;
    match created {
        Ok(_) => dash.redirect(
            &href(&client, "apis"),
            "API authorized. Choose the scopes the application may get.",
        ),
        Err(AdminError::NotFound(Kind::Api)) => {
            let error = FormError::at("audience", format!("no API has the identifier {audience}"));
            grants_tab(&dash, StatusCode::BAD_REQUEST, &client, Some(error)).await
        }
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((_, error)) => {
                let error = FormError::at("audience", error.message);
                grants_tab(&dash, StatusCode::BAD_REQUEST, &client, Some(error)).await
            }
            Err(page) => page,
        },
    }
}

/// The application of the path and the grant of the form's `grant_id`, when it belongs to
/// that application; or the page to answer instead.
async fn client_grant(
    dash: &Dash,
    client_id: &str,
    form: &FormData,
) -> Result<(Client, ClientGrant), Response> {
    let client = load(dash, client_id).await?;
    let id = form.get("grant_id");
    match dash.app.store().list_client_grants(Page::ALL).await {
        Ok((grants, _)) => grants
            .into_iter()
            .find(|grant| grant.id == id && grant.client_id == client.client_id)
            .map(|grant| (client.clone(), grant))
            .ok_or_else(|| dash.not_found(SECTION, "Client grant", &href(&client, "apis"))),
        Err(error) => Err(dash.fail(SECTION, error)),
    }
}

pub(super) async fn update(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let (client, grant) = match client_grant(&dash, &id, &form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match grants::update(&dash.app.cx, &dash.actor(), &grant.id, form.all("scope")).await {
        Ok(_) => dash.redirect(&href(&client, "apis"), "Scopes saved."),
        Err(AdminError::NotFound(_)) => {
            dash.not_found(SECTION, "Client grant", &href(&client, "apis"))
        }
        Err(error) => match dash.refusal(error, SECTION, &[]) {
            Ok((status, error)) => grants_tab(&dash, status, &client, Some(error)).await,
            Err(page) => page,
        },
    }
}

pub(super) async fn revoke(Path(id): Path<String>, Posted { dash, form }: Posted) -> Response {
    let (client, grant) = match client_grant(&dash, &id, &form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    match grants::delete(&dash.app.cx, &dash.actor(), &grant.id).await {
        Ok(()) | Err(AdminError::NotFound(_)) => {
            dash.redirect(&href(&client, "apis"), "Access to the API revoked.")
        }
        Err(error) => dash.fail(SECTION, error),
    }
}
