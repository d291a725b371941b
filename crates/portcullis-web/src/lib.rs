//! The HTTP edge the protocol server and the administration surfaces share: cookies, where a
//! request comes from (behind trusted proxies too), and which requests may write. Nothing here
//! knows a route.

mod cookies;
mod forwarded;
mod origin;

use axum::http::Method;

pub use self::{
    cookies::{cookie_value, set_cookie, CookieOptions, Cookies},
    forwarded::{ForwardedHeader, TrustedProxies},
    origin::{ClientAddress, ClientOrigin},
};

/// Whether a request with `method` may change something (anything but GET, HEAD, OPTIONS).
pub fn may_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}
