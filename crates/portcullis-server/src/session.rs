//! The login session cookie and the login-form CSRF cookie.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use portcullis_core::secrets::{lookup_hash, random_token};
use portcullis_store::{LoginSession, User};

use crate::{
    audit::{self, codes},
    state::AppState,
};

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";

/// The value of cookie `name` in the request, if any.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent in the same-site iframe of silent
/// authentication), Secure under https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .build();
    if let Some(seconds) = max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
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
pub async fn end(state: &AppState, headers: &HeaderMap) -> HeaderValue {
    if let Some(token) = cookie_value(headers, SESSION_COOKIE) {
        let hash = lookup_hash(&token);
        if let Ok(Some(session)) = state.store.session_by_hash(&hash, state.clock.now()).await {
            state
                .audit(
                    audit::entry(codes::LOGOUT, "Successful logout")
                        .user_id(&session.user_id)
                        .request(None, headers),
                )
                .await;
        }
        if let Err(error) = state.store.delete_session(&hash).await {
            tracing::error!(%error, "could not delete a session");
        }
    }
    clear_cookie(state, SESSION_COOKIE)
}
