//! Administrators' sign-in and their session.
//!
//! The session lives in the store's admin-session table (not the users' login sessions),
//! keyed by the hash of a random token held in the `portcullis_admin` cookie: any replica can
//! check it, and it only counts while its administrator exists. Every POST carries
//! the value of the `portcullis_admin_csrf` cookie in its `csrf` field (double submit), and
//! failed sign-ins are throttled per account and address, and per address, like the hosted
//! login page.

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, OriginalUri, RawQuery, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use minijinja::context;
use portcullis_core::{
    admin::{Actor, AdminError, Kind},
    audit::{self, RequestOrigin},
    password::PasswordError,
    secrets::{constant_time_eq, lookup_hash, random_token},
    sign_in::{Attempt, Realm, SignInError},
};
use portcullis_store::{Admin, AdminSession, StoreError};
use portcullis_types::{EventType, Secret};
use portcullis_web::{retry_after_busy, ClientOrigin, BUSY_MESSAGE};
use serde::Serialize;
use serde_json::json;

use super::{
    form::FormData,
    mfa_step::{with_next, MFA_STEP},
    view::{self, Flash, FormError, Frame, Section},
};
use crate::state::AdminState;

pub const SESSION_COOKIE: &str = "portcullis_admin";
pub const CSRF_COOKIE: &str = "portcullis_admin_csrf";
pub const FLASH_COOKIE: &str = "portcullis_admin_flash";
const COOKIE_PATH: &str = "/dashboard";

/// An administrator's session lasts this long (seconds).
pub const SESSION_LIFETIME: i64 = 12 * 3600;

/// Largest form body the dashboard reads: an email template's parts, percent-encoded, fit.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A `Set-Cookie` value for the dashboard's cookies: HttpOnly, SameSite=Lax, only sent to
/// `/dashboard`, Secure under https.
fn cookie(app: &AdminState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    app.settings
        .cookies()
        .set(name, value, COOKIE_PATH, max_age)
}

/// The value of the dashboard's cookie `name` in the request.
fn cookie_value(app: &AdminState, headers: &HeaderMap, name: &str) -> Option<String> {
    app.settings.cookies().get(headers, name)
}

/// A usable CSRF value from the request's cookie, or a fresh one (`true`: to be set).
fn csrf_value(app: &AdminState, headers: &HeaderMap) -> (String, bool) {
    match cookie_value(app, headers, CSRF_COOKIE).filter(|value| value.len() >= 32) {
        Some(value) => (value, false),
        None => (random_token(32), true),
    }
}

fn csrf_matches(app: &AdminState, headers: &HeaderMap, submitted: &str) -> bool {
    let cookie = cookie_value(app, headers, CSRF_COOKIE).unwrap_or_default();
    cookie.len() >= 32 && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
}

/// The administrator signed in on this browser and their session, if it is live and they
/// still exist (a session may still owe its second factor: `mfa_pending`).
async fn signed_in(
    app: &AdminState,
    headers: &HeaderMap,
) -> Result<Option<(Admin, AdminSession)>, StoreError> {
    let Some(token) = cookie_value(app, headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = app
        .store()
        .admin_session_by_hash(&lookup_hash(&token), app.clock().now())
        .await?
    else {
        return Ok(None);
    };
    let admin = app.store().admin_by_id(&session.admin_id).await?;
    Ok(admin.map(|admin| (admin, session)))
}

/// A signed-in administrator's request: what every page needs to render and to record
/// changes. Without a session the request is sent to the sign-in page.
pub struct Dash {
    pub app: AdminState,
    pub admin: Admin,
    /// The session, which may still owe its second factor only where [`Pending`] was asked.
    pub session: AdminSession,
    csrf: String,
    csrf_is_new: bool,
    flash: Option<Flash>,
    /// The client's address and user agent, for the audit log.
    pub origin: RequestOrigin,
}

/// Where a request that may not go on is sent: `page`, with the page it wanted as `next`
/// when it was a GET.
fn detour(parts: &Parts, page: &str) -> Response {
    // Nested routers see the path without `/dashboard`; the original has it.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |OriginalUri(uri)| uri);
    let wanted = uri.path_and_query().map_or("/dashboard", |p| p.as_str());
    let target = if parts.method == axum::http::Method::GET {
        with_next(page, wanted)
    } else {
        page.to_owned()
    };
    Redirect::to(&target).into_response()
}

impl FromRequestParts<AdminState> for Dash {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AdminState) -> Result<Self, Response> {
        Dash::extract(parts, app, false).await
    }
}

