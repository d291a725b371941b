//! `portcullis roles`: roles, the permissions they carry, and the users who hold them.

use clap::{Args, Subcommand};
use portcullis_admin::shapes::{self, PermissionShape};
use portcullis_core::admin::{
    roles::{self, Holder, NewRole},
    Actor,
};
use portcullis_store::{Page, Permission};
use serde_json::{json, Value};

use super::{open, parse_permissions, print_json, print_table, refused, resolve_user, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct RolesCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: RolesAction,
}

#[derive(Subcommand)]
enum RolesAction {
    /// Create a role.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List roles.
    List,
    /// Delete a role (its members lose it).
    Delete { role_id: String },
    /// Permissions of a role.
    Permissions {
        #[command(subcommand)]
        action: PermissionsAction,
    },
    /// Users holding a role.
    Members { role_id: String },
    /// Give users a role.
    Assign {
        role_id: String,
        /// User ids (auth0|...) or emails.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Take a role from users.
    Unassign {
        role_id: String,
        #[arg(required = true)]
        users: Vec<String>,
    },
}

#[derive(Subcommand)]
enum PermissionsAction {
    /// List the permissions of a role.
    List { role_id: String },
    /// Add permissions: API_IDENTIFIER=SCOPE ...
    Add {
        role_id: String,
        #[arg(required = true)]
        permissions: Vec<String>,
    },
    /// Remove permissions: API_IDENTIFIER=SCOPE ...
    Remove {
        role_id: String,
        #[arg(required = true)]
        permissions: Vec<String>,
    },
}

pub async fn run(command: RolesCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        RolesAction::Create { name, description } => {
            let role = roles::create(&cx.cx, &Actor::Cli, NewRole { name, description }).await?;
            if cx.json {
                print_json(&shapes::role(&role));
            } else {
                println!("created role {} ({})", role.name, role.id);
            }
        }
        RolesAction::List => {
            let (roles, _) = cx.store().list_roles(None, Page::ALL).await?;
            if cx.json {
                print_json(&Value::Array(roles.iter().map(shapes::role).collect()));
            } else {
                print_table(
                    &["name", "id", "description"],
                    roles
                        .iter()
                        .map(|r| vec![r.name.clone(), r.id.clone(), r.description.clone()])
                        .collect(),
                );
            }
        }
        RolesAction::Delete { role_id } => {
            roles::delete(&cx.cx, &Actor::Cli, &role_id)
                .await
                .map_err(|e| refused(e, &role_id))?;
            println!("deleted role {role_id}");
        }
        RolesAction::Permissions { action } => permissions(&cx, action).await?,
        RolesAction::Members { role_id } => {
            let (users, _) = cx.store().role_users(&role_id, Page::ALL).await?;
            if cx.json {
                print_json(&json!(users));
            } else {
                print_table(&["user_id"], users.into_iter().map(|u| vec![u]).collect());
            }
        }
        RolesAction::Assign { role_id, users } => {
            let user_ids = resolve_users(&cx, &users).await?;
            roles::assign_users(&cx.cx, &Actor::Cli, &role_id, &user_ids).await?;
            for user_id in user_ids {
                println!("assigned {role_id}: {user_id}");
            }
        }
        RolesAction::Unassign { role_id, users } => {
            let user_ids = resolve_users(&cx, &users).await?;
            roles::remove_users(&cx.cx, &Actor::Cli, &role_id, &user_ids).await?;
            for user_id in user_ids {
                println!("removed {role_id}: {user_id}");
            }
        }
    }
    Ok(())
}

/// Every user resolved before any change, so that a typo in the last one changes nothing.
async fn resolve_users(cx: &Tenant, users: &[String]) -> anyhow::Result<Vec<String>> {
    let mut user_ids = Vec::with_capacity(users.len());
    for user in users {
        user_ids.push(resolve_user(cx, user).await?);
    }
    Ok(user_ids)
}

async fn permissions(cx: &Tenant, action: PermissionsAction) -> anyhow::Result<()> {
    match action {
        PermissionsAction::List { role_id } => {
            let permissions = cx.store().role_permissions(&role_id).await?;
            if cx.json {
                print_json(&permissions_json(cx, &permissions).await?);
            } else {
                permissions_table(&permissions);
            }
        }
        PermissionsAction::Add {
            role_id,
            permissions,
        } => {
            let permissions = parse_permissions(&permissions)?;
            roles::add_permissions(&cx.cx, &Actor::Cli, Holder::Role(&role_id), &permissions)
                .await
                .map_err(|e| refused(e, &role_id))?;
            println!("added {} permission(s) to {role_id}", permissions.len());
        }
        PermissionsAction::Remove {
            role_id,
            permissions,
        } => {
            let permissions = parse_permissions(&permissions)?;
            roles::remove_permissions(&cx.cx, &Actor::Cli, Holder::Role(&role_id), &permissions)
                .await
                .map_err(|e| refused(e, &role_id))?;
            println!("removed {} permission(s) from {role_id}", permissions.len());
        }
    }
    Ok(())
}

/// The Management API's shape of each permission, with its API's name and the scope's
/// description.
async fn permissions_json(cx: &Tenant, permissions: &[Permission]) -> anyhow::Result<Value> {
    let mut shaped = Vec::with_capacity(permissions.len());
    for permission in permissions {
        let api = cx
            .store()
            .resource_server_by_identifier(&permission.resource_server_identifier)
            .await?;
        shaped.push(PermissionShape::new(permission, api.as_ref()));
    }
    Ok(serde_json::to_value(shaped)?)
}

fn permissions_table(permissions: &[Permission]) {
    print_table(
        &["api", "permission"],
        permissions
            .iter()
            .map(|p| {
                vec![
                    p.resource_server_identifier.clone(),
                    p.permission_name.clone(),
                ]
            })
            .collect(),
    );
}
