//! Administrative commands: the same operations as the Management API, from the shell.

use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use portcullis_core::{
    admin::{self, ApiChanges, ClientChanges, NewApi, NewClient, NewUser, UserChanges},
    secrets::SecretHasher,
    Clock, SystemClock,
};
use portcullis_server::{
    audit::{self, codes},
    shapes, Settings,
};
use portcullis_store::{AppType, Page, ResourceServer, ScopeDefinition, Store};
use serde_json::Value;

use crate::{config, StoreArgs};

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
        action: crate::access::RulesAction,
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

/// An API by id or identifier.
pub(crate) async fn find_api(cx: &Tenant, api: &str) -> anyhow::Result<ResourceServer> {
    if let Some(found) = cx.store.resource_server_by_identifier(api).await? {
        return Ok(found);
    }
    cx.store
        .resource_server_by_id(api)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no API has the id or identifier {api}"))
}

/// Records a change made from the shell in the audit log.
pub(crate) async fn record(cx: &Tenant, description: &str, details: Value) {
    audit::entry(codes::MANAGEMENT_OPERATION, description)
        .details(serde_json::json!({ "actor": "cli", "change": details }))
        .write(cx.store.as_ref(), &cx.clock)
        .await;
}

#[derive(Args)]
pub struct ClientsCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ClientsAction,
}

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
    },
    /// List applications.
    List,
    /// Change an application's URLs, grant types or name (a list given replaces the old one).
    Update {
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
    },
    /// Give a confidential application a new secret (printed once; the old one stops working).
    RotateSecret { client_id: String },
    /// Delete an application.
    Delete { client_id: String },
}

#[derive(Args)]
pub struct UsersCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: UsersAction,
}

#[derive(Subcommand)]
enum UsersAction {
    /// Create a user of the database connection.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// Mark the email as verified.
        #[arg(long)]
        verified: bool,
    },
    /// List users.
    List,
    /// Change a user's email, password, verification or name.
    Update {
        user: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, env = "PORTCULLIS_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        verified: Option<bool>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Block a user: no login, no token, no refresh.
    Block { user: String },
    /// Unblock a user.
    Unblock { user: String },
    /// Delete a user.
    Delete { user: String },
    /// The roles of a user.
    Roles { user: String },
}

#[derive(Args)]
pub struct KeysCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Start signing with the published next key, publish a new next key, and keep the
    /// previous key published until the tokens it signed have expired.
    Rotate,
    /// List the published keys.
    List,
}

pub(crate) struct Tenant {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub clock: SystemClock,
    pub json: bool,
}

pub(crate) async fn open(args: &StoreArgs) -> anyhow::Result<Tenant> {
    let settings = config::settings(args, None, None)?;
    let store = portcullis_server::open_store(&settings).await?;
    Ok(Tenant {
        settings,
        store,
        clock: SystemClock,
        json: args.json,
    })
}

pub(crate) fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A plain text table: a header row and aligned columns.
pub(crate) fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    println!(
        "{}",
        line(headers.iter().map(|h| h.to_uppercase()).collect())
    );
    for row in rows {
        println!("{}", line(row));
    }
}

