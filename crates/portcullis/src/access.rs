//! Access administration from the shell: roles and their permissions, client grants, access
//! rules, dashboard administrators, and the audit log.

use clap::{Args, Subcommand};
use portcullis_core::{
    admin::{self, NewRole},
    administrators, rules,
};
use portcullis_server::shapes;
use portcullis_store::{LogFilter, Page, Permission};
use serde_json::{json, Value};

use crate::{
    admin::{open, print_json, print_table, record, Tenant},
    StoreArgs,
};

/// `API_IDENTIFIER=SCOPE` as given on the command line (`=` because identifiers and scopes
/// both contain colons).
pub fn parse_permissions(texts: &[String]) -> anyhow::Result<Vec<Permission>> {
    texts
        .iter()
        .map(|text| {
            let (api, scope) = text.split_once('=').ok_or_else(|| {
                anyhow::anyhow!(
                    "a permission is API_IDENTIFIER=SCOPE, such as https://api.example.com=read:messages"
                )
            })?;
            Ok(Permission {
                resource_server_identifier: api.to_owned(),
                permission_name: scope.to_owned(),
            })
        })
        .collect()
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

/// A user id from an id or an email.
pub async fn resolve_user(cx: &Tenant, user: &str) -> anyhow::Result<String> {
    let found = if user.contains('@') && !user.contains('|') {
        cx.store.user_by_email(user).await?
    } else {
        cx.store.user_by_id(user).await?
    };
    found
        .map(|u| u.user_id)
        .ok_or_else(|| anyhow::anyhow!("no user {user}"))
}

pub async fn roles(command: RolesCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        RolesAction::Create { name, description } => {
            let role =
                admin::create_role(cx.store.as_ref(), &cx.clock, NewRole { name, description })
                    .await?;
            record(&cx, "Create a role", json!({"role_id": role.id})).await;
            if cx.json {
                print_json(&shapes::role(&role));
            } else {
                println!("created role {} ({})", role.name, role.id);
            }
        }
        RolesAction::List => {
            let (roles, _) = cx.store.list_roles(None, Page::ALL).await?;
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
            cx.store.delete_role(&role_id).await?;
            record(&cx, "Delete a role", json!({"role_id": role_id})).await;
            println!("deleted role {role_id}");
        }
        RolesAction::Permissions { action } => match action {
            PermissionsAction::List { role_id } => {
                let permissions = cx.store.role_permissions(&role_id).await?;
                if cx.json {
                    print_json(&json!(permissions));
                } else {
                    permissions_table(&permissions);
                }
            }
            PermissionsAction::Add {
                role_id,
                permissions,
            } => {
                let permissions = parse_permissions(&permissions)?;
                admin::check_permissions(cx.store.as_ref(), &permissions).await?;
                cx.store
                    .add_role_permissions(&role_id, &permissions)
                    .await?;
                record(
                    &cx,
                    "Add permissions to a role",
                    json!({"role_id": role_id, "permissions": permissions}),
                )
                .await;
                println!("added {} permission(s) to {role_id}", permissions.len());
            }
            PermissionsAction::Remove {
                role_id,
                permissions,
            } => {
                let permissions = parse_permissions(&permissions)?;
                cx.store
                    .remove_role_permissions(&role_id, &permissions)
                    .await?;
                record(
                    &cx,
                    "Remove permissions from a role",
                    json!({"role_id": role_id, "permissions": permissions}),
                )
                .await;
                println!("removed {} permission(s) from {role_id}", permissions.len());
            }
        },
        RolesAction::Members { role_id } => {
            let (users, _) = cx.store.role_users(&role_id, Page::ALL).await?;
            if cx.json {
                print_json(&json!(users));
            } else {
                print_table(&["user_id"], users.into_iter().map(|u| vec![u]).collect());
            }
        }
        RolesAction::Assign { role_id, users } => assign(&cx, &role_id, &users, true).await?,
        RolesAction::Unassign { role_id, users } => assign(&cx, &role_id, &users, false).await?,
    }
    Ok(())
}

/// Gives (or takes) a role to (from) users.
async fn assign(cx: &Tenant, role_id: &str, users: &[String], give: bool) -> anyhow::Result<()> {
    let roles = [role_id.to_owned()];
    for user in users {
        let user_id = resolve_user(cx, user).await?;
        if give {
            cx.store.assign_user_roles(&user_id, &roles).await?;
        } else {
            cx.store.remove_user_roles(&user_id, &roles).await?;
        }
        let (description, done) = if give {
            ("Assign a role", "assigned")
        } else {
            ("Remove a role", "removed")
        };
        record(
            cx,
            description,
            json!({"role_id": role_id, "user_id": user_id}),
        )
        .await;
        println!("{done} {role_id}: {user_id}");
    }
    Ok(())
}

