//! Protects an axum (or any tower) API with OAuth 2.0 JWT access tokens.
//!
//! A [`Guard`] takes the bearer token from a request, checks it against the issuer's JSON Web
//! Key Set and its claims, and either hands the claims to the handler or answers as RFC 6750
//! says: `401` with `WWW-Authenticate: Bearer realm="api"` when there is no token, `401
//! error="invalid_token"` when the token is bad, `403 error="insufficient_scope"` when it lacks
//! a scope the route requires. It works with any OpenID Connect issuer (Portcullis, Auth0,
//! Keycloak, …) and shares no code with the Portcullis server.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use portcullis_guard::{Claims, Guard, ScopePolicy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let guard = Guard::builder("https://tenant.example.com/")
//!     .audience("https://api.example.com")
//!     .build()?;
//! let app = Router::new()
//!     .route("/api/private", get(private))
//!     .route("/api/messages", get(|| async { "[]" })
//!         .route_layer(guard.require(ScopePolicy::all_of(["read:messages"]))))
//!     .with_state(guard);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3010").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//!
//! async fn private(claims: Claims) -> String {
//!     format!("Hello, {}", claims.sub)
//! }
//! ```
//!
//! # What is checked, in order
//!
//! 1. Size (8 KiB by default) and shape: exactly three non-empty base64url segments.
//! 2. Header policy: `alg` in the allow-list (RS256 by default; add PS256, ES256, ...; HMAC
//!    can not be put in it — HS256 is accepted only with [`GuardBuilder::hs256_secret`] — and
//!    `none` can not be expressed); no `crit`, `jku`, `x5u`, `jwk`, `x5c`, `enc`, `zip`,
//!    `b64` or nested `cty`; `typ` absent, `JWT` or `at+jwt`; `kid` short and plain.
//! 3. The key named by `kid`, from a key set fetched from the configured JWKS URL only, and
//!    only if it is for the token's algorithm (its JWK's `alg`, or its type). An unknown kid
//!    causes at most a rate-limited refetch; a down JWKS endpoint leaves cached keys in use.
//!    An HS256 token is checked with the application's secret alone, never with a JWKS key.
//! 4. The signature, with aws-lc-rs public keys parsed once per key when the set is loaded
//!    (HS256: through `jsonwebtoken` with the `aws_lc_rs` backend).
//! 5. `iss` exactly, `aud` containing a configured audience, `exp` required, `nbf` and `iat`
//!    with the clock tolerance (30 s by default).
//!
//! With [`GuardBuilder::resource_metadata`], the guard also serves RFC 9728 protected-resource
//! metadata ([`Guard::resource_metadata_router`]) and every challenge names it
//! (`resource_metadata="..."`), so that an OAuth client (an MCP client, say) that meets a 401
//! finds the authorization server on its own.
//!
//! A token bound to a DPoP key (`cnf.jkt`, RFC 9449) is accepted only as `Authorization:
//! DPoP <token>` with a `DPoP` proof by that key for the request (`htm`, `htu`, `iat`, `ath`,
//! each proof once), never as a bearer token; every 401 offers both schemes
//! (`WWW-Authenticate: Bearer ...` and `DPoP algs="..."`).
//!
//! A token that passed is remembered (by its SHA-256) until its `exp`, so a client reusing
//! its token costs a hash lookup rather than an RSA verification.

mod claims;
mod config;
mod dpop;
mod error;
mod extract;
mod guard;
mod header_policy;
mod jwks;
mod layer;
mod metadata;
mod scope;
mod sources;
mod token_cache;
mod verify;

pub use jsonwebtoken::Algorithm;

pub use crate::{
    claims::{Audiences, DefaultClaims, VerifiedToken},
    config::{ConfigError, GuardBuilder, MAX_CLOCK_TOLERANCE, MIN_HMAC_SECRET_BYTES},
    dpop::MAX_REMEMBERED_PROOFS,
    error::{AuthError, ErrorBodyFn, GuardRejection, TokenError},
    extract::Claims,
    guard::Guard,
    jwks::KeySetError,
    layer::{GuardLayer, GuardService},
    metadata::{ResourceMetadata, WELL_KNOWN_PATH},
    scope::{ScopeClaims, ScopePolicy, ScopeSet},
};
