//! `portcullis apis`: APIs (resource servers), their scopes and, in [`super::rules`], their
//! access rules.

use clap::{Args, Subcommand};
use portcullis_admin::shapes;
use portcullis_core::admin::{
    apis::{self, ApiChanges, NewApi},
    Actor,
};
use portcullis_store::{Page, ResourceServer, ScopeDefinition};
use portcullis_types::TokenDialect;
use serde_json::Value;

use super::{
    find_api, non_empty, open, parse_value, print_json, print_table, rules::RulesAction, Tenant,
};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ApisCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ApisAction,
}

#[derive(Subcommand)]
enum ApisAction {
    /// Create an API.
    Create {
        #[arg(long)]
        name: String,
        /// The audience clients ask for (for example https://api.example.com).
        #[arg(long)]
        identifier: String,
        /// Comma-separated scopes, such as read:messages,write:messages.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Allow refresh tokens (offline_access) for this API.
        #[arg(long)]
        allow_offline_access: bool,
        /// How its access tokens are signed: RS256 (default), PS256, ES256, or HS256 with a
        /// secret of the API (printed once created).
        #[arg(long, default_value = "RS256")]
        signing_alg: String,
    },
    /// Give an HS256 API a new signing secret (printed); tokens signed with the old one no
    /// longer verify.
    RotateSecret {
        /// The API's id or identifier.
        api: String,
    },
    /// List APIs.
    List,
    /// Change an API's settings (RBAC: --enforce-policies true, and
    /// --token-dialect access_token_authz for a `permissions` claim).
    Update {
        /// The API's id or identifier.
        api: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        enforce_policies: Option<bool>,
        /// access_token, access_token_authz, rfc9068_profile or rfc9068_profile_authz.
        #[arg(long)]
        token_dialect: Option<String>,
        #[arg(long)]
        allow_offline_access: Option<bool>,
        /// Access token lifetime in seconds.
        #[arg(long)]
        token_lifetime: Option<i64>,
    },
    /// Delete an API.
    Delete {
        /// The API's id or identifier.
        api: String,
    },
    /// Add or remove scopes.
    Scopes {
        #[command(subcommand)]
        action: ScopesAction,
    },
    /// Access rules: conditions on scopes, evaluated at token issuance.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
}

#[derive(Subcommand)]
enum ScopesAction {
    /// Add a scope (an existing one gets the new description).
    Add {
        /// The API's id or identifier.
        api: String,
        scope: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Remove a scope.
    Remove {
        /// The API's id or identifier.
        api: String,
        scope: String,
    },
}

pub async fn run(command: ApisCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        ApisAction::Create {
            name,
            identifier,
            scopes,
            allow_offline_access,
            signing_alg,
        } => {
            let changes = ApiChanges {
                signing_alg: Some(parse_value(&signing_alg)?),
                ..ApiChanges::default()
            };
            let scopes = non_empty(scopes)
                .into_iter()
                .map(|value| ScopeDefinition {
                    value,
                    description: String::new(),
                })
                .collect();
            let new = NewApi {
                name,
                identifier,
                scopes,
                token_lifetime: None,
                allow_offline_access,
                enforce_policies: false,
                token_dialect: None,
            };
            let api = apis::create_with(&cx.cx, &Actor::Cli, new, changes).await?;
            print_created(&cx, &api, "created")?;
        }
        ApisAction::RotateSecret { api } => {
            let api = find_api(&cx, &api).await?;
            let api = apis::rotate_signing_secret(&cx.cx, &Actor::Cli, &api.id).await?;
            print_created(&cx, &api, "rotated the signing secret of")?;
        }
        ApisAction::List => list(&cx).await?,
        ApisAction::Update {
            api,
            name,
            enforce_policies,
            token_dialect,
            allow_offline_access,
            token_lifetime,
        } => {
            let token_dialect = token_dialect
                .as_deref()
                .map(parse_value::<TokenDialect>)
                .transpose()?;
            let api = find_api(&cx, &api).await?;
            let changes = ApiChanges {
                name,
                enforce_policies,
                token_dialect,
                allow_offline_access,
                token_lifetime,
                ..ApiChanges::default()
            };
            let api = apis::update(&cx.cx, &Actor::Cli, &api.id, changes).await?;
            print_api(&cx, &api, "updated");
        }
        ApisAction::Delete { api } => {
            let api = find_api(&cx, &api).await?;
            apis::delete(&cx.cx, &Actor::Cli, &api.id).await?;
            println!("deleted API {}", api.identifier);
        }
        ApisAction::Scopes { action } => {
            let api = match action {
                ScopesAction::Add {
                    api,
                    scope,
                    description,
                } => add_scope(&cx, &api, scope, description).await?,
                ScopesAction::Remove { api, scope } => {
                    let api = find_api(&cx, &api).await?;
                    apis::remove_scope(&cx.cx, &Actor::Cli, &api.id, &scope).await?
                }
            };
            print_api(&cx, &api, "updated");
        }
        ApisAction::Rules { action } => super::rules::run(&cx, action).await?,
    }
    Ok(())
}

