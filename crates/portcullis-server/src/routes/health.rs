//! Liveness and readiness.

use axum::{extract::State, http::StatusCode, response::IntoResponse};

use crate::state::AppState;

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
