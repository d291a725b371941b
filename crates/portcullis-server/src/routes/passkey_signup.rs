//! "Sign up with a passkey" on the hosted sign-up page (`POST /u/signup/passkey/options`, then
//! `POST /u/signup/passkey`), also reached from `/authorize?screen_hint=signup`.
//!
//! The page's script posts the typed email for a registration ceremony; the rules of a
//! password sign-up apply there (the connection allows sign-ups, throttling, a valid and free
//! email: `portcullis_core::passkey_signup::start`). The browser's answer is posted back and
//! the account is created with its key only once the key verifies
//! (`portcullis_core::passkey_signup::finish`); a session then starts as after a passkey
//! sign-in, the key counting as both factors (`amr` `["swk", "mfa"]`).

use axum::{extract::State, http::HeaderMap, http::StatusCode, response::Response, Form};
use portcullis_core::{
    accounts::{Requester, SignupError},
    passkey_signup::{self, PasskeySignupError},
};
use portcullis_types::MfaFactor;
use portcullis_web::{retry_after_busy, ClientOrigin};

use crate::{
    routes::{
        login::{form_client, signup_again, signup_refusal},
        mfa::store_failed,
        passkey::signed_in_with_key,
        webauthn_pages::{ceremony_json, ceremony_refused, passkey_setup, KeyForm, OptionsForm},
    },
    state::AppState,
};

/// The relying party, when the tenant enables the kind of key a sign-up's passkey is.
async fn signup_relying_party(
    app: &AppState,
) -> Result<Option<portcullis_core::mfa::webauthn::RelyingParty>, portcullis_store::StoreError> {
    Ok(passkey_setup(app)
        .await?
        .filter(|(_, accepted)| accepted.contains(&MfaFactor::WebauthnPlatform))
        .map(|(rp, _)| rp))
}

/// `POST /u/signup/passkey/options`: the registration options of a new account's passkey.
pub async fn options(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<OptionsForm>,
) -> Response {
    let client = match form_client(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(client) => client,
        Err(page) => return ceremony_refused(page.status(), "Reload the page and try again."),
    };
    let rp = match signup_relying_party(&app).await {
        Ok(Some(rp)) => rp,
        Ok(None) => return ceremony_refused(StatusCode::BAD_REQUEST, "Passkeys are not enabled."),
        Err(error) => {
            tracing::error!(%error, "could not read the MFA settings");
            return ceremony_refused(StatusCode::INTERNAL_SERVER_ERROR, "Please try again.");
        }
    };
    let who = Requester {
        client: &client,
        origin: &origin,
    };
    let started =
        passkey_signup::start(&app.admin.cx, &app.sign_in, &rp, who, form.email.trim()).await;
    match started {
        Ok(started) => ceremony_json(&started),
        Err(error) => {
            if matches!(error, SignupError::Throttled { .. }) {
                app.metrics.login("throttled");
            }
            let (status, message) = signup_refusal(&error);
            let response = ceremony_refused(status, &message);
            if matches!(error, SignupError::Busy) {
                retry_after_busy(response)
            } else {
                response
            }
        }
    }
}

/// `POST /u/signup/passkey`: the new key's answer; the account, then a session.
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
    let again = |status: StatusCode, message: String| {
        let page = (&client, form.authorize_query.as_str());
        let headers = &headers;
        let app = &app;
        async move { signup_again(app, headers, page, "", (status, &message)).await }
    };
    let rp = match signup_relying_party(&app).await {
        Ok(Some(rp)) => rp,
        Ok(None) => {
            return again(StatusCode::BAD_REQUEST, "Passkeys are not enabled.".into()).await
        }
        Err(error) => return store_failed(&app, error, "could not read the MFA settings"),
    };
    let who = Requester {
        client: &client,
        origin: &origin,
    };
    let finished = passkey_signup::finish(&app.admin.cx, &rp, who, form.answer()).await;
    let (user, kind) = match finished {
        Ok(done) => done,
        Err(PasskeySignupError::Refused(refusal)) => {
            tracing::info!(%refusal, "a passkey sign-up was refused");
            return again(
                StatusCode::UNAUTHORIZED,
                "The passkey was not created. Try again, or sign up with a password.".into(),
            )
            .await;
        }
        Err(PasskeySignupError::Signup(error)) => {
            let (status, message) = signup_refusal(&error);
            return again(status, message).await;
        }
    };
    app.metrics.login("signup");
    let page = (&client, &origin);
    signed_in_with_key(&app, &headers, page, &user, kind, &form.authorize_query).await
}
