//! The hosted second-factor pages (`/u/mfa`): after the password, a user asked for a second
//! factor types a code from their authenticator app or a recovery code; a user without one
//! (under the `all-applications` policy, or when the application asks) enrols an
//! authenticator app on the spot (QR code, the key as text, a first code) and is shown their
//! recovery codes once. Like the login page these are plain forms, CSRF-protected and
//! carrying the authorization request; success records the factor on the session
//! (`portcullis_core::mfa::amr_after`) and sends the browser back to `/authorize`.
//!
//! A wrong code counts as a failed sign-in of the account from that address
//! (`SignIn::check_code`). Enrolling is only possible while the user has no usable factor: a
//! password alone never adds a second factor to an account that has one.

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use portcullis_core::{
    audit::{self, RequestOrigin},
    mfa::{
        self,
        enrol::{self, Label},
        verify::{self, Proof},
        webauthn::Started,
        Requirement,
    },
    sign_in::{CodeAttempt, Realm, SignInError},
};
use portcullis_store::{Client, LoginSession, MfaOwner, User};
use portcullis_types::{EventType, MfaFactor};
use portcullis_web::ClientOrigin;
use serde::{Deserialize, Serialize};

use crate::{
    routes::{
        authorize::parse_params,
        login::{form_client, page_request, without_prompt},
        mfa_gate::{asks_for_mfa, requirement},
        webauthn_pages::{self, KeyOffer},
    },
    session::{self, set_cookie, LoginCsrf, CSRF_COOKIE},
    state::AppState,
    templates::Framing,
};

/// The submitted code.
#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    /// `otp` or `recovery-code`.
    #[serde(default)]
    factor: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    authorize_query: String,
}

/// What the pages show.
#[derive(Serialize)]
struct MfaPage<'a> {
    client_name: &'a str,
    email: &'a str,
    csrf: &'a str,
    authorize_query: &'a str,
    error: Option<&'a str>,
    recovery_enabled: bool,
    recovery_open: bool,
    secret: Option<String>,
    qr_data_uri: Option<String>,
    /// The code form: the user has an authenticator app (or enrols one).
    otp: bool,
    /// The WebAuthn ceremony of the page: authenticating with one of the user's keys.
    webauthn: Option<Started>,
    /// The keys the user may enrol, each with its ceremony.
    enrol_keys: Vec<KeyOffer>,
}

#[derive(Serialize)]
pub(crate) struct RecoveryPage {
    codes: Vec<String>,
    authorize_params: Vec<(String, String)>,
}

/// Everything a page needs to answer: the application, the signed-in user and their session.
pub(crate) struct Signed {
    pub client: Client,
    pub session: LoginSession,
    pub user: User,
    pub asked: bool,
}

