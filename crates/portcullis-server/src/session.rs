//! The login session cookie and the login-form CSRF cookie.

use axum::http::{HeaderMap, HeaderValue};
use portcullis_core::{
    audit::{self, RequestOrigin},
    secrets::{constant_time_eq, lookup_hash, random_token},
};
use portcullis_store::{LoginSession, User};
use portcullis_types::EventType;
pub use portcullis_web::cookie_value;
use portcullis_web::{set_cookie as web_cookie, CookieOptions};

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent in the same-site iframe of silent
/// authentication), Secure under https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let options = CookieOptions {
        path: "/",
        secure: state.settings.secure_cookies(),
        max_age,
    };
    web_cookie(name, value, options)
}

/// The CSRF value of this browser's hosted forms: its cookie's, or a new one (which the page
/// then sets).
pub fn csrf_value(headers: &HeaderMap) -> String {
    cookie_value(headers, CSRF_COOKIE)
        .filter(|c| c.len() >= 32)
        .unwrap_or_else(|| random_token(32))
}

/// Whether a hosted form carried this browser's CSRF value (the double-submit cookie, which a
/// cross-site page can neither read nor set), compared in constant time.
pub fn csrf_matches(headers: &HeaderMap, submitted: &str) -> bool {
    let cookie = cookie_value(headers, CSRF_COOKIE).unwrap_or_default();
    cookie.len() >= 32 && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(state: &AppState, name: &str) -> HeaderValue {
    set_cookie(state, name, "", Some(0))
}

/// The signed-in user of this browser, if its session is live and the user still exists.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Option<(LoginSession, User)> {
    let token = cookie_value(headers, SESSION_COOKIE)?;
    let session = state
        .store
        .session_by_hash(&lookup_hash(&token), state.clock.now())
        .await
        .ok()??;
    let user = state.store.user_by_id(&session.user_id).await.ok()??;
    Some((session, user))
}

/// Starts a session for `user`; returns the cookie to set.
pub async fn start(
    state: &AppState,
    user: &User,
) -> Result<HeaderValue, portcullis_store::StoreError> {
    let token = random_token(32);
    let now = state.clock.now();
    let session = LoginSession {
        id_hash: lookup_hash(&token),
        sid: random_token(18),
        user_id: user.user_id.clone(),
        auth_time: now,
        expires_at: now + state.settings.session_lifetime,
    };
    state.store.create_session(&session).await?;
    state.store.record_login(&user.user_id, now).await?;
    Ok(set_cookie(
        state,
        SESSION_COOKIE,
        &token,
        Some(state.settings.session_lifetime),
    ))
}

/// Ends this browser's session, if any; returns the cookie that clears it.
pub async fn end(state: &AppState, headers: &HeaderMap, origin: &RequestOrigin) -> HeaderValue {
    if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
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
