//! Administration of a Portcullis tenant over HTTP: Auth0's Management API v2 and the web
//! dashboard. Both are adapters over `portcullis_core::admin` (every change is made, checked
//! and audited there); this crate owns their routes, Auth0's JSON shapes ([`shapes`]), the
//! dashboard's templates and static files, and the first start's bootstrap (the Management
//! API's resource server, its first machine client, the first administrator).
//!
//! The server nests [`management_router`] at `/api/v2` and [`dashboard_router`] at
//! `/dashboard`, each with its [`AdminState`].

pub mod dashboard;
pub mod management;
pub mod shapes;
mod state;

use axum::Router;

pub use management::bootstrap::BootstrapCredentials;
pub use state::{AdminInner, AdminSettings, AdminState};

/// The Management API, to nest at `/api/v2`.
pub fn management_router<S: Clone + Send + Sync + 'static>(state: AdminState) -> Router<S> {
    management::router()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            management::audit::record_failures,
        ))
        .with_state(state)
}

/// The dashboard, to nest at `/dashboard`.
pub fn dashboard_router<S: Clone + Send + Sync + 'static>(state: AdminState) -> Router<S> {
    dashboard::router().with_state(state)
}

/// First start: the Management API's resource server and bootstrap client, and the first
/// dashboard administrator. Safe when several replicas start at once on one empty store.
pub async fn bootstrap(
    state: &AdminState,
    client: Option<&BootstrapCredentials>,
) -> anyhow::Result<management::bootstrap::Outcome> {
    let outcome = management::bootstrap::run(state, client).await?;
    dashboard::bootstrap_admin(state).await?;
    Ok(outcome)
}
