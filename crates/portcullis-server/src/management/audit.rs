//! Admin changes made through the Management API go to the audit log as Auth0's `sapi`
//! events: who (the client, its address), what (a description and the object's ids), never a
//! secret.

use serde_json::{json, Value};

use super::auth::Caller;
use crate::{
    audit::{codes, entry},
    state::AppState,
};

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