pub async fn apis(command: ApisCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        ApisAction::Create {
            name,
            identifier,
            scopes,
            allow_offline_access,
        } => {
            let scopes = scopes
                .into_iter()
                .filter(|s| !s.is_empty())
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
            let api = admin::create_api(cx.store.as_ref(), &cx.clock, new).await?;
            if cx.json {
                print_json(&shapes::resource_server(&api));
            } else {
                println!("created API {} ({})", api.name, api.identifier);
            }
        }
        ApisAction::List => {
            let (apis, _) = cx.store.list_resource_servers(Page::ALL).await?;
            if cx.json {
                print_json(&Value::Array(
                    apis.iter().map(shapes::resource_server).collect(),
                ));
            } else {
                let rows = apis
                    .iter()
                    .map(|a| {
                        vec![
                            a.name.clone(),
                            a.identifier.clone(),
                            a.scopes
                                .iter()
                                .map(|s| s.value.as_str())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]
                    })
                    .collect();
                print_table(&["name", "identifier", "scopes"], rows);
            }
        }
        ApisAction::Update {
            api,
            name,
            enforce_policies,
            token_dialect,
            allow_offline_access,
            token_lifetime,
        } => {
            let api = find_api(&cx, &api).await?;
            let changes = ApiChanges {
                name,
                enforce_policies,
                token_dialect,
                allow_offline_access,
                token_lifetime,
                ..ApiChanges::default()
            };
            let api = admin::update_api(cx.store.as_ref(), &api.id, changes).await?;
            record(&cx, "Update an API", serde_json::json!({"api": api.id})).await;
            print_api(&cx, &api, "updated");
        }
        ApisAction::Delete { api } => {
            let api = find_api(&cx, &api).await?;
            admin::delete_api(cx.store.as_ref(), &api.id).await?;
            record(&cx, "Delete an API", serde_json::json!({"api": api.id})).await;
            println!("deleted API {}", api.identifier);
        }
        ApisAction::Scopes { action } => {
            let (api, mut scopes, what) = match action {
                ScopesAction::Add {
                    api,
                    scope,
                    description,
                } => {
                    let api = find_api(&cx, &api).await?;
                    let mut scopes = api.scopes.clone();
                    scopes.retain(|s| s.value != scope);
                    scopes.push(ScopeDefinition {
                        value: scope,
                        description,
                    });
                    (api, scopes, "Add a scope")
                }
                ScopesAction::Remove { api, scope } => {
                    let api = find_api(&cx, &api).await?;
                    let mut scopes = api.scopes.clone();
                    let before = scopes.len();
                    scopes.retain(|s| s.value != scope);
                    anyhow::ensure!(
                        scopes.len() < before,
                        "{} has no scope {scope}",
                        api.identifier
                    );
                    (api, scopes, "Remove a scope")
                }
            };
            scopes.sort_by(|a, b| a.value.cmp(&b.value));
            let changes = ApiChanges {
                scopes: Some(scopes),
                ..ApiChanges::default()
            };
            let api = admin::update_api(cx.store.as_ref(), &api.id, changes).await?;
            record(&cx, what, serde_json::json!({"api": api.id})).await;
            print_api(&cx, &api, "updated");
        }
        ApisAction::Rules { action } => crate::access::rules(&cx, action).await?,
    }
    Ok(())
}

fn print_api(cx: &Tenant, api: &ResourceServer, done: &str) {
    if cx.json {
        print_json(&shapes::resource_server(api));
    } else {
        let scopes: Vec<&str> = api.scopes.iter().map(|s| s.value.as_str()).collect();
        println!(
            "{done} API {} ({}): scopes [{}], RBAC {}, dialect {}",
            api.name,
            api.identifier,
            scopes.join(" "),
            if api.enforce_policies { "on" } else { "off" },
            api.token_dialect
        );
    }
}

