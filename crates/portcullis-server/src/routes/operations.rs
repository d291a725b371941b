//! Operations endpoints: liveness, readiness and Prometheus metrics, and the middleware that
//! counts every request.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    metrics::{method_label, RequestLabels, RouteLabels},
    state::AppState,
};

pub async fn healthz() -> impl IntoResponse {
    "ok"
}

/// Ready when the store answers and a signing key is loaded.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    match app.store.live_keys().await {
        Ok(keys) if !keys.is_empty() => (StatusCode::OK, "ready"),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "no signing key"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
    }
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

/// Middleware counting every request by its route template (never the raw path, which could
/// carry identifiers).
pub async fn track(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    app.metrics
        .latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    app.metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
