//! The second step of an administrator's dashboard sign-in (`/dashboard/mfa`), and the TOTP
//! enrolment it shares with the administrator's account page.
//!
//! After the password, an administrator who has a factor, or who must have one
//! (`portcullis_core::admin::mfa::admins_required`), gets a session marked `mfa_pending`:
//! every other dashboard page and form sends it here ([`super::auth::Dash`]), and only this
//! step and sign-out accept it ([`super::auth::Pending`]). The step offers the kinds of factor
//! the administrator has (`admin_factor_kinds`): their passkey or security key, a code from
//! their authenticator app, a recovery code; without a factor under the mandatory setting, they
//! enrol an authenticator app or a key on the spot. Codes are checked by
//! `portcullis_core::mfa::verify` and enrolled by `portcullis_core::mfa::enrol`, keys by the
//! ceremonies of [`super::admin_keys`]: the users' own code with an administrator as the
//! owner. Codes and keys' assertions count on the dashboard's brute-force counters
//! (`Realm::Dashboard`).

use axum::{
    extract::RawQuery,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};
use minijinja::context;
use portcullis_core::{
    mfa::{
        admin::{admin_factor_kinds, ADMIN_FACTORS},
        enrol::{self, Confirmed, Label},
        totp::Provisioning,
        verify::{self, Proof},
        webauthn::{is_webauthn, Refusal, Started},
        MfaError, Requirement,
    },
    sign_in::{CodeAttempt, Realm, SignInError},
};
use portcullis_store::{Admin, MfaOwner};
use portcullis_types::{EventType, MfaFactor};
use serde::Serialize;
use serde_json::json;

use super::{
    admin_keys::{self, KeyOffer},
    auth::{safe_next, Dash, Pending, PendingPosted, Posted},
    form::FormData,
    mfa_step::{requirement, step_url},
    view::Section,
};
use crate::state::AdminState;

pub fn routes() -> Router<AdminState> {
    Router::new()
        .route("/mfa", get(show).post(check))
        .route("/mfa/enrol", post(enrol_on_the_spot))
        .route("/mfa/webauthn", post(check_key))
        .route("/mfa/enrol/webauthn", post(enrol_key_on_the_spot))
}

fn owner(admin: &Admin) -> MfaOwner {
    MfaOwner::Admin(admin.id.clone())
}

/// The administrator's TOTP enrolment under way (a reloaded page shows the same key), labelled
/// with the dashboard's host and their email.
pub async fn provisioning(dash: &Dash) -> Result<Provisioning, MfaError> {
    let app = &dash.app;
    let host = url::Url::parse(&app.settings.issuer)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Portcullis".to_owned());
    let issuer = format!("{host} dashboard");
    let label = Label {
        issuer: &issuer,
        account: &dash.admin.email,
    };
    enrol::totp_enrolment(
        app.store(),
        &app.cx.key_cipher,
        &owner(&dash.admin),
        label,
        app.clock().now(),
    )
    .await
}

/// A code typed by the administrator, counted like a dashboard password attempt.
fn attempt(dash: &Dash) -> CodeAttempt<'_> {
    CodeAttempt {
        realm: Realm::Dashboard,
        identifier: &dash.admin.email,
        ip: dash.origin.throttled_ip(),
        now: dash.app.clock().now(),
    }
}

/// Confirms the administrator's enrolment with its first code; administrators always get
/// recovery codes (their way back in without the app, before another administrator).
pub async fn confirm(dash: &Dash, code: &str) -> Result<Confirmed, SignInError> {
    let app = &dash.app;
    let confirmed = enrol::confirm_totp(
        app.store(),
        &app.cx.key_cipher,
        &app.sign_in,
        &owner(&dash.admin),
        attempt(dash),
        code,
        ADMIN_FACTORS.contains(&MfaFactor::RecoveryCode),
    )
    .await?;
    dash.app
        .audit(
            dash.entry(
                EventType::MfaEnrolled,
                "Administrator enrolled an authenticator app",
            )
            .details(json!({ "api": "dashboard" })),
        )
        .await;
    Ok(confirmed)
}

/// What a refused code shows, and its status; the failure is logged (a throttled one once).
pub async fn refused_code(dash: &Dash, error: SignInError) -> (StatusCode, &'static str) {
    let (status, text, event) = match error {
        SignInError::WrongCredentials { .. } => (
            StatusCode::UNAUTHORIZED,
            "That code is not right, or it was used already.",
            Some((
                EventType::MfaFailed,
                "Wrong administrator second-factor code",
            )),
        ),
        SignInError::Throttled { first } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts. Wait a few minutes and try again.",
            first.then_some((
                EventType::MfaThrottled,
                "Too many wrong administrator second-factor codes",
            )),
        ),
        other => {
            tracing::error!(error = %other, "an administrator's code could not be checked");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
                None,
            )
        }
    };
    if let Some((event_type, description)) = event {
        dash.app
            .audit(
                dash.entry(event_type, description)
                    .details(json!({ "api": "dashboard" })),
            )
            .await;
    }
    (status, text)
}

