//! The router: every endpoint, its CORS policy, rate limits, body limits and metrics, and the
//! client's address, resolved once for all of them.

pub mod account;
pub mod authorize;
pub mod authorize_request;
pub mod connection_login;
pub mod consent;
pub mod consent_gate;
pub mod dbconnections;
pub mod discovery;
pub mod dpop;
pub mod introspect;
pub mod limits;
pub mod login;
pub mod logout;
pub mod mfa;
pub mod mfa_api;
pub mod mfa_gate;
pub mod mfa_webauthn;
pub mod operations;
pub mod outage;
pub mod passkey;
pub mod passkey_signup;
pub mod register;
pub mod token;
pub mod userinfo;
pub mod webauthn_pages;

use std::{net::SocketAddr, time::Duration};

use axum::{
    extract::{ConnectInfo, DefaultBodyLimit, Request, State},
    http::{header, HeaderName, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use portcullis_web::ClientAddress;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{rate_limit::RateGroup, state::AppState};

/// Request bodies beyond this are refused with 413 before any parsing.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every endpoint: the protocol's, the operations endpoints, and the administration surfaces
/// nested under `/api/v2` and `/dashboard`.
pub fn router(state: AppState) -> Router {
    // Endpoints a SPA calls cross-origin: only for origins some client registered (the
    // preflight does not say which client asks; the token endpoint then checks the client).
    let registered = state.clone();
    let spa_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, _parts| {
                let app = registered.clone();
                async move {
                    match origin.to_str() {
                        Ok(origin) => app.origin_allowed(origin).await,
                        Err(_) => false,
                    }
                }
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("auth0-client"),
            dpop::DPOP,
        ])
        .expose_headers([dpop::DPOP_NONCE])
        .max_age(Duration::from_secs(86_400));
    let public_cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET]);

    let limit =
        |group: RateGroup| middleware::from_fn_with_state((state.clone(), group), limits::limit);
    // Inside the CORS layer: preflights are not counted, and refusals carry CORS headers.
    let spa_endpoints = Router::new()
        .route("/oauth/token", post(token::post))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/introspect", post(introspect::post))
        .route("/mfa/challenge", post(mfa_api::challenge))
        .route("/mfa/associate", post(mfa_api::associate))
        .route("/mfa/authenticators", get(mfa_api::authenticators))
        .route_layer(limit(RateGroup::Token))
        // auth0.js's signup and changePassword, counted with the hosted forms they stand for.
        .merge(
            Router::new()
                .route("/dbconnections/signup", post(dbconnections::signup))
                .route_layer(limit(RateGroup::Signup)),
        )
        .merge(
            Router::new()
                .route(
                    "/dbconnections/change_password",
                    post(dbconnections::change_password),
                )
                .route_layer(limit(RateGroup::Login)),
        )
        .merge(
            Router::new()
                .route("/userinfo", get(userinfo::get).post(userinfo::get))
                .route_layer(limit(RateGroup::Userinfo)),
        )
        .layer(spa_cors);
    let public_endpoints = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .layer(public_cors);
    // RFC 7591 registration: MCP clients in a browser register from any origin.
    let register_endpoint = Router::new()
        .route("/oidc/register", post(register::post))
        .route_layer(limit(RateGroup::Signup))
        .layer(register::cors());
    let pages = Router::new()
        .route("/authorize", get(authorize::get))
        .route("/login/callback", get(connection_login::callback))
        // The forms' submissions are limited, not the pages.
        .route(
            "/u/login",
            get(login::get_login).merge(post(login::post_login).layer(limit(RateGroup::Login))),
        )
        .route(
            "/u/signup",
            get(login::get_signup).merge(post(login::post_signup).layer(limit(RateGroup::Signup))),
        )
        .route(
            "/u/forgot-password",
            get(account::get_forgot)
                .merge(post(account::post_forgot).layer(limit(RateGroup::Login))),
        )
        .route("/u/email-verification", get(account::get_verify))
        .route("/u/unblock", get(account::get_unblock))
        .route(
            "/u/reset-password",
            get(account::get_reset).merge(post(account::post_reset).layer(limit(RateGroup::Login))),
        )
        .route("/u/consent", post(consent::post))
        .route(
            "/u/mfa",
            get(mfa::get).merge(post(mfa::post).layer(limit(RateGroup::Login))),
        )
        .route(
            "/u/mfa/enrol",
            post(mfa::post_enrol).layer(limit(RateGroup::Login)),
        )
        .route(
            "/u/mfa/webauthn",
            post(mfa_webauthn::post).layer(limit(RateGroup::Login)),
        )
        .route(
            "/u/login/passkey",
            post(passkey::post).layer(limit(RateGroup::Login)),
        )
        // Each fetch stores a ceremony's challenge: limited like the forms.
        .route(
            "/u/login/passkey/options",
            post(passkey::options).layer(limit(RateGroup::Login)),
        )
        .route(
            "/u/signup/passkey/options",
            post(passkey_signup::options).layer(limit(RateGroup::Signup)),
        )
        .route(
            "/u/signup/passkey",
            post(passkey_signup::post).layer(limit(RateGroup::Signup)),
        )
        .route("/v2/logout", get(logout::v2))
        .route("/oidc/logout", get(logout::oidc).post(logout::oidc));
    let mut operations = Router::new()
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz));
    if state.settings.metrics_listen.is_none() {
        operations = operations.route("/metrics", get(operations::metrics));
    }
    let fresh = || middleware::from_fn_with_state(state.clone(), fresh_tenant_after_writes);

    Router::new()
        .merge(spa_endpoints)
        .merge(public_endpoints)
        .merge(register_endpoint)
        .merge(pages)
        .merge(operations)
        .nest(
            "/api/v2",
            portcullis_admin::management_router(state.admin.clone())
                .layer(fresh())
                .layer(limit(RateGroup::Management)),
        )
        .nest(
            "/dashboard",
            portcullis_admin::dashboard_router(state.admin.clone()).layer(fresh()),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), outage::answer_outages))
        .layer(middleware::from_fn_with_state(state.clone(), operations::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            // The path only: queries carry codes, states and tokens.
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        // Outermost: everything inside sees the client's address.
        .layer(middleware::from_fn_with_state(state.clone(), client_address))
        .with_state(state)
}

/// `/metrics` alone, for its own listener (`Settings::metrics_listen`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(operations::metrics))
        .fallback(not_found)
        .with_state(state)
}

/// Resolves the client's address once per request, from the TCP peer and, when the peer is a
/// trusted proxy, its forwarding header; everything after reads it as [`ClientAddress`].
async fn client_address(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(&ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let address = app
            .settings
            .trusted_proxies
            .client_address(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddress(address));
    }
    next.run(request).await
}

/// The administration surfaces change what this replica's caches hold (applications, APIs,
/// grants, CORS origins): reload them after any request that may have written, so that the
/// change applies to the next request here.
async fn fresh_tenant_after_writes(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let may_write = portcullis_web::may_write(request.method());
    let response = next.run(request).await;
    // While the store is unreachable a reload would only wait out the acquire timeout again:
    // the copies are dropped instead, and the next request that needs them reloads them.
    if may_write && portcullis_store::outage::noticed() {
        app.tenant.invalidate();
    } else if may_write {
        if let Err(error) = app.refresh_caches().await {
            app.tenant.invalidate();
            tracing::warn!(%error, "could not reload the caches after a change");
        }
    }
    response
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            serde_json::json!({"error": "not_found", "error_description": "No such endpoint."}),
        ),
    )
}
