//! Operations endpoints: liveness, readiness and Prometheus metrics, and the middleware that
//! counts every request.

use std::time::{Duration, Instant};

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

/// How long readiness waits for the store: shorter than a load balancer's probe timeout, so
/// that an unreachable store fails the probe with an answer rather than a hang.
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);

/// Ready when the store answers now (a ping, never a cached answer) and holds a signing key.
/// Not ready while it is unreachable, so that a load balancer takes the replica out, and ready
/// again as soon as it answers (the pool reconnects by itself).
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let probe = async {
        app.store.ping().await?;
        app.store.live_keys().await
    };
    match tokio::time::timeout(READINESS_TIMEOUT, probe).await {
        Ok(Ok(keys)) if !keys.is_empty() => (StatusCode::OK, "ready"),
        Ok(Ok(_)) => (StatusCode::SERVICE_UNAVAILABLE, "no signing key"),
        Ok(Err(_)) | Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store unavailable"),
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
