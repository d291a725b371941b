//! A store outage is answered 503 with `Retry-After`, never a 500 or a hang.
//!
//! The hang is bounded by the store (a short pool acquire timeout: a statement that gets no
//! connection fails as `StoreError::Unavailable`); the answer is given here, once for every
//! surface. Each request runs under `portcullis_store::outage::watch`, where the backends note
//! an outage when they classify an error; a request that then fails with a 5xx is answered in
//! its surface's standard shape: RFC 6749's JSON (`temporarily_unavailable`) on the protocol's
//! JSON endpoints, Auth0's error shape on the Management API, an HTML page on the hosted pages
//! and the dashboard. A request that succeeded despite the outage (served from the replica's
//! caches, or an audit entry that could not be written) keeps its answer.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use portcullis_admin::management::errors::ApiError;

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Middleware: answers a request that failed because the store was unreachable with a 503.
pub async fn answer_outages(
    State(app): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let surface = Surface::of(request.uri().path());
    let (response, noticed) = portcullis_store::outage::watch(next.run(request)).await;
    if !noticed || !response.status().is_server_error() {
        return response;
    }
    match surface {
        Surface::Protocol => OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "The service is temporarily unavailable. Retry in a moment.",
        )
        .into_response(),
        Surface::Management => ApiError::unavailable().into_response(),
        Surface::Page => portcullis_web::retry_after_outage(app.templates.message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            portcullis_web::OUTAGE_MESSAGE,
            None,
        )),
    }
}

/// Which standard shape a path's errors take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Surface {
    /// The protocol's JSON endpoints (token, revocation, userinfo, discovery).
    Protocol,
    /// `/api/v2`.
    Management,
    /// Pages a browser shows: `/authorize`, the login and consent forms, logout, the
    /// dashboard.
    Page,
}

impl Surface {
    fn of(path: &str) -> Surface {
        if path == "/api/v2" || path.starts_with("/api/v2/") {
            Surface::Management
        } else if path.starts_with("/oauth/")
            || path == "/userinfo"
            || path.starts_with("/.well-known/")
        {
            Surface::Protocol
        } else {
            Surface::Page
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_surface() {
        assert_eq!(Surface::of("/oauth/token"), Surface::Protocol);
        assert_eq!(Surface::of("/userinfo"), Surface::Protocol);
        assert_eq!(Surface::of("/.well-known/jwks.json"), Surface::Protocol);
        assert_eq!(Surface::of("/api/v2/users"), Surface::Management);
        assert_eq!(Surface::of("/api/v2x"), Surface::Page);
        assert_eq!(Surface::of("/u/login"), Surface::Page);
        assert_eq!(Surface::of("/dashboard/users"), Surface::Page);
        assert_eq!(Surface::of("/authorize"), Surface::Page);
    }
}