async fn list(cx: &Tenant) -> anyhow::Result<()> {
    let (apis, _) = cx.store().list_resource_servers(Page::ALL).await?;
    if cx.json {
        print_json(&Value::Array(
            apis.iter().map(shapes::resource_server).collect(),
        ));
    } else {
        let rows = apis
            .iter()
            .map(|a| vec![a.name.clone(), a.identifier.clone(), scope_list(a)])
            .collect();
        print_table(&["name", "identifier", "scopes"], rows);
    }
    Ok(())
}

/// Adds `scope`, or gives the scope the API already defines the new description: core's
/// `add_scope` refuses a scope that exists, so that case is an update of the whole list.
async fn add_scope(
    cx: &Tenant,
    api: &str,
    scope: String,
    description: String,
) -> anyhow::Result<ResourceServer> {
    let api = find_api(cx, api).await?;
    let defined = ScopeDefinition {
        value: scope,
        description,
    };
    if !api.defines_scope(&defined.value) {
        return Ok(apis::add_scope(&cx.cx, &Actor::Cli, &api.id, defined).await?);
    }
    let scopes = api
        .scopes
        .iter()
        .map(|s| {
            if s.value == defined.value {
                defined.clone()
            } else {
                s.clone()
            }
        })
        .collect();
    let changes = ApiChanges {
        scopes: Some(scopes),
        ..ApiChanges::default()
    };
    Ok(apis::update(&cx.cx, &Actor::Cli, &api.id, changes).await?)
}

fn scope_list(api: &ResourceServer) -> String {
    api.scopes
        .iter()
        .map(|s| s.value.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints a new API, or one with a new secret, with its signing secret when it has one: the
/// API needs it to verify its tokens.
fn print_created(cx: &Tenant, api: &ResourceServer, done: &str) -> anyhow::Result<()> {
    let secret = apis::signing_secret(&cx.cx, api)?;
    if cx.json {
        let shape = shapes::ResourceServerShape::from(api).with_secret(secret);
        print_json(&serde_json::to_value(shape)?);
    } else {
        println!(
            "{done} API {} ({}), signed with {}",
            api.name, api.identifier, api.signing_alg
        );
        if let Some(secret) = secret {
            println!("signing secret: {}", secret.expose_str());
        }
    }
    Ok(())
}

fn print_api(cx: &Tenant, api: &ResourceServer, done: &str) {
    if cx.json {
        print_json(&shapes::resource_server(api));
    } else {
        println!(
            "{done} API {} ({}): scopes [{}], RBAC {}, dialect {}",
            api.name,
            api.identifier,
            scope_list(api),
            if api.enforce_policies { "on" } else { "off" },
            api.token_dialect
        );
    }
}
