//! `portcullis grants`: client grants, the scopes of an API a machine-to-machine application
//! may get.

use clap::{Args, Subcommand};
use portcullis_admin::shapes;
use portcullis_core::admin::{grants, Actor};
use portcullis_store::Page;
use serde_json::Value;

use super::{non_empty, open, print_json, print_table, refused};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct GrantsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: GrantsAction,
}

#[derive(Subcommand)]
enum GrantsAction {
    /// Let a machine-to-machine application get scopes of an API.
    Create {
        // Client ids may start with `-` (see `clients`).
        #[arg(long, allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        audience: String,
        /// Comma-separated scopes.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// List client grants.
    List,
    /// Delete a client grant.
    Delete { grant_id: String },
}

pub async fn run(command: GrantsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        GrantsAction::Create {
            client_id,
            audience,
            scopes,
        } => {
            let grant = grants::create(
                &cx.cx,
                &Actor::Cli,
                &client_id,
                &audience,
                non_empty(scopes),
            )
            .await?;
            if cx.json {
                print_json(&shapes::client_grant(&grant));
            } else {
                println!("created grant {} ({client_id} -> {audience})", grant.id);
            }
        }
        GrantsAction::List => {
            let (grants, _) = cx.store().list_client_grants(Page::ALL).await?;
            if cx.json {
                print_json(&Value::Array(
                    grants.iter().map(shapes::client_grant).collect(),
                ));
            } else {
                print_table(
                    &["id", "client_id", "audience", "scopes"],
                    grants
                        .iter()
                        .map(|g| {
                            vec![
                                g.id.clone(),
                                g.client_id.clone(),
                                g.audience.clone(),
                                g.scope.join(" "),
                            ]
                        })
                        .collect(),
                );
            }
        }
        GrantsAction::Delete { grant_id } => {
            grants::delete(&cx.cx, &Actor::Cli, &grant_id)
                .await
                .map_err(|e| refused(e, &grant_id))?;
            println!("deleted grant {grant_id}");
        }
    }
    Ok(())
}
