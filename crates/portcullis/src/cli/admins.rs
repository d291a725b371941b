//! `portcullis admins`: dashboard administrators.

use clap::{Args, Subcommand};
use portcullis_core::admin::{administrators, Actor, AdminError, Kind};
use portcullis_types::Secret;
use serde_json::{json, Value};

use super::{open, print_json, print_table};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct AdminsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: AdminsAction,
}

#[derive(Subcommand)]
enum AdminsAction {
    /// Create a dashboard administrator.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, env = "PORTCULLIS_ADMIN_PASSWORD", hide_env_values = true)]
        password: Secret,
    },
    /// Set an administrator's password.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "PORTCULLIS_ADMIN_PASSWORD", hide_env_values = true)]
        password: Secret,
    },
    /// List administrators.
    List,
}

pub async fn run(command: AdminsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        AdminsAction::Create { email, password } => {
            let admin = administrators::create(&cx.cx, &Actor::Cli, &email, &password).await?;
            if cx.json {
                print_json(&json!({"id": admin.id, "email": admin.email}));
            } else {
                println!("created administrator {} ({})", admin.email, admin.id);
            }
        }
        AdminsAction::SetPassword { email, password } => {
            let admin = administrators::set_password(&cx.cx, &Actor::Cli, &email, &password)
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(Kind::Administrator) => {
                        anyhow::anyhow!("no administrator has the email {email}")
                    }
                    other => other.into(),
                })?;
            println!("password set for {}", admin.email);
        }
        AdminsAction::List => {
            let admins = cx.store().list_admins().await?;
            if cx.json {
                print_json(&Value::Array(
                    admins
                        .iter()
                        .map(|a| json!({"id": a.id, "email": a.email}))
                        .collect(),
                ));
            } else {
                print_table(
                    &["email", "id"],
                    admins
                        .iter()
                        .map(|a| vec![a.email.clone(), a.id.clone()])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}
