//! Auth0 Actions administered: the draft (name, trigger, code, secrets), deployment as an
//! immutable version, the triggers' ordered bindings, and a test run of the draft.

use portcullis_actions::{Outcome, Script};
use portcullis_store::{Action as StoredAction, ActionBinding, ActionVersion};
use portcullis_types::ActionTrigger;
use serde_json::{json, Value};

use super::action_secrets::{self as secrets, SealedSecret};
use super::{conflict_as, missing, Action, Actor, AdminError, Change, Context, Kind};

/// Actions' names are at most this long (Auth0's bound).
const MAX_NAME: usize = 100;
/// An Action's code is at most this long: Actions are small functions, not bundles.
const MAX_CODE_BYTES: usize = 100 * 1024;
const NAME_TAKEN: &str = "an action with this name already exists";

/// A secret as given: a value, or `None` to keep the current one of that name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretInput {
    pub name: String,
    pub value: Option<String>,
}

/// A new Action.
#[derive(Clone, Debug)]
pub struct NewAction {
    pub name: String,
    pub trigger: ActionTrigger,
    pub code: String,
    pub runtime: Option<String>,
    pub secrets: Vec<SecretInput>,
}

/// A change to an Action: what is `None` stays; `secrets` replaces the list.
#[derive(Clone, Debug, Default)]
pub struct ActionPatch {
    pub name: Option<String>,
    pub code: Option<String>,
    pub runtime: Option<String>,
    pub secrets: Option<Vec<SecretInput>>,
}

/// An Action with what its readers need: its secrets' names and its deployed version.
#[derive(Clone, Debug)]
pub struct ActionView {
    pub action: StoredAction,
    /// `(name, updated_at)` of each secret; values are never shown.
    pub secrets: Vec<(String, i64)>,
    pub deployed: Option<ActionVersion>,
}

impl ActionView {
    /// Whether the deployed version runs the draft as it is.
    pub fn all_changes_deployed(&self) -> bool {
        self.deployed.as_ref().is_some_and(|version| {
            version.code == self.action.code && version.created_at >= self.action.updated_at
        })
    }
}

