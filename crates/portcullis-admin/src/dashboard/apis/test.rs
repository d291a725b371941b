//! The Test tab of an API, as Auth0's: the API's test application (created on request), a
//! token minted for it the way the token endpoint mints one, and the curl lines that use it.

use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use minijinja::context;
use portcullis_core::{admin::test_application, authz, tokens::AccessRequest};
use portcullis_store::Client;
use portcullis_types::EventType;
use serde_json::json;

use super::{href, load, tab, SECTION};
use crate::dashboard::{
    auth::{Dash, Posted},
    paths,
};

/// Where the sample API of the quickstarts listens: the Test tab's example call.
const SAMPLE_API_URL: &str = "http://localhost:3001/api/private";

pub(super) async fn show(dash: Dash, Path(id): Path<String>) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let app = &dash.app;
    let (client, grant) = match test_application::find(&app.cx, &api).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return tab(
                &dash,
                StatusCode::OK,
                &api,
                "test",
                context! { client => None::<Client> },
            )
        }
        Err(error) => return dash.fail(SECTION, error),
    };
    let scope = authz::machine_token_scopes(None, &grant, &api);
    let subject = format!("{}@clients", client.client_id);
    let minted = app
        .minter()
        .access_token(AccessRequest {
            subject: &subject,
            user: None,
            client: &client,
            api: Some(&api),
            scope: &scope,
            for_browser: false,
            client_credentials: true,
            amr: &[],
            dpop_jkt: None,
        })
        .await;
    let token = match minted {
        Ok(token) => token,
        Err(error) => return dash.fail(SECTION, error),
    };
    app.audit(
        dash.entry(
            EventType::ClientCredentials,
            "Test token issued from the dashboard",
        )
        .client(&client)
        .details(json!({
            "api": "dashboard",
            "admin": { "id": dash.admin.id, "email": dash.admin.email },
            "audience": api.identifier,
            "scope": scope.to_string(),
        })),
    )
    .await;
    let token_request = json!({
        "client_id": client.client_id,
        "client_secret": "YOUR_CLIENT_SECRET",
        "audience": api.identifier,
        "grant_type": "client_credentials",
    })
    .to_string();
    let token_curl = format!(
        "curl --request POST \\\n  --url {} \\\n  --header 'content-type: application/json' \\\n  --data '{token_request}'",
        app.settings.endpoint("oauth/token")
    );
    let response = serde_json::to_string_pretty(&json!({
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": token.expires_in,
        "scope": scope.to_string(),
    }))
    .unwrap_or_default();
    let api_curl = format!(
        "curl --request GET \\\n  --url {SAMPLE_API_URL} \\\n  --header 'authorization: Bearer {}'",
        token.token
    );
    tab(
        &dash,
        StatusCode::OK,
        &api,
        "test",
        context! {
            client,
            client_href => paths::application(&client.client_id, "settings"),
            token => token.token,
            scope => scope.to_string(),
            token_curl,
            response,
            api_curl,
        },
    )
}

pub(super) async fn create_application(
    Path(id): Path<String>,
    Posted { dash, .. }: Posted,
) -> Response {
    let api = match load(&dash, &id).await {
        Ok(api) => api,
        Err(page) => return page,
    };
    let app = &dash.app;
    match test_application::find(&app.cx, &api).await {
        Ok(Some(_)) => return Redirect::to(&href(&api, "test")).into_response(),
        Ok(None) => {}
        Err(error) => return dash.fail(SECTION, error),
    }
    match test_application::create(&app.cx, &dash.actor(), &api).await {
        Ok(_) => dash.redirect(&href(&api, "test"), "Test application created."),
        Err(error) => dash.fail(SECTION, error),
    }
}
