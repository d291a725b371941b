//! Signing in at another identity provider: `/authorize?connection=NAME` sends the browser to
//! the connection's provider ([`begin`]), and the provider sends it back to `/login/callback`
//! (Auth0's path, [`callback`]). The sign-in's `state`, `nonce` and PKCE verifier are stored
//! server-side under the state's hash, for ten minutes, and taken once; the state is also
//! kept in a cookie of the browser that started it, so that nobody can finish a sign-in in
//! someone else's browser. A refused answer is a page that says why, and creates nobody; a
//! good one becomes a Portcullis session, and the authorization request continues exactly as
//! after a password. The provider's tokens never reach the application.

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use portcullis_core::{
    audit::{self, RequestOrigin},
    federation::{self, settings, Settings, TRANSACTION_SECONDS},
    secrets::lookup_hash,
};
use portcullis_store::{Client, UpstreamConnection, UpstreamTransaction};
use portcullis_types::{EventType, Secret};
use portcullis_web::ClientOrigin;
use serde::Deserialize;

use crate::{
    error::OAuthError,
    routes::authorize_request as authorize,
    session::{self, clear_cookie, set_cookie},
    state::AppState,
    templates::ConnectionButton,
    upstream::{self, Pending},
};

/// The cookie holding the state of the browser's sign-in under way.
const STATE_COOKIE: &str = "portcullis_upstream_state";

/// The callback's path (Auth0's).
pub const CALLBACK_PATH: &str = "login/callback";

/// A connection's button on the login page.
pub type Button = ConnectionButton;

/// The authorization request minus `prompt`: having just logged in, `prompt=login` is honoured.
pub(crate) fn without_prompt(query: &str) -> String {
    let pairs = url::form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key != "prompt");
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A 302 to the provider.
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

/// The connections enabled for `client`, as buttons that restart the authorization request
/// (`query`) with `connection=`. They come from the replica's tenant cache: every login page
/// shows them, and a change reaches it as any other tenant change does.
pub async fn buttons(app: &AppState, client: &Client, query: &str) -> Vec<Button> {
    let connections = match app.tenant.connections(app.store.as_ref()).await {
        Ok(connections) => connections,
        Err(error) => {
            tracing::error!(%error, "could not list the connections");
            return Vec::new();
        }
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key != "connection")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    connections
        .iter()
        .filter(|c| c.enabled_clients.contains(&client.client_id))
        .map(|c| {
            let href = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .append_pair("connection", &c.name)
                .finish();
            Button {
                label: c.display_name.clone().unwrap_or_else(|| c.name.clone()),
                href: format!("/authorize?{href}"),
            }
        })
        .collect()
}

fn error_page(app: &AppState, status: StatusCode, message: &str) -> Response {
    app.templates
        .message(status, "Sign-in failed", message, None)
}

/// The connection of this name, when it exists and is enabled for `client` (from the tenant
/// cache, like the buttons).
pub async fn enabled(
    app: &AppState,
    client: &Client,
    name: &str,
) -> Result<Option<UpstreamConnection>, portcullis_store::StoreError> {
    Ok(app
        .tenant
        .connections(app.store.as_ref())
        .await?
        .iter()
        .find(|c| c.name == name && c.enabled_clients.contains(&client.client_id))
        .cloned())
}

/// The connection's checked settings and its client secret, or the page a person sees when
/// the connection's stored settings cannot be read (the cause goes to the log).
#[allow(clippy::result_large_err)] // The error is the page itself, answered at once.
fn settings_of(
    app: &AppState,
    connection: &UpstreamConnection,
) -> Result<(Settings, Option<Secret>), Response> {
    let read = settings::read(connection.strategy, &connection.options)
        .map_err(|e| e.to_string())
        .and_then(|settings| {
            federation::open_client_secret(&app.admin.cx.key_cipher, connection)
                .map(|secret| (settings, secret))
                .map_err(|e| e.to_string())
        });
    read.map_err(|error| {
        tracing::error!(connection = %connection.name, %error, "connection settings");
        error_page(
            app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "This connection is misconfigured.",
        )
    })
}

/// Answers the application of the authorization request `query` with `error`, as
/// `/authorize` would.
async fn to_application(app: &AppState, query: &str, error: OAuthError) -> Response {
    let destination = match authorize::parse_params(query) {
        Ok(params) => authorize::resolve_destination(app, &params).await,
        Err(message) => return error_page(app, StatusCode::BAD_REQUEST, &message),
    };
    match destination {
        Ok((_, destination)) => authorize::deliver_error(app, &destination, error),
        Err(page) => page,
    }
}

/// Starts a sign-in at the connection's provider for the authorization request `query`.
pub async fn begin(app: &AppState, connection: &UpstreamConnection, query: &str) -> Response {
    let (settings, secret) = match settings_of(app, connection) {
        Ok(found) => found,
        Err(page) => return page,
    };
    let redirect_uri = app.settings.endpoint(CALLBACK_PATH);
    let started = match upstream::start(&settings, secret.as_ref(), &redirect_uri).await {
        Ok(started) => started,
        Err(error) => {
            tracing::warn!(connection = %connection.name, %error, "the provider could not be reached");
            return error_page(
                app,
                StatusCode::BAD_GATEWAY,
                &format!("{} cannot be reached: {error}", connection.name),
            );
        }
    };
    let now = app.clock.now();
    let transaction = UpstreamTransaction {
        state_hash: lookup_hash(&started.state),
        connection_id: connection.id.clone(),
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        authorize_query: query.to_owned(),
        expires_at: now + TRANSACTION_SECONDS,
    };
    if let Err(error) = app
        .store
        .insert_upstream_transaction(&transaction, now)
        .await
    {
        tracing::error!(%error, "could not store a sign-in");
        return error_page(
            app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong. Please try again.",
        );
    }
    let mut response = found(&started.url);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, STATE_COOKIE, &started.state, Some(TRANSACTION_SECONDS)),
    );
    response
}

