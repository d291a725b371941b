//! `portcullis actions`: Auth0 Actions from the shell, as the Management API's
//! `/actions` routes change them: a file's code deployed under a name, the triggers' bindings in
//! order, a test run on an event. Secrets' values are never printed.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_admin::management::actions::action_shape;
use portcullis_core::admin::{
    actions::{self, ActionPatch, ActionRef, ActionView, BindingInput, NewAction, SecretInput},
    Actor,
};
use portcullis_types::ActionTrigger;
use serde_json::{json, Value};

use super::{open, parse_value, print_json, print_table, refused, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ActionsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ActionsAction,
}

#[derive(Subcommand)]
enum ActionsAction {
    /// List the Actions, with their trigger and deployed version.
    List,
    /// Create or update the Action named `--name` with the code of FILE, then deploy it (a new
    /// immutable version). It runs once bound to its trigger (`bind`).
    Deploy {
        /// A JavaScript file exporting `onExecutePostLogin` or `onExecuteCredentialsExchange`.
        file: std::path::PathBuf,
        #[arg(long)]
        name: String,
        /// post-login or credentials-exchange (for a new Action; an existing one keeps its own).
        #[arg(long, default_value = "post-login")]
        trigger: String,
        /// A secret the code reads as `event.secrets.NAME`, as NAME=VALUE (repeatable). Secrets
        /// not named keep their value.
        #[arg(long = "secret")]
        secrets: Vec<String>,
    },
    /// Bind deployed Actions to a trigger, in the order given (replacing its bindings; none
    /// given unbinds them all).
    Bind {
        /// post-login or credentials-exchange.
        trigger: String,
        /// Actions by name or id, in the order they run.
        actions: Vec<String>,
    },
    /// Show a trigger's bindings, in the order they run.
    Bindings { trigger: String },
    /// Run an Action's draft on an event (a JSON object) and print what it asked of the `api`;
    /// nothing is written.
    Test {
        action: String,
        /// The `event`, as JSON.
        #[arg(long, default_value = "{}")]
        event: String,
    },
    /// Delete an Action (`--force` when it is bound).
    Delete {
        action: String,
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(command: ActionsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        ActionsAction::List => {
            let views = actions::list(&cx.cx, None).await?;
            list(&cx, &views);
        }
        ActionsAction::Deploy {
            file,
            name,
            trigger,
            secrets,
        } => {
            let code = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let secrets = secrets
                .iter()
                .map(|pair| secret(pair))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let view = match actions::find_by_name(&cx.cx, &name).await? {
                Some(current) => {
                    let mut kept: Vec<SecretInput> = current
                        .secrets
                        .iter()
                        .filter(|(kept, _)| !secrets.iter().any(|s| &s.name == kept))
                        .map(|(name, _)| SecretInput {
                            name: name.clone(),
                            value: None,
                        })
                        .collect();
                    kept.extend(secrets);
                    let patch = ActionPatch {
                        code: Some(code),
                        secrets: Some(kept),
                        ..ActionPatch::default()
                    };
                    actions::update(&cx.cx, &Actor::Cli, &current.action.id, patch).await?
                }
                None => {
                    let new = NewAction {
                        name,
                        trigger: parse_value(&trigger)?,
                        code,
                        runtime: None,
                        secrets,
                    };
                    actions::create(&cx.cx, &Actor::Cli, new).await?
                }
            };
            let version = actions::deploy(&cx.cx, &Actor::Cli, &view.action.id).await?;
            if cx.json {
                print_json(&action_shape(
                    &actions::find(&cx.cx, &view.action.id).await?,
                ));
            } else {
                println!(
                    "Deployed {} ({}) version {} for {}",
                    view.action.name, view.action.id, version.number, view.action.trigger
                );
            }
        }
        ActionsAction::Bind { trigger, actions } => {
            let trigger: ActionTrigger = parse_value(&trigger)?;
            let mut inputs = Vec::new();
            for given in actions {
                let id = find(&cx, &given).await?.action.id;
                inputs.push(BindingInput {
                    action: ActionRef::Id(id),
                    display_name: None,
                });
            }
            actions::set_bindings(&cx.cx, &Actor::Cli, trigger, inputs).await?;
            print_bindings(&cx, trigger).await?;
        }
        ActionsAction::Bindings { trigger } => {
            print_bindings(&cx, parse_value(&trigger)?).await?;
        }
        ActionsAction::Test { action, event } => {
            let event: Value = serde_json::from_str(&event).context("--event must be JSON")?;
            let found = find(&cx, &action).await?;
            let outcome = actions::test(&cx.cx, &found.action.id, event).await?;
            print_json(&serde_json::to_value(&outcome).unwrap_or(Value::Null));
        }
        ActionsAction::Delete { action, force } => {
            let found = find(&cx, &action).await?;
            actions::delete(&cx.cx, &Actor::Cli, &found.action.id, force)
                .await
                .map_err(|e| refused(e, &action))?;
            if cx.json {
                print_json(&json!({ "id": found.action.id, "deleted": true }));
            } else {
                println!("Deleted action {} ({})", found.action.name, found.action.id);
            }
        }
    }
    Ok(())
}

/// An Action by name or id.
async fn find(cx: &Tenant, given: &str) -> anyhow::Result<ActionView> {
    if let Some(found) = actions::find_by_name(&cx.cx, given).await? {
        return Ok(found);
    }
    actions::find(&cx.cx, given)
        .await
        .map_err(|_| anyhow::anyhow!("no action has the name or id {given}"))
}

/// `NAME=VALUE`.
fn secret(pair: &str) -> anyhow::Result<SecretInput> {
    let (name, value) = pair
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--secret takes NAME=VALUE"))?;
    Ok(SecretInput {
        name: name.to_owned(),
        value: Some(value.to_owned()),
    })
}

async fn print_bindings(cx: &Tenant, trigger: ActionTrigger) -> anyhow::Result<()> {
    let bindings = actions::bindings(&cx.cx, trigger).await?;
    if cx.json {
        let list: Vec<Value> = bindings
            .iter()
            .map(
                |b| json!({ "id": b.id, "action_id": b.action_id, "display_name": b.display_name }),
            )
            .collect();
        print_json(&json!({ "trigger": trigger.as_str(), "bindings": list }));
        return Ok(());
    }
    let rows = bindings
        .iter()
        .enumerate()
        .map(|(i, b)| {
            vec![
                (i + 1).to_string(),
                b.display_name.clone(),
                b.action_id.clone(),
            ]
        })
        .collect();
    print_table(&["order", "action", "id"], rows);
    Ok(())
}

fn list(cx: &Tenant, views: &[ActionView]) {
    if cx.json {
        print_json(&Value::Array(views.iter().map(action_shape).collect()));
        return;
    }
    let rows = views
        .iter()
        .map(|view| {
            vec![
                view.action.name.clone(),
                view.action.id.clone(),
                view.action.trigger.to_string(),
                view.deployed
                    .as_ref()
                    .map_or("-".to_owned(), |v| v.number.to_string()),
                if view.all_changes_deployed() {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
            ]
        })
        .collect();
    print_table(&["name", "id", "trigger", "version", "deployed"], rows);
}