pub async fn clients(command: ClientsCommand) -> anyhow::Result<()> {
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
        } => {
            let app_type = AppType::parse(&app_type).with_context(|| {
                format!("--type must be spa, regular_web or m2m, not {app_type}")
            })?;
            let mut grant_types = None;
            if implicit {
                let mut defaults = match app_type {
                    AppType::NonInteractive => vec!["client_credentials".to_owned()],
                    _ => vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
                };
                defaults.push("implicit".into());
                grant_types = Some(defaults);
            }
            let new = NewClient {
                name,
                app_type: Some(app_type),
                callbacks,
                allowed_logout_urls: logout_urls,
                web_origins: web_origins.clone(),
                allowed_origins: web_origins,
                grant_types,
                ..NewClient::default()
            };
            let hasher = SecretHasher::new(&cx.settings.master_key);
            let (client, secret) =
                admin::create_client(cx.store.as_ref(), &hasher, &cx.clock, new).await?;
            let mut created_grants = Vec::new();
            for grant in grants {
                let (audience, scopes) = grant.split_once('=').unwrap_or((grant.as_str(), ""));
                let scopes = scopes
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                created_grants.push(
                    admin::create_client_grant(
                        cx.store.as_ref(),
                        &client.client_id,
                        audience,
                        scopes,
                    )
                    .await?,
                );
            }
            if cx.json {
                let mut value = shapes::client(&client, secret.as_deref());
                if let Some(object) = value.as_object_mut() {
                    object.insert(
                        "client_grants".into(),
                        Value::Array(created_grants.iter().map(shapes::client_grant).collect()),
                    );
                }
                print_json(&value);
            } else {
                print_client(&cx, &client, secret.as_deref());
            }
        }
        ClientsAction::List => {
            let (clients, _) = cx.store.list_clients(Page::ALL).await?;
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
                            c.grant_types.join(","),
                        ]
                    })
                    .collect();
                print_table(&["name", "client_id", "type", "grants"], rows);
            }
        }
        ClientsAction::Update {
            client_id,
            name,
            callbacks,
            logout_urls,
            web_origins,
            grant_types,
        } => {
            let changes = ClientChanges {
                name,
                callbacks,
                allowed_logout_urls: logout_urls,
                allowed_origins: web_origins.clone(),
                web_origins,
                grant_types,
                ..ClientChanges::default()
            };
            let hasher = SecretHasher::new(&cx.settings.master_key);
            let (client, secret) =
                admin::update_client(cx.store.as_ref(), &hasher, &client_id, changes).await?;
            record(
                &cx,
                "Update an application",
                serde_json::json!({"client_id": client_id}),
            )
            .await;
            print_client(&cx, &client, secret.as_deref());
        }
        ClientsAction::RotateSecret { client_id } => {
            let hasher = SecretHasher::new(&cx.settings.master_key);
            let (client, secret) =
                admin::rotate_client_secret(cx.store.as_ref(), &hasher, &client_id).await?;
            record(
                &cx,
                "Rotate an application's secret",
                serde_json::json!({"client_id": client_id}),
            )
            .await;
            print_client(&cx, &client, Some(&secret));
        }
        ClientsAction::Delete { client_id } => {
            cx.store.delete_client(&client_id).await?;
            record(
                &cx,
                "Delete an application",
                serde_json::json!({"client_id": client_id}),
            )
            .await;
            println!("deleted application {client_id}");
        }
    }
    Ok(())
}

fn print_client(cx: &Tenant, client: &portcullis_store::Client, secret: Option<&str>) {
    if cx.json {
        print_json(&shapes::client(client, secret));
    } else {
        println!("client_id: {}", client.client_id);
        if let Some(secret) = secret {
            println!("client_secret: {secret}");
            println!("(the secret is shown only now; keep it safe)");
        }
    }
}

pub async fn users(command: UsersCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        UsersAction::Create {
            email,
            password,
            verified,
        } => {
            let user = admin::create_user(
                cx.store.as_ref(),
                &cx.clock,
                NewUser {
                    email,
                    password,
                    email_verified: verified,
                    ..NewUser::default()
                },
            )
            .await?;
            if cx.json {
                print_json(&shapes::user(&user));
            } else {
                println!("created user {} ({})", user.email, user.user_id);
            }
        }
        UsersAction::List => {
            let (users, _) = cx.store.list_users(None, Page::ALL).await?;
            if cx.json {
                print_json(&Value::Array(users.iter().map(shapes::user).collect()));
            } else {
                let rows = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.email.clone(),
                            u.user_id.clone(),
                            u.logins_count.to_string(),
                            if u.blocked { "yes" } else { "no" }.to_owned(),
                        ]
                    })
                    .collect();
                print_table(&["email", "user_id", "logins", "blocked"], rows);
            }
        }
        UsersAction::Update {
            user,
            email,
            password,
            verified,
            name,
        } => {
            let user_id = crate::access::resolve_user(&cx, &user).await?;
            let changes = UserChanges {
                email,
                password,
                email_verified: verified,
                name,
                ..UserChanges::default()
            };
            let user = admin::update_user(cx.store.as_ref(), &cx.clock, &user_id, changes).await?;
            record(
                &cx,
                "Update a user",
                serde_json::json!({"user_id": user.user_id}),
            )
            .await;
            if cx.json {
                print_json(&shapes::user(&user));
            } else {
                println!("updated user {} ({})", user.email, user.user_id);
            }
        }
        UsersAction::Block { user } => set_blocked(&cx, &user, true).await?,
        UsersAction::Unblock { user } => set_blocked(&cx, &user, false).await?,
        UsersAction::Delete { user } => {
            let user_id = crate::access::resolve_user(&cx, &user).await?;
            cx.store.delete_user(&user_id).await?;
            record(
                &cx,
                "Delete a user",
                serde_json::json!({"user_id": user_id}),
            )
            .await;
            println!("deleted user {user_id}");
        }
        UsersAction::Roles { user } => {
            let user_id = crate::access::resolve_user(&cx, &user).await?;
            let roles = cx.store.user_roles(&user_id).await?;
            if cx.json {
                print_json(&Value::Array(roles.iter().map(shapes::role).collect()));
            } else {
                print_table(
                    &["name", "id"],
                    roles
                        .iter()
                        .map(|r| vec![r.name.clone(), r.id.clone()])
                        .collect(),
                );
            }
        }
    }
    Ok(())
}

