//! Administrators' sign-in and their session.
//!
//! The session lives in the store's admin-session table (not the users' login sessions),
//! keyed by the hash of a random token held in the `portcullis_admin` cookie: any replica can
//! check it, and it only counts while its administrator exists. Every POST carries
//! the value of the `portcullis_admin_csrf` cookie in its `csrf` field (double submit), and
//! failed sign-ins are throttled per account and per address like the hosted login page.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequest, FromRequestParts, OriginalUri, RawQuery, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use cookie::{Cookie, SameSite};
use minijinja::context;
use portcullis_core::{
    administrators,
    secrets::{constant_time_eq, lookup_hash, random_token},
};
use portcullis_store::{Admin, AdminSession, StoreError};
use serde::Serialize;
use serde_json::json;

use super::{
    form::FormData,
    view::{self, Flash, Frame, Section},
};
use crate::{
    audit::{self, codes},
    session::cookie_value,
    state::AppState,
};

pub const SESSION_COOKIE: &str = "portcullis_admin";
pub const CSRF_COOKIE: &str = "portcullis_admin_csrf";
pub const FLASH_COOKIE: &str = "portcullis_admin_flash";
const COOKIE_PATH: &str = "/dashboard";

/// An administrator's session lasts this long (seconds).
pub const SESSION_LIFETIME: i64 = 12 * 3600;

