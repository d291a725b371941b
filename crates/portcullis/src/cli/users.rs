//! `portcullis users`: users of the database connection.

use clap::{Args, Subcommand};
use portcullis_admin::{management::guardian::AuthenticationMethod, shapes};
use portcullis_core::admin::{
    mfa,
    users::{self, NewUser, UserChanges},
    Actor,
};
use portcullis_store::{MfaOwner, Page};
use portcullis_types::Secret;
use serde_json::Value;

use super::{open, print_json, print_table, resolve_user, Tenant};
use crate::config::StoreArgs;

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
        password: Secret,
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
        password: Option<Secret>,
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
    /// The second factors (MFA) a user enrolled.
    Factors { user: String },
    /// Delete all of a user's second factors: their next login that needs one enrols again.
    ResetMfa { user: String },
}

pub async fn run(command: UsersCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    match command.action {
        UsersAction::Create {
            email,
            password,
            verified,
        } => {
            let new = NewUser {
                email,
                password,
                email_verified: verified,
                ..NewUser::default()
            };
            let user = users::create(&cx.cx, &Actor::Cli, new).await?;
            if cx.json {
                print_json(&shapes::user(&user));
            } else {
                println!("created user {} ({})", user.email, user.user_id);
            }
        }
        UsersAction::List => list(&cx).await?,
        UsersAction::Update {
            user,
            email,
            password,
            verified,
            name,
        } => {
            let user_id = resolve_user(&cx, &user).await?;
            let changes = UserChanges {
                email,
                password,
                email_verified: verified,
                name,
                ..UserChanges::default()
            };
            let user = users::update(&cx.cx, &Actor::Cli, &user_id, changes).await?;
            if cx.json {
                print_json(&shapes::user(&user));
            } else {
                println!("updated user {} ({})", user.email, user.user_id);
            }
        }
        UsersAction::Block { user } => set_blocked(&cx, &user, true).await?,
        UsersAction::Unblock { user } => set_blocked(&cx, &user, false).await?,
        UsersAction::Delete { user } => {
            let user_id = resolve_user(&cx, &user).await?;
            users::delete(&cx.cx, &Actor::Cli, &user_id).await?;
            println!("deleted user {user_id}");
        }
        UsersAction::Roles { user } => {
            let user_id = resolve_user(&cx, &user).await?;
            let roles = cx.store().user_roles(&user_id).await?;
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
        UsersAction::Factors { user } => {
            let user_id = resolve_user(&cx, &user).await?;
            let methods: Vec<AuthenticationMethod> = mfa::user_methods(&cx.cx, &user_id)
                .await?
                .into_iter()
                .map(AuthenticationMethod::from)
                .collect();
            if cx.json {
                print_json(&serde_json::to_value(&methods)?);
            } else {
                let rows = methods
                    .into_iter()
                    .map(|m| {
                        let left = m.unused_codes.map(|n| n.to_string()).unwrap_or_default();
                        vec![m.kind, m.id, m.created_at, left]
                    })
                    .collect();
                print_table(&["type", "id", "created", "codes left"], rows);
            }
        }
        UsersAction::ResetMfa { user } => {
            let user_id = resolve_user(&cx, &user).await?;
            let deleted = mfa::reset(&cx.cx, &Actor::Cli, &MfaOwner::User(user_id.clone())).await?;
            if cx.json {
                print_json(&serde_json::json!({ "user_id": user_id, "deleted": deleted }));
            } else {
                println!("deleted {deleted} factor(s) of {user_id}");
            }
        }
    }
    Ok(())
}

async fn list(cx: &Tenant) -> anyhow::Result<()> {
    let (users, _) = cx.store().list_users(None, Page::ALL).await?;
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
    Ok(())
}

/// Blocks or unblocks: a change of `blocked` alone, which core records as such.
async fn set_blocked(cx: &Tenant, user: &str, blocked: bool) -> anyhow::Result<()> {
    let user_id = resolve_user(cx, user).await?;
    let changes = UserChanges {
        blocked: Some(blocked),
        ..UserChanges::default()
    };
    let user = users::update(&cx.cx, &Actor::Cli, &user_id, changes).await?;
    if cx.json {
        print_json(&shapes::user(&user));
    } else {
        println!("{}: blocked {}", user.email, user.blocked);
    }
    Ok(())
}