/// A signed-in administrator's request whose session may still owe its second factor: only
/// the second-factor step and sign-out take one.
pub struct Pending(pub Dash);

impl FromRequestParts<AdminState> for Pending {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AdminState) -> Result<Self, Response> {
        Dash::extract(parts, app, true).await.map(Pending)
    }
}

impl Dash {
    /// The request's administrator; a session that owes its second factor is sent to the
    /// second-factor step unless `pending_ok`.
    async fn extract(parts: &Parts, app: &AdminState, pending_ok: bool) -> Result<Self, Response> {
        let (admin, session) = match signed_in(app, &parts.headers).await {
            Ok(Some(signed)) => signed,
            Ok(None) => return Err(detour(parts, "/dashboard/signin")),
            Err(error) => {
                tracing::error!(%error, "could not read an administrator session");
                return Err(view::message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The dashboard could not read your session. Try again in a moment.",
                ));
            }
        };
        if session.mfa_pending && !pending_ok {
            return Err(detour(parts, MFA_STEP));
        }
        let (csrf, csrf_is_new) = csrf_value(app, &parts.headers);
        let flash = cookie_value(app, &parts.headers, FLASH_COOKIE)
            .as_deref()
            .and_then(Flash::decode);
        Ok(Dash {
            app: app.clone(),
            admin,
            session,
            csrf,
            csrf_is_new,
            flash,
            origin: ClientOrigin::of(parts).0,
        })
    }
}

impl Dash {
    /// Renders a page of `section` inside the layout.
    pub fn render(
        &self,
        status: StatusCode,
        template: &str,
        section: Section,
        page: impl Serialize,
    ) -> Response {
        let frame = Frame {
            issuer: &self.app.settings.issuer,
            admin_email: &self.admin.email,
            csrf: &self.csrf,
            flash: self.flash.as_ref(),
        };
        let mut response = view::render(status, template, Some(section), &frame, page);
        let headers = response.headers_mut();
        if self.csrf_is_new {
            headers.append(
                header::SET_COOKIE,
                cookie(&self.app, CSRF_COOKIE, &self.csrf, None),
            );
        }
        if self.flash.is_some() {
            headers.append(
                header::SET_COOKIE,
                cookie(&self.app, FLASH_COOKIE, "", Some(0)),
            );
        }
        response
    }

    /// This browser's CSRF value, for a form.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Renders a page outside the layout (the sign-in's second step).
    pub fn bare(&self, status: StatusCode, template: &str, page: impl Serialize) -> Response {
        let mut response = view::bare(status, template, page);
        if self.csrf_is_new {
            response.headers_mut().append(
                header::SET_COOKIE,
                cookie(&self.app, CSRF_COOKIE, &self.csrf, None),
            );
        }
        response
    }

    /// A 404 page inside the layout.
    pub fn not_found(&self, section: Section, what: &str, back: &str) -> Response {
        self.render(
            StatusCode::NOT_FOUND,
            "dashboard/message.html",
            section,
            context! { title => format!("{what} not found"), text => format!("This {} does not exist, or it was deleted.", what.to_lowercase()), back },
        )
    }