fn check_name(name: &str) -> Result<String, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(AdminError::invalid(
            "name",
            format!("name must hold 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

fn check_code(code: &str) -> Result<(), AdminError> {
    if code.len() > MAX_CODE_BYTES {
        return Err(AdminError::invalid("code", "code must be at most 100 KB"));
    }
    Ok(())
}

/// The secrets after a change: each named once, a missing value kept from `current`.
fn merge_secrets(
    now: i64,
    current: &[SealedSecret],
    given: Vec<SecretInput>,
) -> Result<Vec<SealedSecret>, AdminError> {
    let mut merged: Vec<SealedSecret> = Vec::new();
    for secret in given {
        let name = secret.name.trim().to_owned();
        if name.is_empty()
            || name.len() > 128
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(AdminError::invalid(
                "secrets",
                "a secret's name holds letters, digits, '_' or '-' (at most 128)",
            ));
        }
        if merged.iter().any(|s| s.name == name) {
            return Err(AdminError::invalid(
                "secrets",
                format!("the secret {name} is named twice"),
            ));
        }
        let kept = current.iter().find(|s| s.name == name);
        let (value, updated_at) = match (secret.value, kept) {
            (Some(value), Some(kept)) if kept.value == value => (value, kept.updated_at),
            (Some(value), _) => (value, now),
            (None, Some(kept)) => (kept.value.clone(), kept.updated_at),
            (None, None) => {
                return Err(AdminError::invalid(
                    "secrets",
                    format!("the new secret {name} needs a value"),
                ))
            }
        };
        merged.push(SealedSecret {
            name,
            value,
            updated_at,
        });
    }
    Ok(merged)
}

fn seal(
    cx: &Context,
    kind: &str,
    id: &str,
    list: &[SealedSecret],
) -> Result<Option<Vec<u8>>, AdminError> {
    secrets::seal(&cx.key_cipher, kind, id, list).map_err(|error| AdminError::Keys(error.into()))
}

fn open(cx: &Context, action: &StoredAction) -> Result<Vec<SealedSecret>, AdminError> {
    secrets::open_action(&cx.key_cipher, action).map_err(|error| AdminError::Keys(error.into()))
}

fn described(action: Action, stored: &StoredAction) -> Change {
    Change::new(action, Kind::AutomationAction, &stored.id).with(json!({
        "name": stored.name,
        "trigger": stored.trigger.as_str(),
    }))
}

async fn view(cx: &Context, action: StoredAction) -> Result<ActionView, AdminError> {
    let secrets = open(cx, &action)?
        .into_iter()
        .map(|secret| (secret.name, secret.updated_at))
        .collect();
    let deployed = cx
        .store()
        .action_versions(&action.id)
        .await?
        .into_iter()
        .next();
    Ok(ActionView {
        action,
        secrets,
        deployed,
    })
}

/// The code a new Action starts with when none is given (the dashboard's Create Action):
/// the trigger's handler, empty, with what its arguments are.
pub fn starter_code(trigger: ActionTrigger) -> String {
    let (flow, api) = match trigger {
        ActionTrigger::PostLogin => ("PostLogin", "PostLoginAPI"),
        ActionTrigger::CredentialsExchange => ("Machine to Machine", "CredentialsExchangeAPI"),
    };
    format!(
        "/**\n * Handler that will be called during the execution of a {flow} flow.\n *\n \
         * @param {{Event}} event - Details about the context of this execution.\n \
         * @param {{{api}}} api - Methods that change what the flow does.\n */\n\
         exports.{handler} = async (event, api) => {{\n}};\n",
        handler = trigger.handler(),
    )
}

/// Creates an Action (a draft: nothing runs until it is deployed and bound).
pub async fn create(cx: &Context, actor: &Actor, new: NewAction) -> Result<ActionView, AdminError> {
    let name = check_name(&new.name)?;
    check_code(&new.code)?;
    let now = cx.now();
    let id = uuid::Uuid::new_v4().to_string();
    let list = merge_secrets(now, &[], new.secrets)?;
    let action = StoredAction {
        sealed_secrets: seal(cx, "action", &id, &list)?,
        id,
        name,
        trigger: new.trigger,
        code: new.code,
        runtime: new.runtime.unwrap_or_else(|| "node18".to_owned()),
        created_at: now,
        updated_at: now,
    };
    cx.store()
        .insert_action(&action)
        .await
        .map_err(conflict_as("name", NAME_TAKEN))?;
    cx.record(actor, described(Action::Create, &action)).await;
    view(cx, action).await
}

/// Every Action, by name; with `trigger`, only those for it.
pub async fn list(
    cx: &Context,
    trigger: Option<ActionTrigger>,
) -> Result<Vec<ActionView>, AdminError> {
    let mut views = Vec::new();
    for action in cx.store().actions().await? {
        if trigger.is_none_or(|t| t == action.trigger) {
            views.push(view(cx, action).await?);
        }
    }
    Ok(views)
}

async fn stored(cx: &Context, id: &str) -> Result<StoredAction, AdminError> {
    cx.store()
        .action_by_id(id)
        .await?
        .ok_or(AdminError::NotFound(Kind::AutomationAction))
}

/// The Action of this id.
pub async fn find(cx: &Context, id: &str) -> Result<ActionView, AdminError> {
    view(cx, stored(cx, id).await?).await
}

/// The Action of this name, for the CLI.
pub async fn find_by_name(cx: &Context, name: &str) -> Result<Option<ActionView>, AdminError> {
    match cx
        .store()
        .actions()
        .await?
        .into_iter()
        .find(|a| a.name == name)
    {
        Some(action) => Ok(Some(view(cx, action).await?)),
        None => Ok(None),
    }
}

/// Changes the draft; the deployed version runs on unchanged until the next deployment.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    id: &str,
    patch: ActionPatch,
) -> Result<ActionView, AdminError> {
    let mut action = stored(cx, id).await?;
    if let Some(name) = patch.name {
        action.name = check_name(&name)?;
    }
    if let Some(code) = patch.code {
        check_code(&code)?;
        action.code = code;
    }
    if let Some(runtime) = patch.runtime {
        action.runtime = runtime;
    }
    let now = cx.now();
    if let Some(given) = patch.secrets {
        let list = merge_secrets(now, &open(cx, &action)?, given)?;
        action.sealed_secrets = seal(cx, "action", &action.id, &list)?;
    }
    action.updated_at = now;
    cx.store()
        .update_action(&action)
        .await
        .map_err(|error| match error {
            portcullis_store::StoreError::NotFound => AdminError::NotFound(Kind::AutomationAction),
            other => conflict_as("name", NAME_TAKEN)(other),
        })?;
    cx.record(actor, described(Action::Update, &action)).await;
    view(cx, action).await
}

/// Deploys the draft: its code (which must compile) and secrets become a new immutable
/// version, the one bound triggers run from now on.
pub async fn deploy(cx: &Context, actor: &Actor, id: &str) -> Result<ActionVersion, AdminError> {
    let action = stored(cx, id).await?;
    cx.actions
        .compile(action.code.clone())
        .await
        .map_err(|error| AdminError::invalid("code", error.to_string()))?;
    let number = cx
        .store()
        .action_versions(id)
        .await?
        .first()
        .map_or(1, |latest| latest.number + 1);
    let version_id = uuid::Uuid::new_v4().to_string();
    let version = ActionVersion {
        sealed_secrets: seal(cx, "version", &version_id, &open(cx, &action)?)?,
        id: version_id,
        action_id: action.id.clone(),
        number,
        code: action.code.clone(),
        runtime: action.runtime.clone(),
        created_at: cx.now(),
    };
    cx.store()
        .insert_action_version(&version)
        .await
        .map_err(|error| match error {
            portcullis_store::StoreError::NotFound => AdminError::NotFound(Kind::AutomationAction),
            other => conflict_as("id", "the action is being deployed by another request")(other),
        })?;
    cx.record(
        actor,
        described(Action::Deploy, &action).with(json!({"version": number})),
    )
    .await;
    Ok(version)
}

/// The Action's versions, newest first.
pub async fn versions(cx: &Context, id: &str) -> Result<Vec<ActionVersion>, AdminError> {
    stored(cx, id).await?;
    Ok(cx.store().action_versions(id).await?)
}

/// Deletes the Action with its versions; a bound one only with `force` (then its bindings go
/// too), as at Auth0.
pub async fn delete(cx: &Context, actor: &Actor, id: &str, force: bool) -> Result<(), AdminError> {
    let action = stored(cx, id).await?;
    if !force
        && !cx
            .store()
            .action_bindings(action.trigger)
            .await?
            .iter()
            .all(|b| b.action_id != id)
    {
        return Err(AdminError::invalid(
            "force",
            format!(
                "the action is bound to the {} trigger: remove it from the trigger first (or delete it with force)",
                action.trigger
            ),
        ));
    }
    cx.store()
        .delete_action(id)
        .await
        .map_err(missing(Kind::AutomationAction))?;
    cx.record(actor, described(Action::Delete, &action)).await;
    Ok(())
}

/// The trigger's bindings, in the order they run.
pub async fn bindings(
    cx: &Context,
    trigger: ActionTrigger,
) -> Result<Vec<ActionBinding>, AdminError> {
    Ok(cx.store().action_bindings(trigger).await?)
}

/// A binding as asked for: the Action (by id or by name) and the name the flow shows.
#[derive(Clone, Debug)]
pub struct BindingInput {
    pub action: ActionRef,
    pub display_name: Option<String>,
}

#[derive(Clone, Debug)]
pub enum ActionRef {
    Id(String),
    Name(String),
}

/// Replaces the trigger's bindings, in this order. Each Action must be for this trigger and
/// deployed, and appears once.
pub async fn set_bindings(
    cx: &Context,
    actor: &Actor,
    trigger: ActionTrigger,
    inputs: Vec<BindingInput>,
) -> Result<Vec<ActionBinding>, AdminError> {
    let all = cx.store().actions().await?;
    let now = cx.now();
    let mut bindings: Vec<ActionBinding> = Vec::new();
    for input in inputs {
        let found = all.iter().find(|a| match &input.action {
            ActionRef::Id(id) => &a.id == id,
            ActionRef::Name(name) => &a.name == name,
        });
        let Some(action) = found else {
            return Err(AdminError::invalid(
                "bindings",
                "a binding names an action that does not exist",
            ));
        };
        if action.trigger != trigger {
            return Err(AdminError::invalid(
                "bindings",
                format!(
                    "the action {} is for the trigger {}, not {trigger}",
                    action.name, action.trigger
                ),
            ));
        }
        if cx.store().action_versions(&action.id).await?.is_empty() {
            return Err(AdminError::invalid(
                "bindings",
                format!("the action {} has not been deployed", action.name),
            ));
        }
        if bindings.iter().any(|b| b.action_id == action.id) {
            return Err(AdminError::invalid(
                "bindings",
                format!("the action {} is bound twice", action.name),
            ));
        }
        bindings.push(ActionBinding {
            id: uuid::Uuid::new_v4().to_string(),
            trigger,
            action_id: action.id.clone(),
            display_name: input.display_name.unwrap_or_else(|| action.name.clone()),
            created_at: now,
        });
    }
    cx.store()
        .replace_action_bindings(trigger, &bindings)
        .await
        .map_err(missing(Kind::AutomationAction))?;
    let names: Vec<&str> = bindings.iter().map(|b| b.display_name.as_str()).collect();
    cx.record(
        actor,
        Change::new(Action::Update, Kind::TriggerBindings, trigger.as_str())
            .with(json!({"actions": names})),
    )
    .await;
    Ok(bindings)
}

/// Runs the draft of the Action on `event` with its current secrets, as Auth0's test does:
/// nothing is written, and what the code asked of the `api` is returned.
pub async fn test(cx: &Context, id: &str, event: Value) -> Result<Outcome, AdminError> {
    let action = stored(cx, id).await?;
    if !event.is_object() {
        return Err(AdminError::invalid(
            "payload",
            "payload.event must be an object",
        ));
    }
    let secrets = open(cx, &action)?
        .into_iter()
        .map(|secret| (secret.name, secret.value))
        .collect();
    cx.actions
        .run(Script {
            code: action.code,
            trigger: action.trigger,
            event,
            secrets,
        })
        .await
        .map_err(|error| AdminError::invalid("code", error.to_string()))
}
