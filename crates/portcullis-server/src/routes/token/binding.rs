//! What a token request's DPoP proof binds the tokens it gets to.

use super::request::AuthenticatedClient;
use crate::routes::dpop::Proof;

/// What a request's DPoP proof binds: the access token always, the refresh token only for a
/// public client (a confidential client's is bound to its authentication already).
#[derive(Clone, Copy)]
pub(super) struct Binding<'a> {
    pub(super) access: Option<&'a str>,
    pub(super) refresh: Option<&'a str>,
}

impl<'a> Binding<'a> {
    pub(super) fn of(authenticated: &AuthenticatedClient, proof: Option<&'a Proof>) -> Self {
        let jkt = proof.map(|proof| proof.jkt.as_str());
        Binding {
            access: jkt,
            refresh: jkt.filter(|_| !authenticated.confidential),
        }
    }

    pub(super) fn token_type(self) -> &'static str {
        if self.access.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }
}