    /// The object a store lookup found, or the page to answer instead: 404 when it does not
    /// exist, 500 when the lookup failed.
    #[allow(clippy::result_large_err)] // The error is the page itself, answered at once.
    pub fn found<T>(
        &self,
        lookup: Result<Option<T>, portcullis_store::StoreError>,
        section: Section,
        what: &str,
        back: &str,
    ) -> Result<T, Response> {
        match lookup {
            Ok(Some(object)) => Ok(object),
            Ok(None) => Err(self.not_found(section, what, back)),
            Err(error) => Err(self.fail(section, error)),
        }
    }

    /// What a refused administrative change shows: a validation error (400) or a conflict
    /// (409) at its form field, for the page to render again; or the page to answer instead
    /// (404 for a missing object, 500 for our own failure).
    #[allow(clippy::result_large_err)] // The error is the page itself, answered at once.
    pub fn refusal(
        &self,
        error: AdminError,
        section: Section,
        aliases: &[(&str, &str)],
    ) -> Result<(StatusCode, FormError), Response> {
        match error {
            AdminError::Invalid { field, message } => Ok((
                StatusCode::BAD_REQUEST,
                FormError::named(field, message, aliases),
            )),
            AdminError::Conflict { field, message } => Ok((
                StatusCode::CONFLICT,
                FormError::named(field, message, aliases),
            )),
            // Every password-hashing slot is taken: the form comes back, to send again.
            AdminError::Password(PasswordError::Busy) => Ok((
                StatusCode::TOO_MANY_REQUESTS,
                FormError::named("password", BUSY_MESSAGE, aliases),
            )),
            AdminError::NotFound(kind) => {
                let (what, back) = match kind {
                    Kind::Api => ("API", "/dashboard/apis"),
                    Kind::Application => ("Application", "/dashboard/applications"),
                    Kind::User => ("User", "/dashboard/users"),
                    Kind::Role => ("Role", "/dashboard/roles"),
                    Kind::ClientGrant => ("Client grant", "/dashboard/applications"),
                    Kind::UserGrant => ("Authorized application", "/dashboard/users"),
                    Kind::AccessRule => ("Access rule", "/dashboard/apis"),
                    Kind::Connection => ("Connection", "/dashboard/database"),
                    Kind::EmailTemplate => ("Email template", "/dashboard/emails/templates"),
                    Kind::AuthenticationMethod => ("Authentication method", "/dashboard/users"),
                    Kind::Administrator
                    | Kind::SigningKeys
                    | Kind::Guardian
                    | Kind::TenantSettings
                    | Kind::TriggerBindings => ("Page", "/dashboard"),
                    Kind::AutomationAction => ("Action", "/dashboard/actions/library"),
                };
                Err(self.not_found(section, what, back))
            }
            other => Err(self.fail(section, other)),
        }
    }

    /// Logs our own failure and answers 500 without its cause.
    pub fn fail(&self, section: Section, error: impl std::fmt::Display) -> Response {
        tracing::error!(%error, "dashboard request failed");
        self.render(
            StatusCode::INTERNAL_SERVER_ERROR,
            "dashboard/message.html",
            section,
            context! { title => "Something went wrong", text => "The change could not be made. Try again in a moment.", back => "/dashboard" },
        )
    }

    /// 303 to `to`, with a message for the next page.
    pub fn redirect(&self, to: &str, flash: impl Into<String>) -> Response {
        let mut response = Redirect::to(to).into_response();
        response.headers_mut().append(
            header::SET_COOKIE,
            cookie(
                &self.app,
                FLASH_COOKIE,
                &Flash::success(flash).encode(),
                Some(60),
            ),
        );
        response
    }

    /// Who makes the changes this request asks for.
    pub fn actor(&self) -> Actor {
        Actor::Dashboard {
            admin_id: self.admin.id.clone(),
            email: self.admin.email.clone(),
            origin: self.origin.clone(),
        }
    }

    /// An audit entry of another type made by this administrator (the Test tab's token).
    pub fn entry(&self, event_type: EventType, description: &str) -> audit::Entry {
        audit::entry(event_type, description)
            .user_id(&self.admin.id)
            .origin(&self.origin)
    }
}