/// The browser back to `/authorize` with its request: it decides what comes next (the login
/// page without a session, the client's response once the factor is passed).
pub(crate) fn back_to_authorize(query: &str) -> Response {
    let mut response =
        Redirect::to(&format!("/authorize?{}", without_prompt(query))).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signed-in user who still owes a second factor, or where to send the browser instead.
async fn signed(
    app: &AppState,
    headers: &HeaderMap,
    query: &str,
    client: Client,
) -> Result<Signed, Response> {
    let asked = parse_params(query)
        .map(|params| asks_for_mfa(params.acr_values.as_deref()))
        .unwrap_or(false);
    match session::current(app, headers).await {
        Some((session, user)) if session.mfa_time.is_none() && !user.blocked => Ok(Signed {
            client,
            session,
            user,
            asked,
        }),
        _ => Err(back_to_authorize(query)),
    }
}

pub async fn get(
    State(app): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let raw = raw.unwrap_or_default();
    let client = match page_request(&app, &raw).await {
        Ok((_, client)) => client,
        Err(page) => return page,
    };
    let signed = match signed(&app, &headers, &raw, client).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let csrf = LoginCsrf::of(&app, &headers);
    show(&app, &signed, &csrf, &raw, None, StatusCode::OK, false).await
}

/// The page the user owes: the code page, or the enrolment page.
pub(crate) async fn show(
    app: &AppState,
    signed: &Signed,
    csrf: &LoginCsrf,
    query: &str,
    error: Option<&str>,
    status: StatusCode,
    recovery_open: bool,
) -> Response {
    let needed = match requirement(app, &signed.user, signed.asked).await {
        Ok(needed) => needed,
        Err(error) => return store_failed(app, error, "could not tell what a login needs"),
    };
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => return store_failed(app, error, "could not read the MFA settings"),
    };
    let form_value = csrf.form_value(app, query);
    let mut page = MfaPage {
        client_name: &signed.client.name,
        email: &signed.user.email,
        csrf: &form_value,
        authorize_query: query,
        error,
        recovery_enabled: settings.is_enabled(MfaFactor::RecoveryCode),
        recovery_open,
        secret: None,
        qr_data_uri: None,
        otp: false,
        webauthn: None,
        enrol_keys: Vec::new(),
    };
    let bound = (&signed.user, signed.session.id_hash.as_slice());
    let keys = match webauthn_pages::ceremonies(app, bound, &settings, needed).await {
        Ok(keys) => keys,
        Err(error) => return store_failed(app, error, "could not start a WebAuthn ceremony"),
    };
    page.otp = keys.otp;
    page.webauthn = keys.authenticate;
    page.enrol_keys = keys.enrol;
    let template = match needed {
        Requirement::Challenge => "mfa.html",
        Requirement::Enrol if !settings.is_enabled(MfaFactor::Otp) => "mfa_enrol.html",
        Requirement::Enrol => {
            let owner = MfaOwner::User(signed.user.user_id.clone());
            let issuer = app_label(app);
            let label = Label {
                issuer: &issuer,
                account: &signed.user.email,
            };
            let now = app.clock.now();
            match enrol::totp_enrolment(app.store.as_ref(), &app.key_cipher, &owner, label, now)
                .await
            {
                Ok(shown) => {
                    page.secret = Some(shown.secret_base32);
                    page.qr_data_uri = Some(shown.qr_data_uri);
                }
                Err(error) => return store_failed(app, error, "could not start a TOTP enrolment"),
            }
            "mfa_enrol.html"
        }
        Requirement::None | Requirement::Unavailable => return back_to_authorize(query),
    };
    let mut response = app.templates.page(status, template, page, Framing::Nobody);
    if csrf.set {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(app, CSRF_COOKIE, &csrf.cookie, None),
        );
    }
    response
}

/// The checks every form shares: the CSRF value, the application, the signed-in user.
pub(crate) async fn submitted(
    app: &AppState,
    headers: &HeaderMap,
    authorize_query: &str,
    csrf: &str,
) -> Result<Signed, Response> {
    let client = form_client(app, headers, authorize_query, csrf).await?;
    signed(app, headers, authorize_query, client).await
}

/// The factor is passed: recorded on the session, and in the audit log.
pub(crate) async fn passed(
    app: &AppState,
    signed: &Signed,
    origin: &RequestOrigin,
    factor: MfaFactor,
    event: (EventType, &'static str),
) -> Result<(), Response> {
    let amr = mfa::amr_after(&signed.session.amr, factor);
    let now = app.clock.now();
    if let Err(error) = app
        .store
        .record_session_mfa(&signed.session.id_hash, &amr, now)
        .await
    {
        return Err(store_failed(
            app,
            error,
            "could not record a second factor on the session",
        ));
    }
    app.audit(
        audit::entry(event.0, event.1)
            .client(&signed.client)
            .user(&signed.user)
            .origin(origin)
            .details(serde_json::json!({ "factor": factor.as_str() })),
    )
    .await;
    tracing::info!(user_id = %signed.user.user_id, factor = factor.as_str(), "second factor");
    Ok(())
}

/// A refused code (or key): the page again with the reason, and the audit entry.
pub(crate) async fn refused(
    app: &AppState,
    signed: &Signed,
    origin: &RequestOrigin,
    headers: &HeaderMap,
    (authorize_query, recovery_open): (&str, bool),
    error: SignInError,
) -> Response {
    let (status, message, event) = match error {
        SignInError::WrongCredentials { .. } => (
            StatusCode::UNAUTHORIZED,
            "Wrong or expired code.",
            Some((EventType::MfaFailed, "Wrong second-factor code")),
        ),
        SignInError::Throttled { first } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts. Wait a few minutes and try again.",
            first.then_some((
                EventType::MfaThrottled,
                "Too many failed second-factor codes",
            )),
        ),
        error => {
            tracing::error!(%error, "second factor failed");
            return app.templates.something_went_wrong();
        }
    };
    if let Some((event_type, description)) = event {
        app.audit(
            audit::entry(event_type, description)
                .client(&signed.client)
                .user(&signed.user)
                .origin(origin),
        )
        .await;
    }
    let csrf = LoginCsrf::of(app, headers);
    show(
        app,
        signed,
        &csrf,
        authorize_query,
        Some(message),
        status,
        recovery_open,
    )
    .await
}