async fn set_blocked(cx: &Tenant, user: &str, blocked: bool) -> anyhow::Result<()> {
    let user_id = crate::access::resolve_user(cx, user).await?;
    let changes = UserChanges {
        blocked: Some(blocked),
        ..UserChanges::default()
    };
    let user = admin::update_user(cx.store.as_ref(), &cx.clock, &user_id, changes).await?;
    let what = if blocked {
        "Block a user"
    } else {
        "Unblock a user"
    };
    record(cx, what, serde_json::json!({"user_id": user.user_id})).await;
    if cx.json {
        print_json(&shapes::user(&user));
    } else {
        println!("{}: blocked {}", user.email, user.blocked);
    }
    Ok(())
}

/// How long a rotated-out key stays published: the longest lifetime of any token it signed.
async fn longest_token_lifetime(store: &dyn Store) -> anyhow::Result<i64> {
    let (apis, _) = store.list_resource_servers(Page::ALL).await?;
    let (clients, _) = store.list_clients(Page::ALL).await?;
    let longest = apis
        .iter()
        .map(|a| a.token_lifetime)
        .chain(clients.iter().map(|c| c.id_token_lifetime))
        .max()
        .unwrap_or(0);
    // Opaque tokens are not signed; a day covers the defaults.
    Ok(longest.max(86_400))
}

pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        KeysAction::Rotate => {
            let keep = longest_token_lifetime(cx.store.as_ref()).await?;
            let cipher = portcullis_core::keys::KeyCipher::new(&cx.settings.master_key)?;
            let kid =
                portcullis_core::keys::rotate(cx.store.as_ref(), &cx.clock, &cipher, keep).await?;
            if cx.json {
                print_json(
                    &serde_json::json!({"kid": kid, "previous_published_for_seconds": keep}),
                );
            } else {
                println!("now signing with {kid}; the previous key stays published for {keep} s");
            }
        }
        KeysAction::List => {
            let cipher = portcullis_core::keys::KeyCipher::new(&cx.settings.master_key)?;
            portcullis_core::keys::ensure_initialized(cx.store.as_ref(), &cx.clock, &cipher)
                .await?;
            let keys = cx.store.live_keys().await?;
            let now = cx.clock.now();
            if cx.json {
                print_json(&Value::Array(keys.iter().map(|k| serde_json::json!({"kid": k.kid, "state": k.state.as_str(), "created_at": k.created_at, "retire_after": k.retire_after})).collect()));
            } else {
                let rows = keys
                    .iter()
                    .map(|k| {
                        vec![
                            k.kid.clone(),
                            k.state.as_str().to_owned(),
                            k.retire_after
                                .map(|t| format!("in {} s", t - now))
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                print_table(&["kid", "state", "retires"], rows);
            }
        }
    }
    Ok(())
}