#[derive(Args)]
pub struct LogsCommand {
    #[command(flatten)]
    store: StoreArgs,
    /// Only events of this type code (s, f, ss, seacft, seccft, sertft, ferrt, sapi, ...).
    #[arg(long = "type")]
    event_type: Option<String>,
    /// Only events of this user id.
    #[arg(long)]
    user: Option<String>,
    /// Only events of this application.
    #[arg(long)]
    client: Option<String>,
    /// How many, newest first.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

pub async fn logs(command: LogsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    let filter = LogFilter {
        event_type: command.event_type,
        user_id: command.user,
        client_id: command.client,
    };
    let page = Page {
        page: 0,
        per_page: command.limit.clamp(1, 10_000),
    };
    let (events, total) = cx.store.list_logs(&filter, page).await?;
    if cx.json {
        print_json(&Value::Array(
            events.iter().map(shapes::log_event).collect(),
        ));
        return Ok(());
    }
    print_table(
        &["date", "type", "description", "user", "client", "ip"],
        events
            .iter()
            .map(|e| {
                vec![
                    portcullis_core::claims::rfc3339(e.date / 1000),
                    e.event_type.clone(),
                    e.description.clone(),
                    e.user_name
                        .clone()
                        .or(e.user_id.clone())
                        .unwrap_or_default(),
                    e.client_name
                        .clone()
                        .or(e.client_id.clone())
                        .unwrap_or_default(),
                    e.ip.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    eprintln!("{} of {total} event(s)", events.len());
    Ok(())
}

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
        password: String,
    },
    /// Set an administrator's password.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "PORTCULLIS_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// List administrators.
    List,
}

pub async fn admins(command: AdminsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        AdminsAction::Create { email, password } => {
            let admin =
                administrators::create_admin(cx.store.as_ref(), &cx.clock, &email, &password)
                    .await?;
            record(
                &cx,
                "Create an administrator",
                json!({"admin_id": admin.id}),
            )
            .await;
            if cx.json {
                print_json(&json!({"id": admin.id, "email": admin.email}));
            } else {
                println!("created administrator {} ({})", admin.email, admin.id);
            }
        }
        AdminsAction::SetPassword { email, password } => {
            let admin =
                administrators::set_admin_password(cx.store.as_ref(), &email, &password).await?;
            record(
                &cx,
                "Set an administrator's password",
                json!({"admin_id": admin.id}),
            )
            .await;
            println!("password set for {}", admin.email);
        }
        AdminsAction::List => {
            let admins = cx.store.list_admins().await?;
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
        #[arg(long)]
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

pub async fn grants(command: GrantsCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        GrantsAction::Create {
            client_id,
            audience,
            scopes,
        } => {
            let grant =
                admin::create_client_grant(cx.store.as_ref(), &client_id, &audience, scopes)
                    .await?;
            record(&cx, "Create a client grant", json!({"grant_id": grant.id})).await;
            if cx.json {
                print_json(&shapes::client_grant(&grant));
            } else {
                println!("created grant {} ({client_id} -> {audience})", grant.id);
            }
        }
        GrantsAction::List => {
            let (grants, _) = cx.store.list_client_grants(Page::ALL).await?;
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
            cx.store.delete_client_grant(&grant_id).await?;
            record(&cx, "Delete a client grant", json!({"grant_id": grant_id})).await;
            println!("deleted grant {grant_id}");
        }
    }
    Ok(())
}

/// `apis rules ...`: access rules of one API.
#[derive(Subcommand)]
pub enum RulesAction {
    /// List the rules of an API.
    List { api: String },
    /// Add a rule: SCOPE (or *) is granted only when CONDITION holds. CONDITION is
    /// email_verified, has_role:ROLE_ID, client_in:CLIENT_ID,... or email_domain_in:DOMAIN,...
    Add {
        api: String,
        #[arg(long)]
        scope: String,
        #[arg(long)]
        condition: String,
    },
    /// Remove a rule.
    Remove { rule_id: String },
}

pub async fn rules(cx: &Tenant, action: RulesAction) -> anyhow::Result<()> {
    match action {
        RulesAction::List { api } => {
            let api = crate::admin::find_api(cx, &api).await?;
            let list = cx.store.access_rules(&api.id).await?;
            if cx.json {
                print_json(&json!(list));
            } else {
                print_table(
                    &["id", "scope", "condition"],
                    list.iter()
                        .map(|r| {
                            vec![
                                r.id.clone(),
                                r.scope.clone(),
                                rules::describe_condition(&r.condition),
                            ]
                        })
                        .collect(),
                );
            }
        }
        RulesAction::Add {
            api,
            scope,
            condition,
        } => {
            let api = crate::admin::find_api(cx, &api).await?;
            let condition = rules::parse_condition(&condition)?;
            let rule =
                rules::create_access_rule(cx.store.as_ref(), &cx.clock, &api.id, &scope, condition)
                    .await?;
            record(
                cx,
                "Create an access rule",
                json!({"rule_id": rule.id, "api": api.id}),
            )
            .await;
            if cx.json {
                print_json(&json!(rule));
            } else {
                println!("created rule {}", rule.id);
            }
        }
        RulesAction::Remove { rule_id } => {
            cx.store.delete_access_rule(&rule_id).await?;
            record(cx, "Delete an access rule", json!({"rule_id": rule_id})).await;
            println!("deleted rule {rule_id}");
        }
    }
    Ok(())
}