/// The provider's answer.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /login/callback`.
pub async fn callback(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Query(answer): Query<CallbackQuery>,
) -> Response {
    let mut response = finish_sign_in(&app, &origin, &headers, answer).await;
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(&app, STATE_COOKIE));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn finish_sign_in(
    app: &AppState,
    origin: &RequestOrigin,
    headers: &HeaderMap,
    answer: CallbackQuery,
) -> Response {
    let refuse = |message: &str| error_page(app, StatusCode::BAD_REQUEST, message);
    let Some(state) = answer.state.filter(|s| !s.is_empty()) else {
        return refuse("The provider's answer has no state.");
    };
    // The state must be this browser's: a sign-in started elsewhere is not finished here.
    let ours = session::cookie(app, headers, STATE_COOKIE);
    if ours.as_deref().map(str::as_bytes) != Some(state.as_bytes()) {
        return refuse("This sign-in was not started in this browser, or it has expired. Start again from the application.");
    }
    let now = app.clock.now();
    let transaction =
        match app
            .store
            .take_upstream_transaction(&lookup_hash(&state), now)
            .await
        {
            Ok(Some(transaction)) => transaction,
            Ok(None) => return refuse(
                "This sign-in has expired or was already used. Start again from the application.",
            ),
            Err(error) => {
                tracing::error!(%error, "could not read a sign-in");
                return error_page(
                    app,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong. Please try again.",
                );
            }
        };
    let connection = match app
        .store
        .upstream_connection_by_id(&transaction.connection_id)
        .await
    {
        Ok(Some(connection)) => connection,
        Ok(None) => return refuse("This connection no longer exists."),
        Err(error) => {
            tracing::error!(%error, "could not read a connection");
            return error_page(
                app,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    let failed = |description: String| {
        audit::entry(EventType::FailedLogin, description)
            .origin(origin)
            .details(serde_json::json!({ "connection": connection.name }))
    };
    if let Some(error) = answer.error {
        let described = answer.error_description.unwrap_or_default();
        tracing::info!(connection = %connection.name, %error, "the provider refused the sign-in");
        app.audit(failed(format!("The provider refused the sign-in: {error}")))
            .await;
        let message = format!(
            "{} refused the sign-in ({error}). {described}",
            connection.name
        );
        return error_page(app, StatusCode::FORBIDDEN, message.trim());
    }
    let Some(code) = answer.code.filter(|c| !c.is_empty()) else {
        return refuse("The provider's answer has no code.");
    };
    let (settings, secret) = match settings_of(app, &connection) {
        Ok(found) => found,
        Err(page) => return page,
    };
    let redirect_uri = app.settings.endpoint(CALLBACK_PATH);
    let pending = Pending {
        code: &code,
        nonce: &transaction.nonce,
        pkce_verifier: &transaction.pkce_verifier,
        redirect_uri: &redirect_uri,
    };
    let checked = match upstream::finish(&settings, secret.as_ref(), pending).await {
        Ok(checked) => checked,
        Err(error) => {
            tracing::warn!(connection = %connection.name, %error, "a provider's answer was refused");
            app.audit(failed(format!(
                "The provider's answer was refused: {error}"
            )))
            .await;
            return refuse(&format!(
                "The answer of {} was refused: {error}",
                connection.name
            ));
        }
    };
    let amr = federation::session_amr(&settings, &checked.claims);
    let user = match federation::sign_in(&app.admin.cx, &connection, &settings, checked).await {
        Ok(user) => user,
        Err(federation::FederationError::NoSubject) => {
            return refuse("The provider's answer names no user.")
        }
        Err(federation::FederationError::Blocked) => {
            app.metrics.login("blocked");
            let entry = audit::entry(EventType::FailedLoginBlocked, "User is blocked")
                .origin(origin)
                .details(serde_json::json!({ "connection": connection.name }));
            app.audit(entry).await;
            return to_application(app, &transaction.authorize_query, OAuthError::blocked()).await;
        }
        Err(error) => {
            tracing::error!(%error, "could not sign a provider's user in");
            return error_page(
                app,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    let cookie = match session::start_with(app, headers, &user, amr, None).await {
        Ok(cookie) => cookie,
        Err(error) => {
            tracing::error!(%error, "could not start a session");
            return error_page(
                app,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    app.metrics.login("success");
    app.audit(
        audit::entry(EventType::Login, "Successful login")
            .user(&user)
            .origin(origin)
            .details(serde_json::json!({ "connection": connection.name })),
    )
    .await;
    tracing::info!(user_id = %user.user_id, connection = %connection.name, "login at a provider");
    let mut response = Redirect::to(&format!(
        "/authorize?{}",
        without_prompt(&transaction.authorize_query)
    ))
    .into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}