#[derive(Serialize)]
struct StepPage<'a> {
    csrf: &'a str,
    email: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    recovery_open: bool,
    /// The administrator has an authenticator app (the code form is shown).
    otp: bool,
    /// The authentication ceremony of the administrator's keys, when they have one.
    key: Option<Started>,
    secret: Option<String>,
    qr_data_uri: Option<String>,
    /// Enrolment: a registration ceremony per kind of key.
    keys: Vec<KeyOffer>,
}

/// The step's page: the code form, or the enrolment form.
async fn page(
    dash: &Dash,
    needed: Requirement,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
    recovery_open: bool,
) -> Response {
    let mut page = StepPage {
        csrf: dash.csrf(),
        email: &dash.admin.email,
        next,
        error,
        recovery_open,
        otp: false,
        key: None,
        secret: None,
        qr_data_uri: None,
        keys: Vec::new(),
    };
    let filled = if needed == Requirement::Enrol {
        enrolment(dash, &mut page).await
    } else {
        challenge(dash, &mut page).await
    };
    let template = match filled {
        Ok(template) => template,
        Err(error) => return dash.fail(Section::Account, error),
    };
    dash.bare(status, template, page)
}

/// The enrolment page: a new authenticator app's key and a ceremony per kind of key.
async fn enrolment(dash: &Dash, page: &mut StepPage<'_>) -> Result<&'static str, MfaError> {
    let shown = provisioning(dash).await?;
    page.secret = Some(shown.secret_base32);
    page.qr_data_uri = Some(shown.qr_data_uri);
    page.keys = admin_keys::offers(dash).await?;
    Ok("dashboard/mfa_enrol.html")
}

/// The challenge page: the kinds of factor the administrator has.
async fn challenge(dash: &Dash, page: &mut StepPage<'_>) -> Result<&'static str, MfaError> {
    let authenticators = dash.app.store().authenticators(&owner(&dash.admin)).await?;
    let kinds = admin_factor_kinds(&authenticators);
    page.otp = kinds.contains(&MfaFactor::Otp);
    if kinds.iter().any(|kind| is_webauthn(*kind)) {
        page.key = admin_keys::challenge(dash).await?;
    }
    Ok("dashboard/mfa.html")
}

/// The session passed its second factor: it now opens the dashboard.
async fn passed(dash: &Dash) -> Result<(), Response> {
    if let Err(error) = dash
        .app
        .store()
        .complete_admin_session_mfa(&dash.session.id_hash)
        .await
    {
        return Err(dash.fail(Section::Account, error));
    }
    Ok(())
}

/// `GET /dashboard/mfa`.
async fn show(Pending(dash): Pending, RawQuery(query): RawQuery) -> Response {
    let query = FormData::from_query(query.as_deref());
    let next = safe_next(query.get("next")).to_owned();
    if !dash.session.mfa_pending {
        return Redirect::to(&next).into_response();
    }
    match requirement(&dash.app, &dash.admin).await {
        // The factors were reset meanwhile and none is mandatory: nothing is owed.
        Ok(Requirement::None) => match passed(&dash).await {
            Ok(()) => Redirect::to(&next).into_response(),
            Err(page) => page,
        },
        Ok(needed) => page(&dash, needed, &next, None, StatusCode::OK, false).await,
        Err(error) => dash.fail(Section::Account, error),
    }
}

/// `POST /dashboard/mfa`: a code from the authenticator app, or a recovery code.
async fn check(PendingPosted(Posted { dash, form }): PendingPosted) -> Response {
    let next = safe_next(form.get("next")).to_owned();
    if !dash.session.mfa_pending {
        return Redirect::to(&next).into_response();
    }
    let recovery = form.get("factor") == MfaFactor::RecoveryCode.as_str();
    let code = form.raw("code");
    let proof = if recovery {
        Proof::RecoveryCode(code)
    } else {
        Proof::Otp(code)
    };
    let app = &dash.app;
    let checked = verify::verify(
        app.store(),
        &app.cx.key_cipher,
        &app.sign_in,
        &owner(&dash.admin),
        attempt(&dash),
        proof,
        ADMIN_FACTORS,
    )
    .await;
    checked_factor(&dash, checked, &next, recovery).await
}

/// The step's answer to a checked factor: on to `next`, or the step again with the refusal.
async fn checked_factor(
    dash: &Dash,
    checked: Result<MfaFactor, SignInError>,
    next: &str,
    recovery: bool,
) -> Response {
    match checked {
        Ok(factor) => {
            let (event_type, description) = match factor {
                MfaFactor::RecoveryCode => (
                    EventType::MfaRecoverySucceeded,
                    "Administrator used a recovery code",
                ),
                _ => (
                    EventType::MfaSucceeded,
                    "Administrator second factor accepted",
                ),
            };
            dash.app
                .audit(
                    dash.entry(event_type, description)
                        .details(json!({ "api": "dashboard", "factor": factor.as_str() })),
                )
                .await;
            match passed(dash).await {
                Ok(()) => Redirect::to(next).into_response(),
                Err(page) => page,
            }
        }
        Err(error) => {
            let (status, text) = refused_code(dash, error).await;
            let needed = match requirement(&dash.app, &dash.admin).await {
                Ok(needed) => needed,
                Err(error) => return dash.fail(Section::Account, error),
            };
            page(dash, needed, next, Some(text), status, recovery).await
        }
    }
}

/// Where a form of the step goes on to, when the session still owes `needed`; otherwise the
/// answer: on to `next` when nothing is owed any more, back to the step when something else
/// is (a form of the enrolment once a factor exists, or the reverse).
#[allow(clippy::result_large_err)] // The error is the answer itself, given at once.
async fn owing(dash: &Dash, form: &FormData, needed: Requirement) -> Result<String, Response> {
    let next = safe_next(form.get("next")).to_owned();
    if !dash.session.mfa_pending {
        return Err(Redirect::to(&next).into_response());
    }
    match requirement(&dash.app, &dash.admin).await {
        Ok(owed) if owed == needed => Ok(next),
        Ok(_) => Err(Redirect::to(&step_url(&next)).into_response()),
        Err(error) => Err(dash.fail(Section::Account, error)),
    }
}

/// `POST /dashboard/mfa/webauthn`: the assertion of one of the administrator's keys, counted
/// like a code on the dashboard's counters (a refused one is a wrong attempt).
async fn check_key(PendingPosted(Posted { dash, form }): PendingPosted) -> Response {
    let next = match owing(&dash, &form, Requirement::Challenge).await {
        Ok(next) => next,
        Err(answer) => return answer,
    };
    let app = &dash.app;
    let checked = app
        .sign_in
        .check_code(app.store(), attempt(&dash), || async {
            admin_keys::authenticate(&dash, &form)
                .await
                .map(Some)
                .or_else(Refusal::counted)
        })
        .await;
    checked_factor(&dash, checked, &next, false).await
}

/// `POST /dashboard/mfa/enrol`: the first code of the authenticator app an administrator
/// without a factor enrols because the setting makes one mandatory. Only then: a password
/// alone never adds a factor to an account that has one.
async fn enrol_on_the_spot(PendingPosted(Posted { dash, form }): PendingPosted) -> Response {
    let next = match owing(&dash, &form, Requirement::Enrol).await {
        Ok(next) => next,
        Err(answer) => return answer,
    };
    let confirmed = match confirm(&dash, form.raw("code")).await {
        Ok(confirmed) => confirmed,
        Err(error) => {
            let (status, text) = refused_code(&dash, error).await;
            return page(&dash, Requirement::Enrol, &next, Some(text), status, false).await;
        }
    };
    enrolled(&dash, confirmed.recovery_codes, &next).await
}

/// A factor enrolled on the spot: the session passes, and the recovery codes are shown once
/// before going on to `next`.
async fn enrolled(dash: &Dash, codes: Vec<String>, next: &str) -> Response {
    if let Err(page) = passed(dash).await {
        return page;
    }
    dash.bare(
        StatusCode::OK,
        "dashboard/mfa_recovery.html",
        context! { codes, next },
    )
}

/// `POST /dashboard/mfa/enrol/webauthn`: the key an administrator without a factor enrols
/// because the setting makes one mandatory (only then, like the authenticator app).
async fn enrol_key_on_the_spot(PendingPosted(Posted { dash, form }): PendingPosted) -> Response {
    let next = match owing(&dash, &form, Requirement::Enrol).await {
        Ok(next) => next,
        Err(answer) => return answer,
    };
    let registered = match admin_keys::register(&dash, &form).await {
        Ok(registered) => registered,
        Err(Refusal::Failed(error)) => return dash.fail(Section::Account, error),
        Err(_) => {
            let text = KEY_REFUSED;
            let status = StatusCode::BAD_REQUEST;
            return page(&dash, Requirement::Enrol, &next, Some(text), status, false).await;
        }
    };
    enrolled(&dash, registered.recovery_codes, &next).await
}

/// What a page shows when a key's registration was refused.
pub const KEY_REFUSED: &str = "The passkey or security key was not accepted. Try again.";
