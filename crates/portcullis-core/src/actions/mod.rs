//! Auth0 Actions at their triggers: the deployed versions bound to a trigger run in order
//! through [`portcullis_actions::Engine`], and what they asked of the `api` is turned into
//! what the flow does — token changes ([`TokenChanges`]), metadata written to the user, or a
//! denial naming the Action.
//!
//! An Action's failure (a throw, a timeout, memory exhausted, a secret that does not open) is
//! a denial like `api.access.deny`: the flow never goes on to issue a token after it.

pub mod claims;
pub mod event;
mod outcome;

use portcullis_actions::{ActionError, ApiCall, Engine, Script};
use portcullis_store::{ActionBinding, ActionVersion, Store, StoreError, User};
use portcullis_types::ActionTrigger;
use serde_json::{Map, Value};

use crate::keys::KeyCipher;

pub use outcome::{Denial, TokenChanges, TriggerRun};
pub use portcullis_actions::{Limits, LogLine, Outcome};

/// Why a trigger did not let the flow go on.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("{0}")]
    Denied(Denial),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What running a trigger needs.
#[derive(Clone, Copy)]
pub struct Runner<'a> {
    pub store: &'a dyn Store,
    pub cipher: &'a KeyCipher,
    pub engine: &'a Engine,
}

impl Runner<'_> {
    /// Runs `bound`, the trigger's bound Action versions (`Store::bound_action_versions`, or
    /// a copy of it), in order on the event `event` builds; for post-login, `user` receives
    /// the metadata the Actions set (written to the store once every Action has run and none
    /// denied). Nothing bound: nothing runs, and the event is not built.
    pub async fn run(
        &self,
        trigger: ActionTrigger,
        bound: &[(ActionBinding, ActionVersion)],
        event: impl AsyncFnOnce() -> Result<Value, StoreError>,
        user: Option<&User>,
    ) -> Result<TriggerRun, TriggerError> {
        let mut run = TriggerRun::default();
        if bound.is_empty() {
            return Ok(run);
        }
        let mut event = event().await?;
        let mut app_metadata = user.map(|u| u.app_metadata.clone()).unwrap_or_default();
        let mut user_metadata = user.map(|u| u.user_metadata.clone()).unwrap_or_default();
        for (binding, version) in bound {
            let name = binding.display_name.clone();
            let fail = |error: String| {
                TriggerError::Denied(Denial {
                    action: name.clone(),
                    reason: error,
                    failed: true,
                })
            };
            let secrets = crate::admin::action_secrets::open_version(self.cipher, version)
                .map_err(|_| fail("the Action's secrets do not open".to_owned()))?;
            let script = Script {
                code: version.code.clone(),
                trigger,
                event: event.clone(),
                secrets,
            };
            let outcome = self
                .engine
                .run(script)
                .await
                .map_err(|error: ActionError| fail(error.to_string()))?;
            let metadata = run
                .absorb(&name, &outcome)
                .map_err(|error| fail(error.to_string()))?;
            if let Some(reason) = outcome.denied() {
                return Err(TriggerError::Denied(Denial {
                    action: name,
                    reason: reason.to_owned(),
                    failed: false,
                }));
            }
            if user.is_some() {
                if let Some(change) = metadata.app {
                    app_metadata = change
                        .apply("app_metadata", &app_metadata)
                        .map_err(|error| fail(error.to_string()))?;
                }
                if let Some(change) = metadata.user {
                    user_metadata = change
                        .apply("user_metadata", &user_metadata)
                        .map_err(|error| fail(error.to_string()))?;
                }
                // A later Action sees what an earlier one set, as at Auth0.
                if let Some(event_user) = event.get_mut("user").and_then(Value::as_object_mut) {
                    event_user.insert("app_metadata".into(), Value::Object(app_metadata.clone()));
                    event_user.insert("user_metadata".into(), Value::Object(user_metadata.clone()));
                }
            }
        }
        if trigger == ActionTrigger::CredentialsExchange {
            // Auth0's credentials-exchange `api` changes the access token's claims only: the
            // scopes are the client grant's, there is no ID token and no user to ask a factor of.
            run.changes.add_scopes.clear();
            run.changes.remove_scopes.clear();
            run.changes.id_claims.clear();
            run.changes.multifactor = false;
        }
        if let Some(user) = user {
            if user.app_metadata != app_metadata || user.user_metadata != user_metadata {
                persist_metadata(self.store, &user.user_id, app_metadata, user_metadata).await?;
            }
        }
        Ok(run)
    }
}

/// Writes the metadata the Actions set onto the current record of the user (read again, so a
/// change made meanwhile to anything else is kept).
async fn persist_metadata(
    store: &dyn Store,
    user_id: &str,
    app_metadata: Map<String, Value>,
    user_metadata: Map<String, Value>,
) -> Result<(), StoreError> {
    let Some(mut current) = store.user_by_id(user_id).await? else {
        return Ok(());
    };
    current.app_metadata = app_metadata;
    current.user_metadata = user_metadata;
    store.update_user(&current).await
}

/// The calls of an outcome, for a test run's answer.
pub fn describe_calls(calls: &[ApiCall]) -> Vec<Value> {
    calls
        .iter()
        .map(|call| serde_json::to_value(call).unwrap_or(Value::Null))
        .collect()
}

/// The server's settings for Actions: each execution's limits, and how many run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActionSettings {
    pub limits: Limits,
    /// Executions at once, each on a blocking thread with its own runtime; the rest wait.
    pub concurrency: usize,
}

impl Default for ActionSettings {
    /// Twice the cores: an Action is pure computation, so more at once only shares the cores
    /// more thinly, while each one's memory limit multiplies.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ActionSettings {
            limits: Limits::default(),
            concurrency: cores * 2,
        }
    }
}

/// The engine of these settings.
pub fn engine(settings: &ActionSettings) -> Engine {
    Engine::new(settings.limits, settings.concurrency)
}
