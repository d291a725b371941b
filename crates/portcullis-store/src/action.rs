//! Auth0 Actions: code run at a trigger, deployed as immutable versions and bound to triggers
//! in order. Secrets are kept sealed (the store never sees them in the clear).

use async_trait::async_trait;
use portcullis_types::ActionTrigger;

use crate::StoreResult;

/// An Action as it is being edited (Auth0's draft).
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// A UUID, as Auth0's.
    pub id: String,
    /// Unique in the tenant.
    pub name: String,
    pub trigger: ActionTrigger,
    pub code: String,
    /// Auth0's `runtime` (`node18`...), kept for round trips; the code runs in QuickJS.
    pub runtime: String,
    /// The secrets (a JSON list of `{name, value, updated_at}`) sealed under the master key.
    pub sealed_secrets: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A deployed, immutable copy of an Action's code and secrets.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionVersion {
    pub id: String,
    pub action_id: String,
    /// 1, 2, ... per Action; the highest one is the deployed one.
    pub number: i64,
    pub code: String,
    pub runtime: String,
    /// The secrets as they were at deployment, sealed under the master key.
    pub sealed_secrets: Option<Vec<u8>>,
    pub created_at: i64,
}

/// An Action's place in a trigger's flow.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionBinding {
    pub id: String,
    pub trigger: ActionTrigger,
    pub action_id: String,
    pub display_name: String,
    pub created_at: i64,
}

/// Actions, their versions and the triggers' bindings.
#[async_trait]
pub trait ActionRepository: Send + Sync {
    /// Conflict when the name is taken.
    async fn insert_action(&self, action: &Action) -> StoreResult<()>;
    /// Conflict when the name is taken, NotFound when the Action is gone.
    async fn update_action(&self, action: &Action) -> StoreResult<()>;
    async fn action_by_id(&self, id: &str) -> StoreResult<Option<Action>>;
    /// Every Action, by name.
    async fn actions(&self) -> StoreResult<Vec<Action>>;
    /// Deletes the Action with its versions and bindings; NotFound when it is gone.
    async fn delete_action(&self, id: &str) -> StoreResult<()>;
    /// Conflict when the number is taken (a concurrent deployment), NotFound when the Action
    /// is gone.
    async fn insert_action_version(&self, version: &ActionVersion) -> StoreResult<()>;
    /// The Action's versions, newest first.
    async fn action_versions(&self, action_id: &str) -> StoreResult<Vec<ActionVersion>>;
    /// The trigger's bindings, in the order they run.
    async fn action_bindings(&self, trigger: ActionTrigger) -> StoreResult<Vec<ActionBinding>>;
    /// Replaces the trigger's bindings by `bindings`, in that order, at once; NotFound when
    /// one names an Action that does not exist.
    async fn replace_action_bindings(
        &self,
        trigger: ActionTrigger,
        bindings: &[ActionBinding],
    ) -> StoreResult<()>;
    /// The deployed versions of the Actions bound to the trigger, in the order they run (an
    /// Action without a version is skipped).
    async fn bound_action_versions(
        &self,
        trigger: ActionTrigger,
    ) -> StoreResult<Vec<(ActionBinding, ActionVersion)>>;
}
