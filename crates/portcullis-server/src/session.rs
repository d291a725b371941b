//! The login session cookie and the login form's CSRF protection.
//!
//! A session has an absolute end (`session_lifetime`) and an idle end (`session_idle_timeout`)
//! moved forward as it is used; each sign-in replaces the browser's previous session with a
//! new one (no fixation). The login form's CSRF value is bound to its authorization request:
//! it is a MAC of the browser's CSRF cookie and that request, so a value taken from one login
//! page cannot submit another.

use axum::http::{HeaderMap, HeaderValue};
use portcullis_core::{
    audit::{self, RequestOrigin},
    secrets::{lookup_hash, random_token},
};
use portcullis_store::{LoginSession, StoreError, User};
use portcullis_types::{AuthMethod, EventType};

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";

/// The shortest CSRF cookie value accepted (a fresh one has 43 characters).
const MIN_CSRF_COOKIE: usize = 32;

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent in the same-site iframe of silent
/// authentication), a `__Host-` cookie under https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    state.settings.cookies().set(name, value, "/", max_age)
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(state: &AppState, name: &str) -> HeaderValue {
    set_cookie(state, name, "", Some(0))
}

/// The value of cookie `name` (as this deployment names it) in the request.
pub fn cookie(state: &AppState, headers: &HeaderMap, name: &str) -> Option<String> {
    state.settings.cookies().get(headers, name)
}

/// The signed-in user of this browser, if its session is live and the user still exists. A
/// session in use has its idle end moved forward (at most one write per tenth of the idle
/// timeout).
pub async fn current(state: &AppState, headers: &HeaderMap) -> Option<(LoginSession, User)> {
    let token = cookie(state, headers, SESSION_COOKIE)?;
    let now = state.clock.now();
    let mut session = state
        .store
        .session_by_hash(&lookup_hash(&token), now)
        .await
        .ok()??;
    let user = state.store.user_by_id(&session.user_id).await.ok()??;
    let idle = state.settings.session_idle_timeout;
    let idle_end = (now + idle).min(session.expires_at);
    if idle_end - session.idle_expires_at > idle / 10 {
        match state.store.touch_session(&session.id_hash, idle_end).await {
            Ok(()) => session.idle_expires_at = idle_end,
            Err(error) => tracing::warn!(%error, "could not extend a session"),
        }
    }
    Some((session, user))
}

/// Starts a session for `user`, ending the one this browser had; returns the cookie to set.
pub async fn start(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
) -> Result<HeaderValue, StoreError> {
    start_with(state, headers, user, vec![AuthMethod::Pwd], None).await
}

/// Starts a session whose login used `amr`, having passed a second factor at `mfa_time` if
/// it did (a passkey sign-in is both factors at once).
pub async fn start_with(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    amr: Vec<AuthMethod>,
    mfa_time: Option<i64>,
) -> Result<HeaderValue, StoreError> {
    if let Some(old) = cookie(state, headers, SESSION_COOKIE) {
        state.store.delete_session(&lookup_hash(&old)).await?;
    }
    let token = random_token(32);
    let now = state.clock.now();
    let settings = &state.settings;
    let expires_at = now + settings.session_lifetime;
    let session = LoginSession {
        id_hash: lookup_hash(&token),
        sid: random_token(18),
        user_id: user.user_id.clone(),
        auth_time: now,
        expires_at,
        idle_expires_at: (now + settings.session_idle_timeout).min(expires_at),
        amr,
        mfa_time,
    };
    state.store.create_session(&session).await?;
    state.store.record_login(&user.user_id, now).await?;
    Ok(set_cookie(
        state,
        SESSION_COOKIE,
        &token,
        Some(settings.session_lifetime),
    ))
}

/// Ends this browser's session, if any; returns the cookie that clears it.
pub async fn end(state: &AppState, headers: &HeaderMap, origin: &RequestOrigin) -> HeaderValue {
    if let Some(token) = cookie(state, headers, SESSION_COOKIE) {
        let hash = lookup_hash(&token);
        if let Ok(Some(session)) = state.store.session_by_hash(&hash, state.clock.now()).await {
            state
                .audit(
                    audit::entry(EventType::Logout, "Successful logout")
                        .user_id(&session.user_id)
                        .origin(origin),
                )
                .await;
        }
        if let Err(error) = state.store.delete_session(&hash).await {
            tracing::error!(%error, "could not delete a session");
        }
    }
    clear_cookie(state, SESSION_COOKIE)
}

/// The CSRF protection of the hosted forms (login, sign-up, consent): the browser's random
/// CSRF cookie, and the form value bound to one authorization request.
pub struct LoginCsrf {
    /// The cookie's value; `set` when it is new and must be set.
    pub cookie: String,
    pub set: bool,
}

impl LoginCsrf {
    /// The request's CSRF cookie, or a new one.
    pub fn of(state: &AppState, headers: &HeaderMap) -> Self {
        match cookie(state, headers, CSRF_COOKIE).filter(|c| c.len() >= MIN_CSRF_COOKIE) {
            Some(cookie) => LoginCsrf { cookie, set: false },
            None => LoginCsrf {
                cookie: random_token(32),
                set: true,
            },
        }
    }

    /// The form value for the login page of `authorize_query`.
    pub fn form_value(&self, state: &AppState, authorize_query: &str) -> String {
        state
            .csrf_mac
            .tag(&[self.cookie.as_bytes(), authorize_query.as_bytes()])
    }

    /// Whether a submitted form's value belongs to this browser and this authorization request.
    pub fn matches(
        state: &AppState,
        headers: &HeaderMap,
        authorize_query: &str,
        value: &str,
    ) -> bool {
        let Some(cookie) =
            cookie(state, headers, CSRF_COOKIE).filter(|c| c.len() >= MIN_CSRF_COOKIE)
        else {
            return false;
        };
        state
            .csrf_mac
            .verify(&[cookie.as_bytes(), authorize_query.as_bytes()], value)
    }
}
