//! "Sign in with a passkey" on the hosted login page (`POST /u/login/passkey`).
//!
//! The login page carries a discoverable ceremony (no account named: the browser offers the
//! passkeys it holds for this site, in the email field's autofill where it supports
//! conditional mediation, or in its own dialog from the button). The answer names its
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
use portcullis_core::{
    audit,
    mfa::{
        self,
        webauthn::{self, Refusal},
    },
};
use portcullis_store::MfaOwner;
use portcullis_types::EventType;
use portcullis_web::ClientOrigin;

use crate::{
    routes::{
        login::{form_client, login_again, without_prompt},
        mfa::store_failed,
        webauthn_pages::{enabled_keys, relying_party, KeyForm},
    },
    session,
    state::AppState,
};

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
    let amr = mfa::amr_after(&[key.kind.method()], key.kind);
    let cookie = match session::start_with(&app, &headers, &user, amr, Some(now)).await {
        Ok(cookie) => cookie,
        Err(error) => return store_failed(&app, error, "could not start a session"),
    };
    app.metrics.login("success");
    app.audit(
        audit::entry(EventType::Login, "Successful login")
            .client(&client)
            .user(&user)
            .origin(&origin)
            .details(serde_json::json!({ "factor": key.kind.as_str(), "passkey": true })),
    )
    .await;
    tracing::info!(user_id = %user.user_id, client_id = %client.client_id, "passkey login");
    let mut response = Redirect::to(&format!(
        "/authorize?{}",
        without_prompt(&form.authorize_query)
    ))
    .into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
