//! Admin changes made through the Management API go to the audit log as Auth0's `sapi`
//! events: who (the client, its address), what (a description and the object's ids), never a
//! secret. Failed changes by an authenticated caller go there as `fapi`.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::{ConnectInfo, OriginalUri, Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::Response,
};
use portcullis_store::Client;
use serde_json::{json, Value};

use super::auth::Caller;
use crate::{
    audit::{codes, entry},
    state::AppState,
};

/// The client a request's token was issued to, once the [`Caller`] extractor has verified it;
/// read by [`record_failures`] after the handler has answered.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Client>>);

impl CallerSlot {
    pub fn fill(&self, client: &Client) {
        let _ = self.0.set(client.clone());
    }
}

/// Logs a failed write (any method but GET and HEAD answered with a 4xx or 5xx) as `fapi`:
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
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|peer| peer.0.ip());
    let mut user_agent = HeaderMap::new();
    if let Some(agent) = request.headers().get(header::USER_AGENT) {
        user_agent.insert(header::USER_AGENT, agent.clone());
    }
    let response = next.run(request).await;
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    if failed && !matches!(method, Method::GET | Method::HEAD) {
        if let Some(client) = slot.0.get() {
            app.audit(
                entry(
                    codes::FAILED_MANAGEMENT_OPERATION,
                    "Failed Management API operation",
                )
                .client(client)
                .request(ip, &user_agent)
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