/// A signed-in administrator's form submission whose CSRF value matched. Anything else is
/// refused before the handler runs: no session → sign-in page, bad CSRF value → 403.
pub struct Posted {
    pub dash: Dash,
    pub form: FormData,
}

impl FromRequest<AdminState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request<Body>, app: &AdminState) -> Result<Self, Response> {
        Posted::extract(request, app, false).await
    }
}

/// A form submission whose session may still owe its second factor (see [`Pending`]).
pub struct PendingPosted(pub Posted);

impl FromRequest<AdminState> for PendingPosted {
    type Rejection = Response;

    async fn from_request(request: Request<Body>, app: &AdminState) -> Result<Self, Response> {
        Posted::extract(request, app, true).await.map(PendingPosted)
    }
}

impl Posted {
    async fn extract(
        request: Request<Body>,
        app: &AdminState,
        pending_ok: bool,
    ) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let dash = Dash::extract(&parts, app, pending_ok).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                view::message(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form too large",
                    "The submitted form is larger than the dashboard accepts.",
                )
            })?;
        let form = FormData::parse(&bytes);
        if !csrf_matches(app, &parts.headers, form.raw("csrf")) {
            return Err(csrf_refused());
        }
        Ok(Posted { dash, form })
    }
}

fn csrf_refused() -> Response {
    view::message(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "The form was not submitted from this browser's dashboard page. Go back, reload the page and try again.",
    )
}

/// Where to go after signing in: a dashboard path, never another site.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with("/dashboard") && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/dashboard/apis"
    }
}

#[derive(Serialize)]
struct SigninPage<'a> {
    csrf: &'a str,
    email: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

fn signin_form(
    app: &AdminState,
    status: StatusCode,
    csrf: &str,
    set_csrf: bool,
    page: SigninPage<'_>,
) -> Response {
    let mut response = view::bare(status, "dashboard/signin.html", page);
    if set_csrf {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie(app, CSRF_COOKIE, csrf, None));
    }
    response
}

/// `GET /dashboard/signin`.
pub async fn signin_page(
    State(app): State<AdminState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = FormData::from_query(query.as_deref());
    let next = safe_next(query.get("next"));
    if let Ok(Some((_, session))) = signed_in(&app, &headers).await {
        if !session.mfa_pending {
            return Redirect::to(next).into_response();
        }
    }
    let (csrf, is_new) = csrf_value(&app, &headers);
    let notice = cookie_value(&app, &headers, FLASH_COOKIE)
        .as_deref()
        .and_then(Flash::decode);
    let mut response = signin_form(
        &app,
        StatusCode::OK,
        &csrf,
        is_new,
        SigninPage {
            csrf: &csrf,
            email: "",
            next,
            error: None,
            notice: notice.as_ref().map(|flash| flash.text.as_str()),
        },
    );
    if notice.is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie(&app, FLASH_COOKIE, "", Some(0)));
    }
    response
}

