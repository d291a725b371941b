//! Where a request comes from: the client's address and its user agent, for the audit log,
//! throttling, rate limits and metrics.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts},
};
use portcullis_core::audit::RequestOrigin;

/// The client's address, resolved once per request by the server's outermost layer (the TCP
/// peer, or what trusted proxies say: [`crate::TrustedProxies`]) and kept as a request
/// extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The resolved address, else the TCP peer's.
    pub fn of(parts: &Parts) -> Option<IpAddr> {
        parts
            .extensions
            .get::<ClientAddress>()
            .map(|ClientAddress(address)| *address)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(peer)| peer.ip().to_canonical())
            })
    }
}

/// The request's [`RequestOrigin`]: the client's address and the `User-Agent`. Never fails.
#[derive(Clone, Debug, Default)]
pub struct ClientOrigin(pub RequestOrigin);

impl ClientOrigin {
    /// Reads the origin from request parts.
    pub fn of(parts: &Parts) -> Self {
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok());
        ClientOrigin(RequestOrigin::new(ClientAddress::of(parts), agent))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientOrigin::of(parts))
    }
}
