//! Reading and setting cookies.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};

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

/// Where a cookie is sent and how long it lives.
#[derive(Clone, Copy, Debug)]
pub struct CookieOptions<'a> {
    pub path: &'a str,
    /// Only over https: set when the issuer is https.
    pub secure: bool,
    /// Seconds; `None` for a session cookie, `Some(0)` to remove it.
    pub max_age: Option<i64>,
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent in the same-site iframe of silent
/// authentication and on top-level navigations back from an application).
pub fn set_cookie(name: &str, value: &str, options: CookieOptions<'_>) -> HeaderValue {
    let mut cookie = Cookie::build((name, value))
        .path(options.path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(options.secure)
        .build();
    if let Some(seconds) = options.max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}
