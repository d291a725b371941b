//! The HTTP edge the protocol server and the administration surfaces share: cookies, where a
//! request comes from (behind trusted proxies too), which requests may write, and the answer to
//! a full hashing queue or an unreachable store. Nothing here knows a route.

mod busy;
mod cookies;
mod forwarded;
mod origin;
mod outage;

use axum::http::Method;

pub use self::{
    busy::{retry_after_busy, BUSY_MESSAGE},
    cookies::{cookie_value, set_cookie, CookieOptions, Cookies},
    forwarded::{ForwardedHeader, TrustedProxies},
    origin::{ClientAddress, ClientOrigin},
    outage::{retry_after_outage, OUTAGE_MESSAGE, OUTAGE_RETRY_AFTER_SECONDS},
};

/// The script that runs a page's WebAuthn ceremonies (`navigator.credentials`), the same on
/// the hosted login pages and on the dashboard; the file's opening comment says what a page
/// gives it.
pub const WEBAUTHN_SCRIPT: &str = include_str!("webauthn.js");

/// Whether a request with `method` may change something (anything but GET, HEAD, OPTIONS).
pub fn may_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// RFC 9449's header names, used by the endpoints that take proofs and by the error answers
/// that carry a server nonce.
pub mod dpop {
    use axum::http::HeaderName;

    /// The request header that carries a proof.
    pub const DPOP: HeaderName = HeaderName::from_static("dpop");
    /// The response header that carries a server nonce.
    pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");
}