/// `POST /dashboard/signin`.
pub async fn signin(
    State(app): State<AdminState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if !csrf_matches(&app, &headers, form.raw("csrf")) {
        return csrf_refused();
    }
    let csrf = form.raw("csrf").to_owned();
    let email = form.get("email").to_owned();
    let next = safe_next(form.get("next")).to_owned();
    let again = |status: StatusCode, error: &str| {
        signin_form(
            &app,
            status,
            &csrf,
            false,
            SigninPage {
                csrf: &csrf,
                email: &email,
                next: &next,
                error: Some(error),
                notice: None,
            },
        )
    };
    let failed = |event_type: EventType, description: &str| {
        audit::entry(event_type, description)
            .origin(&origin)
            .details(json!({ "api": "dashboard", "email": email }))
    };
    let password = Secret::from(form.raw("password"));
    let admin = match authenticate(&app, &origin, &email, &password).await {
        Ok(admin) => admin,
        Err(SignInError::WrongCredentials { .. }) => {
            app.audit(failed(EventType::FailedLogin, "Dashboard sign-in failed"))
                .await;
            return again(StatusCode::UNAUTHORIZED, "Wrong email or password.");
        }
        Err(SignInError::Throttled { first }) => {
            if first {
                app.audit(failed(
                    EventType::LoginThrottled,
                    "Too many failed dashboard sign-ins",
                ))
                .await;
            }
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed attempts. Wait a few minutes and try again.",
            );
        }
        Err(SignInError::Busy) => {
            // Under a flood of password hashing: answered at once, nothing computed.
            return retry_after_busy(again(StatusCode::TOO_MANY_REQUESTS, BUSY_MESSAGE));
        }
        Err(error) => {
            tracing::error!(%error, "administrator sign-in failed");
            return again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    // A session this browser had before is replaced, not left behind.
    if let Some(old) = cookie_value(&app, &headers, SESSION_COOKIE) {
        if let Err(error) = app.store().delete_admin_session(&lookup_hash(&old)).await {
            tracing::warn!(%error, "could not delete a replaced administrator session");
        }
    }
    // An administrator who owes a second factor (theirs, or enrolling one when it is
    // mandatory) gets a session that opens nothing but that step.
    let mfa_pending = match super::mfa_step::owes_factor(&app, &admin).await {
        Ok(owes) => owes,
        Err(error) => {
            tracing::error!(%error, "could not read an administrator's factors");
            return again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    let token = random_token(32);
    let now = app.clock().now();
    let session = AdminSession {
        id_hash: lookup_hash(&token),
        admin_id: admin.id.clone(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME,
        mfa_pending,
    };
    if let Err(error) = app.store().create_admin_session(&session).await {
        tracing::error!(%error, "could not start an administrator session");
        return again(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong. Please try again.",
        );
    }
    app.audit(
        audit::entry(EventType::Login, "Dashboard sign-in")
            .user_id(&admin.id)
            .origin(&origin)
            .details(
                json!({ "api": "dashboard", "admin": { "id": admin.id, "email": admin.email } }),
            ),
    )
    .await;
    let target = if mfa_pending {
        super::mfa_step::step_url(&next)
    } else {
        next
    };
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie(&app, SESSION_COOKIE, &token, Some(SESSION_LIFETIME)),
    );
    // A new CSRF value for the new session: one planted before sign-in is worthless.
    headers.append(
        header::SET_COOKIE,
        cookie(&app, CSRF_COOKIE, &random_token(32), None),
    );
    response
}

/// Checks the credentials under brute-force protection (per account and address, and per
/// address).
async fn authenticate(
    app: &AdminState,
    origin: &RequestOrigin,
    email: &str,
    password: &Secret,
) -> Result<Admin, SignInError> {
    let attempt = Attempt {
        realm: Realm::Dashboard,
        email,
        password,
        ip: origin
            .ip
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        now: app.clock().now(),
    };
    let store = app.store();
    app.sign_in
        .check(store, attempt, || async {
            let admin = store.admin_by_email(email.trim()).await?;
            Ok(admin.map(|admin| {
                let hash = admin.password_hash.clone();
                (admin, hash)
            }))
        })
        .await
}

/// `POST /dashboard/signout`: ends the session and clears its cookie.
pub async fn signout(
    headers: HeaderMap,
    PendingPosted(Posted { dash, .. }): PendingPosted,
) -> Response {
    let app = &dash.app;
    if let Some(token) = cookie_value(app, &headers, SESSION_COOKIE) {
        if let Err(error) = app.store().delete_admin_session(&lookup_hash(&token)).await {
            tracing::error!(%error, "could not delete an administrator session");
        }
    }
    app.audit(dash.entry(EventType::Logout, "Dashboard sign-out").details(
        json!({ "api": "dashboard", "admin": { "id": dash.admin.id, "email": dash.admin.email } }),
    ))
    .await;
    let mut response = dash.redirect("/dashboard/signin", "You are signed out.");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie(app, SESSION_COOKIE, "", Some(0)));
    response
}