/// Largest form body the dashboard reads.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A `Set-Cookie` value for the dashboard's cookies: HttpOnly, SameSite=Lax, only sent to
/// `/dashboard`, Secure under https.
fn cookie(app: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = Cookie::build((name, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.settings.secure_cookies())
        .build();
    if let Some(seconds) = max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A usable CSRF value from the request's cookie, or a fresh one (`true`: to be set).
fn csrf_value(headers: &HeaderMap) -> (String, bool) {
    match cookie_value(headers, CSRF_COOKIE).filter(|value| value.len() >= 32) {
        Some(value) => (value, false),
        None => (random_token(32), true),
    }
}

fn csrf_matches(headers: &HeaderMap, submitted: &str) -> bool {
    let cookie = cookie_value(headers, CSRF_COOKIE).unwrap_or_default();
    cookie.len() >= 32 && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
}

fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The administrator signed in on this browser, if the session is live and they still exist.
async fn signed_in(app: &AppState, headers: &HeaderMap) -> Result<Option<Admin>, StoreError> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = app
        .store
        .admin_session_by_hash(&lookup_hash(&token), app.clock.now())
        .await?
    else {
        return Ok(None);
    };
    app.store.admin_by_id(&session.admin_id).await
}

/// A signed-in administrator's request: what every page needs to render and to record
/// changes. Without a session the request is sent to the sign-in page.
pub struct Dash {
    pub app: AppState,
    pub admin: Admin,
    csrf: String,
    csrf_is_new: bool,
    flash: Option<Flash>,
    ip: Option<IpAddr>,
    /// Only the `User-Agent`, for the audit log.
    agent: HeaderMap,
}

impl FromRequestParts<AppState> for Dash {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let admin = match signed_in(app, &parts.headers).await {
            Ok(Some(admin)) => admin,
            Ok(None) => {
                // Nested routers see the path without `/dashboard`; the original has it.
                let uri = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map_or(&parts.uri, |OriginalUri(uri)| uri);
                let wanted = uri.path_and_query().map_or("/dashboard", |p| p.as_str());
                let target = if parts.method == axum::http::Method::GET {
                    let next = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("next", wanted)
                        .finish();
                    format!("/dashboard/signin?{next}")
                } else {
                    "/dashboard/signin".to_owned()
                };
                return Err(Redirect::to(&target).into_response());
            }
            Err(error) => {
                tracing::error!(%error, "could not read an administrator session");
                return Err(view::message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The dashboard could not read your session. Try again in a moment.",
                ));
            }
        };
        let (csrf, csrf_is_new) = csrf_value(&parts.headers);
        let flash = cookie_value(&parts.headers, FLASH_COOKIE)
            .as_deref()
            .and_then(Flash::decode);
        let mut agent = HeaderMap::new();
        if let Some(value) = parts.headers.get(header::USER_AGENT) {
            agent.insert(header::USER_AGENT, value.clone());
        }
        Ok(Dash {
            app: app.clone(),
            admin,
            csrf,
            csrf_is_new,
            flash,
            ip: peer(parts),
            agent,
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

    /// Records an administrative change: who (the administrator), what (`action` on the
    /// object `kind`/`id`), from where. Never pass a secret in `extra`.
    pub async fn record(
        &self,
        description: &str,
        action: &str,
        kind: &str,
        id: &str,
        extra: serde_json::Value,
    ) {
        let mut details = json!({
            "api": "dashboard",
            "admin": { "id": self.admin.id, "email": self.admin.email },
            "action": action,
            "target": { "type": kind, "id": id },
        });
        if let (Some(details), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra)
        {
            details.extend(extra);
        }
        self.app
            .audit(
                audit::entry(codes::MANAGEMENT_OPERATION, description)
                    .user_id(&self.admin.id)
                    .request(self.ip, &self.agent)
                    .details(details),
            )
            .await;
    }

    /// An audit entry of another type made by this administrator (the Test tab's token).
    pub fn entry(&self, event_type: &str, description: &str) -> audit::Entry {
        audit::entry(event_type, description)
            .user_id(&self.admin.id)
            .request(self.ip, &self.agent)
    }
}

/// A signed-in administrator's form submission whose CSRF value matched. Anything else is
/// refused before the handler runs: no session → sign-in page, bad CSRF value → 403.
pub struct Posted {
    pub dash: Dash,
    pub form: FormData,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request<Body>, app: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let dash = Dash::from_request_parts(&mut parts, app).await?;
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
        if !csrf_matches(&parts.headers, form.raw("csrf")) {
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
fn safe_next(next: &str) -> &str {
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
    app: &AppState,
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
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = FormData::from_query(query.as_deref());
    let next = safe_next(query.get("next"));
    if let Ok(Some(_)) = signed_in(&app, &headers).await {
        return Redirect::to(next).into_response();
    }
    let (csrf, is_new) = csrf_value(&headers);
    let notice = cookie_value(&headers, FLASH_COOKIE)
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

enum Failure {
    Wrong,
    Throttled,
    Internal,
}

/// `POST /dashboard/signin`.
pub async fn signin(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = FormData::parse(&body);
    if !csrf_matches(&headers, form.raw("csrf")) {
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
    let failed = |event_type: &str, description: &str| {
        audit::entry(event_type, description)
            .request(Some(peer.ip()), &headers)
            .details(json!({ "api": "dashboard", "email": email }))
    };
    let admin = match authenticate(&app, peer.ip(), &email, form.raw("password")).await {
        Ok(admin) => admin,
        Err(Failure::Wrong) => {
            app.audit(failed(codes::FAILED_LOGIN, "Dashboard sign-in failed"))
                .await;
            return again(StatusCode::UNAUTHORIZED, "Wrong email or password.");
        }
        Err(Failure::Throttled) => {
            app.audit(failed(
                codes::LOGIN_THROTTLED,
                "Too many failed dashboard sign-ins",
            ))
            .await;
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed attempts. Wait a few minutes and try again.",
            );
        }
        Err(Failure::Internal) => {
            return again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            )
        }
    };
    // A session this browser had before is replaced, not left behind.
    if let Some(old) = cookie_value(&headers, SESSION_COOKIE) {
        if let Err(error) = app.store.delete_admin_session(&lookup_hash(&old)).await {
            tracing::warn!(%error, "could not delete a replaced administrator session");
        }
    }
    let token = random_token(32);
    let now = app.clock.now();
    let session = AdminSession {
        id_hash: lookup_hash(&token),
        admin_id: admin.id.clone(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME,
    };
    if let Err(error) = app.store.create_admin_session(&session).await {
        tracing::error!(%error, "could not start an administrator session");
        return again(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong. Please try again.",
        );
    }
    app.audit(
        audit::entry(codes::LOGIN, "Dashboard sign-in")
            .user_id(&admin.id)
            .request(Some(peer.ip()), &headers)
            .details(
                json!({ "api": "dashboard", "admin": { "id": admin.id, "email": admin.email } }),
            ),
    )
    .await;
    let mut response = Redirect::to(&next).into_response();
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

/// Checks the credentials under per-account and per-address throttling of failures.
async fn authenticate(
    app: &AppState,
    ip: IpAddr,
    email: &str,
    password: &str,
) -> Result<Admin, Failure> {
    let limits = app.settings.throttle;
    let now = app.clock.now();
    let window = now - now.rem_euclid(limits.window_seconds);
    let account_key = format!("dashboard:account:{}", email.to_lowercase());
    let ip_key = format!("dashboard:ip:{ip}");
    let store = &app.store;
    let internal = |error: StoreError| {
        tracing::error!(%error, "administrator sign-in failed");
        Failure::Internal
    };
    let account_hits = store.hits(&account_key, window).await.map_err(internal)?;
    let ip_hits = store.hits(&ip_key, window).await.map_err(internal)?;
    if account_hits >= limits.per_account || ip_hits >= limits.per_ip {
        return Err(Failure::Throttled);
    }
    match administrators::verify_admin(store.as_ref(), email, password)
        .await
        .map_err(internal)?
    {
        Some(admin) => {
            store.clear(&account_key).await.map_err(internal)?;
            Ok(admin)
        }
        None => {
            store.hit(&account_key, window).await.map_err(internal)?;
            store.hit(&ip_key, window).await.map_err(internal)?;
            tracing::info!(%ip, "failed dashboard sign-in");
            Err(Failure::Wrong)
        }
    }
}

/// `POST /dashboard/signout`: ends the session and clears its cookie.
pub async fn signout(headers: HeaderMap, Posted { dash, .. }: Posted) -> Response {
    let app = &dash.app;
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        if let Err(error) = app.store.delete_admin_session(&lookup_hash(&token)).await {
            tracing::error!(%error, "could not delete an administrator session");
        }
    }
    app.audit(dash.entry(codes::LOGOUT, "Dashboard sign-out").details(
        json!({ "api": "dashboard", "admin": { "id": dash.admin.id, "email": dash.admin.email } }),
    ))
    .await;
    let mut response = dash.redirect("/dashboard/signin", "You are signed out.");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie(app, SESSION_COOKIE, "", Some(0)));
    response
}
