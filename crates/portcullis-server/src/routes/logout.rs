//! Logout: Auth0's `/v2/logout` (`returnTo`, `client_id`) and OIDC RP-initiated logout at
//! `/oidc/logout` (`post_logout_redirect_uri`, `id_token_hint`, `state`).

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_store::{Client, Page};
use serde::Deserialize;

use portcullis_web::ClientOrigin;

use crate::{session, state::AppState};

#[derive(Debug, Deserialize)]
pub struct V2LogoutParams {
    #[serde(rename = "returnTo")]
    return_to: Option<String>,
    client_id: Option<String>,
}

/// Whether `url` is registered as a logout URL (trailing slashes are not significant, since
/// the samples send `window.location.origin`).
fn allowed(clients: &[Client], url: &str) -> bool {
    clients
        .iter()
        .flat_map(|c| &c.allowed_logout_urls)
        .any(|u| u.trim_end_matches('/') == url.trim_end_matches('/'))
}

async fn candidate_clients(
    app: &AppState,
    client_id: Option<&str>,
) -> Result<Vec<Client>, Response> {
    let result = match client_id.filter(|c| !c.is_empty()) {
        Some(id) => app
            .tenant
            .client(app.store.as_ref(), id)
            .await
            .map(|c| c.into_iter().collect()),
        None => app
            .store
            .list_clients(Page::ALL)
            .await
            .map(|(clients, _)| clients),
    };
    result.map_err(|error| {
        tracing::error!(%error, "logout: could not load clients");
        app.templates.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Please try again.",
            None,
        )
    })
}

fn finish(app: &AppState, clear: axum::http::HeaderValue, target: Option<String>) -> Response {
    let mut response = match target {
        Some(url) => Redirect::to(&url).into_response(),
        None => app.templates.message(
            StatusCode::OK,
            "Logged out",
            "You are logged out. You can close this window.",
            None,
        ),
    };
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

pub async fn v2(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Query(params): Query<V2LogoutParams>,
) -> Response {
    let clear = session::end(&app, &headers, &origin).await;
    let Some(return_to) = params.return_to.filter(|r| !r.is_empty()) else {
        return finish(&app, clear, None);
    };
    let clients = match candidate_clients(&app, params.client_id.as_deref()).await {
        Ok(clients) => clients,
        Err(page) => return page,
    };
    if !allowed(&clients, &return_to) {
        let mut page = app.templates.message(
            StatusCode::BAD_REQUEST,
            "Logged out",
            "You are logged out, but the returnTo URL is not in the application's Allowed Logout URLs, so you were not sent back.",
            Some("invalid_request"),
        );
        page.headers_mut().append(header::SET_COOKIE, clear);
        return page;
    }
    finish(&app, clear, Some(return_to))
}

#[derive(Debug, Deserialize)]
pub struct OidcLogoutParams {
    post_logout_redirect_uri: Option<String>,
    id_token_hint: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

pub async fn oidc(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Query(params): Query<OidcLogoutParams>,
) -> Response {
    let clear = session::end(&app, &headers, &origin).await;
    let Some(target) = params.post_logout_redirect_uri.filter(|r| !r.is_empty()) else {
        return finish(&app, clear, None);
    };
    // The client comes from client_id or from the audience of a valid ID token hint.
    let hinted = params
        .id_token_hint
        .as_deref()
        .and_then(|hint| hint_audience(&app, hint));
    let client_id = params.client_id.clone().or(hinted);
    let Some(client_id) = client_id else {
        let mut page = app.templates.message(StatusCode::BAD_REQUEST, "Logged out", "You are logged out. A post_logout_redirect_uri needs client_id or a valid id_token_hint.", Some("invalid_request"));
        page.headers_mut().append(header::SET_COOKIE, clear);
        return page;
    };
    let clients = match candidate_clients(&app, Some(&client_id)).await {
        Ok(clients) => clients,
        Err(page) => return page,
    };
    if !allowed(&clients, &target) {
        let mut page = app.templates.message(
            StatusCode::BAD_REQUEST,
            "Logged out",
            "You are logged out, but the post_logout_redirect_uri is not registered.",
            Some("invalid_request"),
        );
        page.headers_mut().append(header::SET_COOKIE, clear);
        return page;
    }
    let mut url = match url::Url::parse(&target) {
        Ok(url) => url,
        Err(_) => return finish(&app, clear, None),
    };
    if let Some(state) = params.state {
        url.query_pairs_mut().append_pair("state", &state);
    }
    finish(&app, clear, Some(url.to_string()))
}

/// The client an ID token we signed was issued to (expiry is not checked: hints may be old).
fn hint_audience(app: &AppState, token: &str) -> Option<String> {
    app.keys.id_token_hint_audience(token, &app.settings.issuer)
}
