//! `portcullis clients`: applications (OAuth clients), with client grants for a machine
//! client given at creation.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use portcullis_admin::shapes;
use portcullis_core::admin::{
    applications::{self, ClientChanges, NewClient},
    grants, Actor,
};
use portcullis_store::{AppType, Client, Page};
use portcullis_types::{GrantType, Secret};
use serde_json::{Map, Value};

use super::{non_empty, open, parse_value, print_json, print_table, refused, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ClientsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ClientsAction,
}

// Client ids are URL-safe base64 and may start with `-`: every argument that takes one
// accepts a leading hyphen, or clap would read such an id as an unknown flag.
#[derive(Subcommand)]
enum ClientsAction {
    /// Create an application.
    Create {
        #[arg(long)]
        name: String,
        /// spa, regular_web or m2m.
        #[arg(long = "type")]
        app_type: String,
        /// Allowed callback URLs.
        #[arg(long, value_delimiter = ',')]
        callbacks: Vec<String>,
        /// Allowed logout URLs.
        #[arg(long, value_delimiter = ',')]
        logout_urls: Vec<String>,
        /// Allowed web origins (CORS and silent authentication).
        #[arg(long, value_delimiter = ',')]
        web_origins: Vec<String>,
        /// Grant a machine client scopes of an API: AUDIENCE=scope1,scope2 (repeatable).
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Enable the legacy implicit grant (auth0.js, angular-auth0).
        #[arg(long)]
        implicit: bool,
        /// Application metadata (`client_metadata`), KEY=VALUE split at the first `=`
        /// (repeatable): at most 10 keys, 255 characters each.
        #[arg(long = "metadata", value_name = "KEY=VALUE")]
        metadata: Vec<String>,
    },
    /// List applications.
    List,
    /// Change an application's URLs, grant types, name, ownership or metadata (a list given
    /// replaces the old one; metadata keys are set or removed one by one).
    Update {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_delimiter = ',')]
        callbacks: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        logout_urls: Option<Vec<String>>,
        /// Web origins (also used as allowed CORS origins).
        #[arg(long, value_delimiter = ',')]
        web_origins: Option<Vec<String>>,
        /// Grant types, such as authorization_code,refresh_token,implicit.
        #[arg(long, value_delimiter = ',')]
        grant_types: Option<Vec<String>>,
        /// true or false: a third-party application (false) asks users for consent.
        #[arg(long)]
        first_party: Option<bool>,
        /// Set a key of the application metadata, KEY=VALUE split at the first `=`
        /// (repeatable; the other keys are kept).
        #[arg(long = "metadata", value_name = "KEY=VALUE")]
        metadata: Vec<String>,
        /// Remove a key of the application metadata (repeatable).
        #[arg(long = "remove-metadata", value_name = "KEY")]
        remove_metadata: Vec<String>,
    },
    /// Give a confidential application a new secret (printed once; the old one stops working).
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Delete an application.
    Delete {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

pub async fn run(command: ClientsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        ClientsAction::Create {
            name,
            app_type,
            callbacks,
            logout_urls,
            web_origins,
            grants,
            implicit,
            metadata,
        } => {
            let app_type = AppType::parse(&app_type).with_context(|| {
                format!("--type must be spa, regular_web or m2m, not {app_type}")
            })?;
            let new = NewClient {
                name,
                app_type: Some(app_type),
                callbacks,
                allowed_logout_urls: logout_urls,
                web_origins: web_origins.clone(),
                allowed_origins: web_origins,
                grant_types: implicit.then(|| with_implicit(app_type)),
                client_metadata: metadata_patch(&metadata, &[])?,
                ..NewClient::default()
            };
            create(&cx, new, &grants).await?;
        }
        ClientsAction::List => list(&cx).await?,
        ClientsAction::Update {
            client_id,
            name,
            callbacks,
            logout_urls,
            web_origins,
            grant_types,
            first_party,
            metadata,
            remove_metadata,
        } => {
            let grant_types = grant_types
                .map(|types| {
                    non_empty(types)
                        .iter()
                        .map(|t| parse_value::<GrantType>(t))
                        .collect::<anyhow::Result<Vec<_>>>()
                })
                .transpose()?;
            let changes = ClientChanges {
                name,
                callbacks,
                allowed_logout_urls: logout_urls,
                allowed_origins: web_origins.clone(),
                web_origins,
                grant_types,
                is_first_party: first_party,
                client_metadata: (!metadata.is_empty() || !remove_metadata.is_empty())
                    .then(|| metadata_patch(&metadata, &remove_metadata))
                    .transpose()?,
                ..ClientChanges::default()
            };
            let (client, secret) = applications::update(&cx.cx, &Actor::Cli, &client_id, changes)
                .await
                .map_err(|e| refused(e, &client_id))?;
            print_client(&cx, &client, secret.as_ref());
        }
        ClientsAction::RotateSecret { client_id } => {
            let (client, secret) = applications::rotate_secret(&cx.cx, &Actor::Cli, &client_id)
                .await
                .map_err(|e| refused(e, &client_id))?;
            print_client(&cx, &client, Some(&secret));
        }
        ClientsAction::Delete { client_id } => {
            applications::delete(&cx.cx, &Actor::Cli, &client_id)
                .await
                .map_err(|e| refused(e, &client_id))?;
            println!("deleted application {client_id}");
        }
    }
    Ok(())
}