/// The service's name in an authenticator app: the issuer's host.
pub(crate) fn app_label(app: &AppState) -> String {
    url::Url::parse(&app.settings.issuer)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "Portcullis".to_owned())
}

pub(crate) fn attempt<'a>(
    app: &AppState,
    user: &'a User,
    origin: &RequestOrigin,
) -> CodeAttempt<'a> {
    CodeAttempt {
        realm: Realm::Login,
        identifier: &user.email,
        ip: origin.throttled_ip(),
        now: app.clock.now(),
    }
}

pub async fn post(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let signed = match submitted(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => return store_failed(&app, error, "could not read the MFA settings"),
    };
    let accepted: Vec<MfaFactor> = settings.enabled.iter().copied().collect();
    let proof = if form.factor == MfaFactor::RecoveryCode.as_str() {
        Proof::RecoveryCode(&form.code)
    } else {
        Proof::Otp(&form.code)
    };
    let owner = MfaOwner::User(signed.user.user_id.clone());
    let checked = verify::verify(
        app.store.as_ref(),
        &app.key_cipher,
        &app.sign_in,
        &owner,
        attempt(&app, &signed.user, &origin),
        proof,
        &accepted,
    )
    .await;
    match checked {
        Ok(factor) => {
            let event = match factor {
                MfaFactor::RecoveryCode => (EventType::MfaRecoverySucceeded, "Recovery code used"),
                _ => (EventType::MfaSucceeded, "Second factor accepted"),
            };
            match passed(&app, &signed, &origin, factor, event).await {
                Ok(()) => back_to_authorize(&form.authorize_query),
                Err(page) => page,
            }
        }
        Err(error) => refused(&app, &signed, &origin, &headers, form.shown(), error).await,
    }
}

pub async fn post_enrol(
    State(app): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let signed = match submitted(&app, &headers, &form.authorize_query, &form.csrf).await {
        Ok(signed) => signed,
        Err(response) => return response,
    };
    // Only a user without a usable factor enrols here: the password alone must not add one.
    match requirement(&app, &signed.user, signed.asked).await {
        Ok(Requirement::Enrol) => {}
        Ok(_) => return back_to_authorize(&form.authorize_query),
        Err(error) => return store_failed(&app, error, "could not tell what a login needs"),
    }
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => return store_failed(&app, error, "could not read the MFA settings"),
    };
    let owner = MfaOwner::User(signed.user.user_id.clone());
    let confirmed = enrol::confirm_totp(
        app.store.as_ref(),
        &app.key_cipher,
        &app.sign_in,
        &owner,
        attempt(&app, &signed.user, &origin),
        &form.code,
        settings.is_enabled(MfaFactor::RecoveryCode),
    )
    .await;
    let confirmed = match confirmed {
        Ok(confirmed) => confirmed,
        Err(error) => return refused(&app, &signed, &origin, &headers, form.shown(), error).await,
    };
    let event = (EventType::MfaEnrolled, "Authenticator app enrolled");
    if let Err(page) = passed(&app, &signed, &origin, MfaFactor::Otp, event).await {
        return page;
    }
    recovery_page(&app, &form.authorize_query, confirmed.recovery_codes)
}

/// After a first factor is enrolled: its recovery codes, shown once, or (without them) the
/// way back to `/authorize`.
pub(crate) fn recovery_page(app: &AppState, authorize_query: &str, codes: Vec<String>) -> Response {
    if codes.is_empty() {
        return back_to_authorize(authorize_query);
    }
    let authorize_params = url::form_urlencoded::parse(without_prompt(authorize_query).as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    app.templates.page(
        StatusCode::OK,
        "mfa_recovery.html",
        RecoveryPage {
            codes,
            authorize_params,
        },
        Framing::Nobody,
    )
}

/// A store failure under a hosted page: logged with its cause, and answered with the page
/// that says to try again (503 with `Retry-After` when the store is out of reach, through the
/// router's outage handling).
pub(crate) fn store_failed(
    app: &AppState,
    error: impl std::fmt::Debug,
    what: &'static str,
) -> Response {
    tracing::error!(?error, "{what}");
    app.templates.something_went_wrong()
}

impl CodeForm {
    /// What the page shows again after a refusal: its request, and whether the recovery-code
    /// form was the one used.
    fn shown(&self) -> (&str, bool) {
        (
            &self.authorize_query,
            self.factor == MfaFactor::RecoveryCode.as_str(),
        )
    }
}
