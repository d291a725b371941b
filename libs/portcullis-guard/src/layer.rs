//! A tower layer that guards whole routers (or single routes with `route_layer`).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    http::{header, Method, Request},
    response::{IntoResponse, Response},
};
use tower::{Layer, Service};

use crate::{error::AuthError, guard::Guard, scope::ScopePolicy};

/// Built by [`Guard::layer`] and [`Guard::require`].
///
/// Refused requests get the guard's 401/403 response and never reach the inner service;
/// accepted ones carry the [`VerifiedToken`](crate::VerifiedToken) in their extensions. CORS
/// preflight requests pass through untouched, as in express-jwt: browsers never send
/// credentials on them.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    guard: Guard,
    policy: Option<ScopePolicy>,
}

// Defined here rather than in `guard` so that `guard` does not depend on the layer.
impl Guard {
    /// A tower layer that lets through only requests with a valid token, and puts the
    /// [`VerifiedToken`](crate::VerifiedToken) in the request's extensions.
    pub fn layer(&self) -> GuardLayer {
        GuardLayer {
            guard: self.clone(),
            policy: None,
        }
    }

    /// Like [`layer`](Self::layer), and the token must also satisfy `policy`
    /// (403 `insufficient_scope` otherwise).
    pub fn require(&self, policy: ScopePolicy) -> GuardLayer {
        GuardLayer {
            guard: self.clone(),
            policy: Some(policy),
        }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> GuardService<S> {
        GuardService {
            inner,
            guard: self.guard.clone(),
            policy: self.policy.clone(),
        }
    }
}

/// The service produced by [`GuardLayer`].
#[derive(Debug, Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Guard,
    policy: Option<ScopePolicy>,
}

impl<S, B> Service<Request<B>> for GuardService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        let policy = self.policy.clone();
        Box::pin(async move {
            if is_cors_preflight(&request) {
                return inner.call(request).await;
            }
            let token = match guard.already_verified(request.extensions()) {
                Some(token) => token,
                None => match guard
                    .authenticate_request(Some(request.method()), request.headers(), request.uri())
                    .await
                {
                    Ok(token) => token,
                    Err(error) => return Ok(guard.reject(error).into_response()),
                },
            };
            if let Some(policy) = policy {
                if !policy.is_satisfied_by(token.scopes()) {
                    return Ok(guard
                        .reject(AuthError::InsufficientScope(policy))
                        .into_response());
                }
            }
            request.extensions_mut().insert(token);
            inner.call(request).await
        })
    }
}

fn is_cors_preflight<B>(request: &Request<B>) -> bool {
    request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}
