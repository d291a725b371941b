//! The answer to a request refused because every password-hashing slot is taken
//! (`PasswordError::Busy`): a 429 that says when to come back, alike on every surface.

use axum::{
    http::{header, HeaderValue},
    response::Response,
};
use portcullis_core::password::BUSY_RETRY_AFTER_SECONDS;

/// What a sign-in or sign-up form shows when it was refused that way.
pub const BUSY_MESSAGE: &str = "The server is busy. Try again in a moment.";

/// `response` with the `Retry-After` of a full hashing queue (RFC 6585 §4).
pub fn retry_after_busy(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(BUSY_RETRY_AFTER_SECONDS),
    );
    response
}
