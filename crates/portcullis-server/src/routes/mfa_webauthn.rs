//! WebAuthn keys on the second-factor pages (`/u/mfa`): the ceremonies the pages carry, and
//! the form (`POST /u/mfa/webauthn`) that posts the browser's answer.
//!
//! A page that offers a key starts its ceremony when it is rendered (the options ride in the
//! page, so its script needs no request of its own: the pages' policy allows no `fetch`). The
//! script calls `navigator.credentials` and posts the answer as a plain form, CSRF-protected
//! and carrying the authorization request like the code forms. On the code page the ceremony
//! authenticates one of the user's keys; on the enrolment page one ceremony per kind the
//! tenant enables registers a new key. A key's assertion counts on the brute-force counters
//! like a code (`SignIn::check_code`), although it cannot be guessed.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
    Form,
};
use portcullis_core::{
    audit,
    mfa::{
        enrol,
        webauthn::{self, Refusal},
        Requirement,
    },
};
use portcullis_store::MfaOwner;
use portcullis_types::{EventType, MfaFactor};
use portcullis_web::ClientOrigin;

use crate::{
    routes::{
        mfa::{self, attempt, back_to_authorize, passed, recovery_page, refused, store_failed},
        mfa_gate::requirement,
        webauthn_pages::{enabled_keys, relying_party, KeyForm},
    },
    session::LoginCsrf,
    state::AppState,
};

pub async fn post(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Response {
    let signed = match mfa::submitted(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let Some(rp) = relying_party(&app) else {
        return back_to_authorize(&form.authorize_query);
    };
    let needed = match requirement(&app, &signed.user, signed.asked).await {
        Ok(needed) => needed,
        Err(error) => return store_failed(&app, error, "could not tell what a login needs"),
    };
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => return store_failed(&app, error, "could not read the MFA settings"),
    };
    let owner = MfaOwner::User(signed.user.user_id.clone());
    let store = app.store.as_ref();
    let session = Some(signed.session.id_hash.as_slice());
    let now = app.clock.now();
    let shown = (form.authorize_query.as_str(), false);
    match needed {
        Requirement::Challenge => {
            let accepted = enabled_keys(&settings);
            let checked = app
                .sign_in
                .check_code(store, attempt(&app, &signed.user, &origin), || async {
                    webauthn::finish_authentication(
                        &rp,
                        store,
                        &owner,
                        &accepted,
                        form.answer(),
                        session,
                        now,
                    )
                    .await
                    .map(Some)
                    .or_else(Refusal::counted)
                })
                .await;
            let factor = match checked {
                Ok(factor) => factor,
                Err(error) => return refused(&app, &signed, &origin, &headers, shown, error).await,
            };
            let event = (EventType::MfaSucceeded, "Second factor accepted");
            match passed(&app, &signed, &origin, factor, event).await {
                Ok(()) => back_to_authorize(&form.authorize_query),
                Err(page) => page,
            }
        }
        // Only a user without a usable factor enrols here: the password alone must not add one.
        Requirement::Enrol => {
            let registered = webauthn::finish_registration(
                &rp,
                store,
                (&owner, None),
                form.answer(),
                session,
                now,
            )
            .await;
            let key = match registered {
                Ok(key) => key,
                Err(Refusal::Failed(error)) => {
                    return store_failed(&app, error, "could not enrol a WebAuthn key")
                }
                Err(refusal) => {
                    tracing::info!(%refusal, "a WebAuthn enrolment was refused");
                    app.audit(
                        audit::entry(EventType::MfaFailed, "Security key enrolment refused")
                            .client(&signed.client)
                            .user(&signed.user)
                            .origin(&origin),
                    )
                    .await;
                    let csrf = LoginCsrf::of(&app, &headers);
                    let message = "The security key or passkey was not accepted. Try again.";
                    return mfa::show(
                        &app,
                        &signed,
                        &csrf,
                        &form.authorize_query,
                        Some(message),
                        StatusCode::UNAUTHORIZED,
                        false,
                    )
                    .await;
                }
            };
            let event = (EventType::MfaEnrolled, "Security key enrolled");
            if let Err(page) = passed(&app, &signed, &origin, key.kind, event).await {
                return page;
            }
            let codes = if settings.is_enabled(MfaFactor::RecoveryCode) {
                match enrol::issue_recovery_codes(store, &owner, now).await {
                    Ok(codes) => codes,
                    Err(error) => {
                        return store_failed(&app, error, "could not issue recovery codes")
                    }
                }
            } else {
                Vec::new()
            };
            recovery_page(&app, &form.authorize_query, codes)
        }
        Requirement::None | Requirement::Unavailable => back_to_authorize(&form.authorize_query),
    }
}
