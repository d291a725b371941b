//! `portcullis users`: users of the database connection.

use clap::{Args, Subcommand};
use portcullis_admin::{
    management::{guardian::AuthenticationMethod, jobs},
    shapes,
};
use portcullis_core::{
    admin::{
        mfa, user_import,
        users::{self, NewUser, UserChanges},
        Actor,
    },
    email::Outbox,
};
use portcullis_server::Application;
use portcullis_store::{MfaOwner, Page};
use portcullis_types::Secret;
use serde_json::Value;

use super::{open, print_json, print_table, resolve_user, Tenant};
use crate::config::{self, EmailArgs, StoreArgs};

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
    /// Import users from a file of Auth0's bulk-import format (the Management API's
    /// users-imports job): invalid rows are reported, valid ones imported.
    Import {
        file: std::path::PathBuf,
        /// Update users that exist already instead of reporting them.
        #[arg(long)]
        upsert: bool,
        /// When the job is done, email every dashboard administrator its counts (Auth0's
        /// `send_completion_email`). Sent through the SMTP server of PORTCULLIS_SMTP_URL (or
        /// --smtp-url, or the configuration file) before the command ends; without one, the
        /// messages stay in the outbox, on the dashboard's Emails page.
        #[arg(long)]
        send_completion_email: bool,
        #[command(flatten)]
        email: EmailArgs,
    },
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
        UsersAction::Import {
            file,
            upsert,
            send_completion_email,
            email,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut cx = cx;
            let delivering = send_completion_email && mailer(&mut cx, &command.store, &email)?;
            let options = user_import::ImportOptions {
                upsert,
                send_completion_email,
                ..user_import::ImportOptions::default()
            };
            let job = user_import::import_users(&cx.cx, &Actor::Cli, &bytes, options).await?;
            let delivered = if delivering {
                Application::deliver_due_emails(cx.store(), cx.cx.clock.as_ref(), &cx.settings)
                    .await?
            } else {
                None
            };
            if cx.json {
                print_json(&jobs::job_json(&job, None));
            } else {
                let summary = &job.details["summary"];
                println!(
                    "imported {} users, updated {}, failed {} of {} (job {})",
                    summary["inserted"],
                    summary["updated"],
                    summary["failed"],
                    summary["total"],
                    job.id
                );
                for row in &job.errors {
                    for error in row["errors"].as_array().into_iter().flatten() {
                        println!(
                            "  {}: {} {}",
                            row["user"]["email"].as_str().unwrap_or("(no email)"),
                            error["code"].as_str().unwrap_or_default(),
                            error["message"].as_str().unwrap_or_default()
                        );
                    }
                }
                match delivered {
                    Some(delivered) => println!(
                        "emails: {} sent, {} to retry, {} failed",
                        delivered.sent, delivered.retrying, delivered.failed
                    ),
                    None if send_completion_email => println!(
                        "completion email: kept in the outbox (no SMTP server; set PORTCULLIS_SMTP_URL)"
                    ),
                    None => {}
                }
            }
        }
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

/// Whether the messages this command writes are delivered: an SMTP server is configured (the
/// flags, their variables or the file, as for `serve`). They are then queued for delivery
/// rather than kept in the outbox.
fn mailer(cx: &mut Tenant, store: &StoreArgs, email: &EmailArgs) -> anyhow::Result<bool> {
    let file = config::load_file(store.config.as_deref())?;
    config::email(&mut cx.settings, email, &file)?;
    if cx.settings.email.smtp.is_none() {
        return Ok(false);
    }
    cx.cx.outbox = Outbox::delivering();
    Ok(true)
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
