//! The router: every endpoint, its CORS policy, body limits and metrics.

pub mod authorize;
pub mod consent;
pub mod consent_gate;
pub mod discovery;
pub mod login;
pub mod logout;
pub mod operations;
pub mod token;
pub mod userinfo;

use std::time::Duration;

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderName, HeaderValue, Method, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::state::AppState;

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
                    let Ok(origin) = origin.to_str() else {
                        return false;
                    };
                    if !app.origins.contains(origin)
                        && app.origins.is_older_than(Duration::from_millis(100))
                    {
                        // A client may have been registered since the last refresh: look again before
                        // refusing, at most ten times a second.
                        let _ = app.refresh_caches().await;
                    }
                    app.origins.contains(origin)
                }
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("auth0-client"),
        ])
        .max_age(Duration::from_secs(86_400));
    let public_cors = CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET]);

    let spa_endpoints = Router::new()
        .route("/oauth/token", post(token::post))
        .route("/oauth/revoke", post(token::revoke))
        .route("/userinfo", get(userinfo::get).post(userinfo::get))
        .layer(spa_cors);
    let public_endpoints = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .layer(public_cors);
    let pages = Router::new()
        .route("/authorize", get(authorize::get))
        .route("/u/login", get(login::get_login).post(login::post_login))
        .route("/u/signup", get(login::get_signup).post(login::post_signup))
        .route("/u/consent", post(consent::post))
        .route("/v2/logout", get(logout::v2))
        .route("/oidc/logout", get(logout::oidc).post(logout::oidc));
    let operations = Router::new()
        .route("/healthz", get(operations::healthz))
        .route("/readyz", get(operations::readyz))
        .route("/metrics", get(operations::metrics));
    let fresh = || middleware::from_fn_with_state(state.clone(), fresh_tenant_after_writes);

    Router::new()
        .merge(spa_endpoints)
        .merge(public_endpoints)
        .merge(pages)
        .merge(operations)
        .nest(
            "/api/v2",
            portcullis_admin::management_router(state.admin.clone()).layer(fresh()),
        )
        .nest(
            "/dashboard",
            portcullis_admin::dashboard_router(state.admin.clone()).layer(fresh()),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), operations::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            // The path only: queries carry codes, states and tokens.
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
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
    if may_write {
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
