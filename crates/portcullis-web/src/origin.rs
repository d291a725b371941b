//! Where a request comes from: the client's address and its user agent, for the audit log,
//! throttling and metrics.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use portcullis_core::audit::RequestOrigin;

/// The request's [`RequestOrigin`]: the TCP peer's address and the `User-Agent`. Never fails.
#[derive(Clone, Debug, Default)]
pub struct ClientOrigin(pub RequestOrigin);

impl ClientOrigin {
    /// Reads the origin from request parts.
    pub fn of(parts: &Parts) -> Self {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok());
        ClientOrigin(RequestOrigin::new(ip, agent))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientOrigin::of(parts))
    }
}
