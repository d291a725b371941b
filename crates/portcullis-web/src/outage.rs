//! The answer to a request that found the store unreachable: a 503 that says when to come
//! back, alike on every surface (each in its own body shape).

use axum::{
    http::{header, HeaderValue},
    response::Response,
};

/// Seconds a client is asked to wait before retrying while the store is unreachable: about
/// the time a database restart or a failover takes.
pub const OUTAGE_RETRY_AFTER_SECONDS: u64 = 5;

/// What a page shows when the store cannot be reached.
pub const OUTAGE_MESSAGE: &str = "The service is temporarily unavailable. Try again in a moment.";

/// `response` with the `Retry-After` of an outage (RFC 9110 §10.2.3).
pub fn retry_after_outage(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(OUTAGE_RETRY_AFTER_SECONDS),
    );
    response
}
