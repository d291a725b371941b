//! The rate limits (`crate::rate_limit`) as middleware: Auth0's `x-ratelimit-limit`,
//! `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds) on every answer of a limited
//! group, and a refusal as a 429 with `Retry-After`, in the shape of the endpoint's other
//! errors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use portcullis_admin::management::errors::ApiError;
use portcullis_web::ClientAddress;

use crate::{
    error::{ErrorCode, OAuthError},
    rate_limit::{RateGroup, Verdict},
    state::AppState,
};

/// Middleware limiting the requests of `group` per client address.
pub async fn limit(
    State((app, group)): State<(AppState, RateGroup)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(&ClientAddress(address)) = request.extensions().get::<ClientAddress>() else {
        return next.run(request).await;
    };
    match app.limiters.check(group, address) {
        Verdict::Unlimited => next.run(request).await,
        Verdict::Allowed {
            limit,
            remaining,
            full_in,
        } => {
            let mut response = next.run(request).await;
            rate_headers(response.headers_mut(), limit, remaining, full_in);
            response
        }
        Verdict::Refused {
            limit,
            wait,
            full_in,
        } => {
            app.metrics.rate_limited(group);
            let mut response = refusal(&app, group);
            let headers = response.headers_mut();
            rate_headers(headers, limit, 0, full_in);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
            response
        }
    }
}

/// A 429 in the shape of the group's other errors.
fn refusal(app: &AppState, group: RateGroup) -> Response {
    match group {
        RateGroup::Token | RateGroup::Userinfo => OAuthError::new(
            ErrorCode::TooManyRequests,
            "Too many requests from this address. Wait and try again.",
        )
        .into_response(),
        RateGroup::Login | RateGroup::Signup => app.templates.message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "Too many requests came from your network. Wait a moment and try again.",
            Some("too_many_requests"),
        ),
        RateGroup::Management => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.",
        )
        .into_response(),
    }
}

/// Auth0's rate-limit headers; `reset` is when the bucket is full again, in Unix seconds
/// (`Retry-After` says when the next request is allowed).
fn rate_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset_in: Duration) {
    let reset = SystemTime::now()
        .checked_add(reset_in)
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map_or(0, whole_seconds);
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(limit)),
        ("x-ratelimit-remaining", u64::from(remaining)),
        ("x-ratelimit-reset", reset),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// Seconds, rounded up.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 0);
    }
}
