//! "Sign in with a passkey" on the hosted login page (`POST /u/login/passkey/options`, then
//! `POST /u/login/passkey`).
//!
//! The login page's script fetches a discoverable ceremony when it needs one (no account
//! named: the browser offers the passkeys it holds for this site, in the email field's
//! autofill where it supports conditional mediation, or in its own dialog from the button).
//! Only that fetch, limited per client address like the login form, stores a challenge:
//! showing the page stores nothing. The answer names its
//! credential, hence its owner; once it verifies, a session starts without a password.
//!
//! A passkey sign-in requires user verification (the key's PIN or biometrics), so it is two
//! factors at once: something the person has and something they know or are. The session's
//! `amr` is the key's method and `mfa` (`["swk", "mfa"]` for a platform passkey, `["hwk",
//! "mfa"]` for a security key, RFC 8176), and it counts as having passed the second factor:
//! the MFA step does not ask again.

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use portcullis_core::audit::RequestOrigin;
use portcullis_core::{
    audit,
    mfa::{
        self,
        webauthn::{self, Refusal},
    },
};
use portcullis_store::{Client, MfaOwner, User};
use portcullis_types::{EventType, MfaFactor};
use portcullis_web::ClientOrigin;

use crate::{
    routes::{
        login::{form_client, login_again, without_prompt},
        mfa::store_failed,
        webauthn_pages::{
            ceremony_json, ceremony_refused, enabled_keys, passkey_setup, relying_party, KeyForm,
            OptionsForm,
        },
    },
    session,
    state::AppState,
};

/// `POST /u/login/passkey/options`: a discoverable ceremony's options, for the login page's
/// script.
pub async fn options(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<OptionsForm>,
) -> Response {
    if let Err(page) = form_client(&app, &headers, &form.authorize_query, &form.csrf).await {
        return ceremony_refused(page.status(), "Reload the page and try again.");
    }
    let rp = match passkey_setup(&app).await {
        Ok(Some((rp, _))) => rp,
        Ok(None) => return ceremony_refused(StatusCode::BAD_REQUEST, "Passkeys are not enabled."),
        Err(error) => {
            tracing::error!(%error, "could not read the MFA settings");
            return ceremony_refused(StatusCode::INTERNAL_SERVER_ERROR, "Please try again.");
        }
    };
    match webauthn::start_sign_in(&rp, app.store.as_ref(), app.clock.now()).await {
        Ok(started) => ceremony_json(&started),
        Err(error) => {
            tracing::error!(%error, "could not start a passkey sign-in");
            ceremony_refused(StatusCode::INTERNAL_SERVER_ERROR, "Please try again.")
        }
    }
}

pub async fn post(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let client = match form_client(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(client) => client,
        Err(page) => return page,
    };
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => return store_failed(&app, error, "could not read the MFA settings"),
    };
    let accepted = enabled_keys(&settings);
    let refused = |status: StatusCode, message: &'static str| {
        login_again(
            &app,
            &headers,
            &client,
            &form.authorize_query,
            status,
            message,
        )
    };
    let Some(rp) = relying_party(&app).filter(|_| !accepted.is_empty()) else {
        return refused(StatusCode::BAD_REQUEST, "Passkeys are not enabled.").await;
    };
    let now = app.clock.now();
    let signed_in =
        webauthn::finish_sign_in(&rp, app.store.as_ref(), &accepted, form.answer(), now).await;
    let failed = |description: &'static str| {
        audit::entry(EventType::FailedLogin, description)
            .client(&client)
            .origin(&origin)
    };
    let key = match signed_in {
        Ok(key) => key,
        Err(Refusal::Failed(error)) => {
            return store_failed(&app, error, "could not finish a passkey sign-in")
        }
        Err(refusal) => {
            tracing::info!(%refusal, "a passkey sign-in was refused");
            app.metrics.login("failure");
            app.audit(failed("Passkey refused")).await;
            return refused(
                StatusCode::UNAUTHORIZED,
                "That passkey was not accepted. Try again, or use your password.",
            )
            .await;
        }
    };
    let MfaOwner::User(user_id) = &key.owner else {
        return refused(StatusCode::UNAUTHORIZED, "That passkey was not accepted.").await;
    };
    let user = match app.store.user_by_id(user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return refused(StatusCode::UNAUTHORIZED, "That passkey was not accepted.").await
        }
        Err(error) => return store_failed(&app, error, "could not read a passkey's user"),
    };
    if user.blocked {
        app.metrics.login("blocked");
        app.audit(failed("User is blocked").user(&user)).await;
        return refused(StatusCode::UNAUTHORIZED, "This account is blocked.").await;
    }
    signed_in_with_key(
        &app,
        &headers,
        (&client, &origin),
        &user,
        key.kind,
        &form.authorize_query,
    )
    .await
}

/// A session for `user`, who just proved a key of `kind` (signing in or up with a passkey):
/// the key is both factors, the login is logged, and the browser goes back to `/authorize`
/// with the page's authorization request `query`.
pub(crate) async fn signed_in_with_key(
    app: &AppState,
    headers: &HeaderMap,
    (client, origin): (&Client, &RequestOrigin),
    user: &User,
    kind: MfaFactor,
    query: &str,
) -> Response {
    let now = app.clock.now();
    let amr = mfa::amr_after(&[kind.method()], kind);
    let cookie = match session::start_with(app, headers, user, amr, Some(now)).await {
        Ok(cookie) => cookie,
        Err(error) => return store_failed(app, error, "could not start a session"),
    };
    app.metrics.login("success");
    app.audit(
        audit::entry(EventType::Login, "Successful login")
            .client(client)
            .user(user)
            .origin(origin)
            .details(serde_json::json!({ "factor": kind.as_str(), "passkey": true })),
    )
    .await;
    tracing::info!(user_id = %user.user_id, client_id = %client.client_id, "passkey login");
    let mut response =
        Redirect::to(&format!("/authorize?{}", without_prompt(query))).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
