//! `portcullis connections`: connections to other identity providers (strategies `oidc`,
//! `oauth2` and the presets `google-oauth2`, `windowslive`, `github`), as the Management API's
//! `/connections` and the dashboard's Authentication → Social / Enterprise change them. The
//! options are Auth0's, given as a JSON object; the client secret is sealed and never printed.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_admin::management::upstream_connections::UpstreamConnectionShape;
use portcullis_core::admin::{
    upstream::{self, ConnectionUpdate, NewConnection},
    Actor,
};
use portcullis_store::UpstreamConnection;
use portcullis_types::Strategy;
use serde_json::{Map, Value};

use super::{non_empty, open, parse_value, print_json, print_table, refused, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ConnectionsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ConnectionsAction,
}

#[derive(Subcommand)]
enum ConnectionsAction {
    /// List the connections to other identity providers.
    List,
    /// Show one connection, by id or name.
    Show { connection: String },
    /// Create a connection.
    Create {
        #[arg(long)]
        name: String,
        /// oidc, oauth2, google-oauth2, windowslive or github.
        #[arg(long)]
        strategy: String,
        /// The button's label on the login page (the name when absent).
        #[arg(long)]
        display_name: Option<String>,
        /// Auth0's options as a JSON object, such as
        /// '{"issuer":"https://idp.example.com","client_id":"...","scope":"openid email"}'.
        #[arg(long, default_value = "{}")]
        options: String,
        /// The client secret at the provider (sealed; never printed).
        #[arg(long)]
        client_secret: Option<String>,
        /// Applications that may use it (client ids, comma-separated).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        enabled_clients: Vec<String>,
    },
    /// Change a connection: `--options` replaces the whole options object (as in Auth0); a
    /// client secret not given stays.
    Update {
        connection: String,
        /// An empty value shows the name instead.
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        options: Option<String>,
        /// A new client secret (without `--options`, the other options stay).
        #[arg(long)]
        client_secret: Option<String>,
        /// The applications that may use it, replacing the list (client ids, comma-separated;
        /// an empty value for none).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        enabled_clients: Option<Vec<String>>,
    },
    /// Delete a connection; its users stay.
    Delete { connection: String },
}

pub async fn run(command: ConnectionsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        ConnectionsAction::List => {
            let connections = upstream::list(&cx.cx).await?;
            list(&cx, &connections);
        }
        ConnectionsAction::Show { connection } => {
            let found = find(&cx, &connection).await?;
            print(&cx, &found);
        }
        ConnectionsAction::Create {
            name,
            strategy,
            display_name,
            options,
            client_secret,
            enabled_clients,
        } => {
            let strategy: Strategy = parse_value(&strategy)?;
            let new = NewConnection {
                name,
                display_name,
                strategy,
                options: with_secret(json_options(&options)?, client_secret),
                enabled_clients: non_empty(enabled_clients),
            };
            let created = upstream::create(&cx.cx, &Actor::Cli, new).await?;
            print(&cx, &created);
        }
        ConnectionsAction::Update {
            connection,
            display_name,
            options,
            client_secret,
            enabled_clients,
        } => {
            let current = find(&cx, &connection).await?;
            let options = match (options, client_secret) {
                (Some(options), secret) => Some(with_secret(json_options(&options)?, secret)),
                (None, Some(secret)) => Some(with_secret(current.options.clone(), Some(secret))),
                (None, None) => None,
            };
            let update = ConnectionUpdate {
                display_name: display_name.map(|d| Some(d).filter(|d| !d.is_empty())),
                options,
                enabled_clients: enabled_clients.map(non_empty),
            };
            let updated = upstream::update(&cx.cx, &Actor::Cli, &current.id, update)
                .await
                .map_err(|e| refused(e, &connection))?;
            print(&cx, &updated);
        }
        ConnectionsAction::Delete { connection } => {
            let found = find(&cx, &connection).await?;
            upstream::delete(&cx.cx, &Actor::Cli, &found.id)
                .await
                .map_err(|e| refused(e, &connection))?;
            if cx.json {
                print_json(&serde_json::json!({ "id": found.id, "deleted": true }));
            } else {
                println!("Deleted connection {} ({})", found.name, found.id);
            }
        }
    }
    Ok(())
}

/// A connection by id (`con_...`) or name.
async fn find(cx: &Tenant, given: &str) -> anyhow::Result<UpstreamConnection> {
    if let Some(found) = cx.store().upstream_connection_by_name(given).await? {
        return Ok(found);
    }
    upstream::find(&cx.cx, given)
        .await
        .map_err(|_| anyhow::anyhow!("no connection has the id or name {given}"))
}

fn json_options(text: &str) -> anyhow::Result<Map<String, Value>> {
    match serde_json::from_str(text).context("--options must be a JSON object")? {
        Value::Object(options) => Ok(options),
        _ => anyhow::bail!("--options must be a JSON object"),
    }
}

fn with_secret(mut options: Map<String, Value>, secret: Option<String>) -> Map<String, Value> {
    if let Some(secret) = secret {
        options.insert("client_secret".into(), Value::String(secret));
    }
    options
}

fn print(cx: &Tenant, connection: &UpstreamConnection) {
    let shape = UpstreamConnectionShape::from(connection);
    if cx.json {
        print_json(&serde_json::to_value(shape).unwrap_or(Value::Null));
    } else {
        println!("{} ({})", shape.name, shape.id);
        println!("strategy: {}", shape.strategy);
        println!("display name: {}", shape.display_name);
        println!(
            "options: {}",
            serde_json::to_string(&shape.options).unwrap_or_default()
        );
        println!(
            "client secret: {}",
            if connection.sealed_client_secret.is_some() {
                "set"
            } else {
                "none"
            }
        );
        println!("applications: {}", shape.enabled_clients.join(", "));
    }
}

fn list(cx: &Tenant, connections: &[UpstreamConnection]) {
    if cx.json {
        let shapes: Vec<Value> = connections
            .iter()
            .map(|c| serde_json::to_value(UpstreamConnectionShape::from(c)).unwrap_or(Value::Null))
            .collect();
        print_json(&Value::Array(shapes));
        return;
    }
    let rows = connections
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.id.clone(),
                c.strategy.to_string(),
                c.enabled_clients.len().to_string(),
            ]
        })
        .collect();
    print_table(&["name", "id", "strategy", "applications"], rows);
}
