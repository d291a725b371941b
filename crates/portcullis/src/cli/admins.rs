//! `portcullis admins`: dashboard administrators.

use clap::{Args, Subcommand};
use portcullis_core::admin::{administrators, mfa, Actor, AdminError, Kind};
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
    /// Delete an administrator's second factors (one locked out of the dashboard): their next
    /// sign-in asks for none, or enrols one when administrators must have one.
    ResetMfa {
        /// The administrator's email.
        email: String,
    },
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
                .map_err(|e| unknown(e, &email))?;
            println!("password set for {}", admin.email);
        }
        AdminsAction::ResetMfa { email } => {
            let deleted = mfa::reset_admin_by_email(&cx.cx, &Actor::Cli, &email)
                .await
                .map_err(|e| unknown(e, &email))?;
            if cx.json {
                print_json(&json!({"email": email, "deleted": deleted}));
            } else {
                println!("multi-factor reset for {email}: {deleted} factor(s) deleted");
            }
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

/// An administrator the email names none of, said so; other errors as they are.
fn unknown(error: AdminError, email: &str) -> anyhow::Error {
    match error {
        AdminError::NotFound(Kind::Administrator) => {
            anyhow::anyhow!("no administrator has the email {email}")
        }
        other => other.into(),
    }
}
