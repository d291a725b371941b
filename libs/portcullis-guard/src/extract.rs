//! Getting the verified claims into a handler.

use std::ops::Deref;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::{
    claims::{DefaultClaims, VerifiedToken},
    error::{GuardRejection, TokenError},
    guard::Guard,
    scope::ScopeSet,
};

/// The verified claims of the request's token, as `T` (default [`DefaultClaims`]).
///
/// Needs the [`Guard`] in the router's state (`Guard: FromRef<S>`). If a [`GuardLayer`] of
/// the same guard already verified the token, its result is reused. A token whose claims do
/// not fit `T` is refused with 401 `invalid_token`.
///
/// [`GuardLayer`]: crate::GuardLayer
#[derive(Debug, Clone)]
pub struct Claims<T = DefaultClaims> {
    claims: T,
    token: VerifiedToken,
}

impl<T> Claims<T> {
    /// The claims.
    pub fn into_inner(self) -> T {
        self.claims
    }

    /// The scopes the token grants.
    pub fn scopes(&self) -> &ScopeSet {
        self.token.scopes()
    }

    /// The verified token behind these claims.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }
}

impl<T> Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.claims
    }
}

impl<S, T> FromRequestParts<S> for Claims<T>
where
    Guard: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = GuardRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let guard = Guard::from_ref(state);
        let token = match guard.already_verified(&parts.extensions) {
            Some(token) => token,
            None => {
                let token = guard
                    .authenticate_request(Some(&parts.method), &parts.headers, &parts.uri)
                    .await
                    .map_err(|error| guard.reject(error))?;
                parts.extensions.insert(token.clone());
                token
            }
        };
        let claims = token
            .deserialize()
            .map_err(|_| guard.reject(TokenError::MalformedClaims.into()))?;
        Ok(Self { claims, token })
    }
}
