//! Failed changes by an authenticated caller go to the audit log as Auth0's `fapi` events
//! (successful ones are recorded by the administrative operations themselves, as `sapi`).

use axum::{
    extract::{OriginalUri, Request, State},
    middleware::Next,
    response::Response,
};
use serde_json::json;

use portcullis_core::audit::entry;
use portcullis_types::EventType;

use super::auth::CallerSlot;
use crate::state::AdminState;

/// Logs a failed write (a method that may write, answered with a 4xx or 5xx) as `fapi`:
/// the client, its address, the method, path and status; never a body. Only for callers whose
/// token checked out, so that anonymous requests cannot flood the log.
pub async fn record_failures(
    State(app): State<AdminState>,
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
    if failed && portcullis_web::may_write(&method) {
        if let Some(caller) = slot.get() {
            app.cx
                .audit
                .record(
                    entry(
                        EventType::FailedManagementOperation,
                        "Failed Management API operation",
                    )
                    .client(&caller.client)
                    .origin(&caller.origin)
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
