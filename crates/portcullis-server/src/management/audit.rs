//! Admin changes made through the Management API go to the audit log as Auth0's `sapi`
//! events: who (the client, its address), what (a description and the object's ids), never a
//! secret. Failed changes by an authenticated caller go there as `fapi`.

use std::sync::{Arc, OnceLock};

use axum::{
    extract::{OriginalUri, Request, State},
    middleware::Next,
    response::Response,
};
use serde_json::{json, Value};

use super::auth::Caller;
use crate::{
    audit::{codes, entry},
    state::AppState,
};

/// The caller, once the [`Caller`] extractor has verified its token; read by
/// [`record_failures`] after the handler has answered.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Caller>>);

impl CallerSlot {
    pub fn fill(&self, caller: &Caller) {
        let _ = self.0.set(caller.clone());
    }
}

/// Logs a failed write (a method that may write, answered with a 4xx or 5xx) as `fapi`:
/// the client, its address, the method, path and status; never a body. Only for callers whose
/// token checked out, so that anonymous requests cannot flood the log.
pub async fn record_failures(
    State(app): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    // Nesting strips `/api/v2` from the URI; the log shows the path as the caller sent it.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path(), |original| original.0.path())
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if failed && crate::routes::may_write(&method) {
        if let Some(caller) = slot.0.get() {
            app.audit(
                entry(
                    codes::FAILED_MANAGEMENT_OPERATION,
                    "Failed Management API operation",
                )
                .client(&caller.client)
                .request(caller.ip, &caller.user_agent)
                .details(json!({
                    "api": "management",
                    "method": method.as_str(),
                    "path": path,
                    "status": status.as_u16(),
                })),
            )
            .await;
        }
    }
    response
}

/// Records a successful change; a failure to write the log never fails the change.
pub async fn record(app: &AppState, caller: &Caller, description: &str, target: Value) {
    app.audit(
        entry(codes::MANAGEMENT_OPERATION, description)
            .client(&caller.client)
            .request(caller.ip, &caller.user_agent)
            .details(json!({"api": "management", "target": target})),
    )
    .await;
}