/// `--metadata KEY=VALUE` and `--remove-metadata KEY` as the Management API's PATCH of
/// `client_metadata` takes them (a string sets a key, `null` removes it); core checks the
/// rest.
fn metadata_patch(set: &[String], remove: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut patch = Map::new();
    for text in set {
        let (key, value) = text.split_once('=').with_context(|| {
            format!("--metadata is KEY=VALUE, such as region=eu-west, not {text:?}")
        })?;
        patch.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    for key in remove {
        anyhow::ensure!(
            patch.insert(key.clone(), Value::Null).is_none(),
            "the metadata key {key:?} is both set and removed"
        );
    }
    Ok(patch)
}

/// The grants an application of `app_type` gets by default, and the implicit grant.
fn with_implicit(app_type: AppType) -> Vec<GrantType> {
    let mut grant_types = match app_type {
        AppType::NonInteractive => vec![GrantType::ClientCredentials],
        _ => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    };
    grant_types.push(GrantType::Implicit);
    grant_types
}

/// Creates the application, then a client grant for each `AUDIENCE=scope1,scope2`.
async fn create(cx: &Tenant, new: NewClient, grant_texts: &[String]) -> anyhow::Result<()> {
    let (client, secret) = applications::create(&cx.cx, &Actor::Cli, new).await?;
    let mut created_grants = Vec::new();
    for grant in grant_texts {
        let (audience, scopes) = grant.split_once('=').unwrap_or((grant.as_str(), ""));
        let scopes = scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        created_grants.push(
            grants::create(&cx.cx, &Actor::Cli, &client.client_id, audience, scopes)
                .await
                .with_context(|| {
                    format!(
                        "application {} was created, but granting it scopes of {audience} failed",
                        client.client_id
                    )
                })?,
        );
    }
    if cx.json {
        let mut value = shapes::client(&client, secret.as_ref().map(Secret::expose_str));
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "client_grants".into(),
                Value::Array(created_grants.iter().map(shapes::client_grant).collect()),
            );
        }
        print_json(&value);
    } else {
        print_client(cx, &client, secret.as_ref());
    }
    Ok(())
}

async fn list(cx: &Tenant) -> anyhow::Result<()> {
    let (clients, _) = cx.store().list_clients(Page::ALL).await?;
    if cx.json {
        print_json(&Value::Array(
            clients.iter().map(|c| shapes::client(c, None)).collect(),
        ));
    } else {
        let rows = clients
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.client_id.clone(),
                    c.app_type.as_str().to_owned(),
                    c.grant_types
                        .iter()
                        .map(|g| g.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ]
            })
            .collect();
        print_table(&["name", "client_id", "type", "grants"], rows);
    }
    Ok(())
}

fn print_client(cx: &Tenant, client: &Client, secret: Option<&Secret>) {
    let secret = secret.map(Secret::expose_str);
    if cx.json {
        print_json(&shapes::client(client, secret));
    } else {
        println!("client_id: {}", client.client_id);
        for (key, value) in &client.client_metadata {
            println!("client_metadata.{key}: {value}");
        }
        if let Some(secret) = secret {
            println!("client_secret: {secret}");
            println!("(the secret is shown only now; keep it safe)");
        }
    }
}
