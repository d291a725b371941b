//! `portcullis connection`: the database connection's settings (sign-ups and the password
//! policy), as the dashboard's Authentication → Database page and the Management API's
//! `/connections` change them.

use clap::{Args, Subcommand};
use portcullis_admin::shapes;
use portcullis_core::{
    admin::{
        connection::{self, ConnectionChanges},
        Actor,
    },
    password_policy,
};
use portcullis_store::{DatabaseConnection, Page, PasswordDictionary, PasswordHistory};
use portcullis_types::PasswordStrength;

use super::{open, print_json, Tenant};
use crate::config::StoreArgs;

#[derive(Args)]
pub struct ConnectionCommand {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    action: ConnectionAction,
}

#[derive(Subcommand)]
enum ConnectionAction {
    /// Show the settings and the password rules they make.
    Show,
    /// Change sign-ups and the password policy; what is not given stays.
    Update {
        /// Stop (true) or allow (false) users signing themselves up.
        #[arg(long)]
        disable_signup: Option<bool>,
        /// none, low, fair, good or excellent.
        #[arg(long)]
        password_policy: Option<PasswordStrength>,
        /// The shortest password, in characters (0: the strength's own minimum).
        #[arg(long)]
        min_length: Option<u32>,
        /// Refuse common passwords.
        #[arg(long)]
        dictionary: Option<bool>,
        /// Refuse passwords containing the user's name or email.
        #[arg(long)]
        no_personal_info: Option<bool>,
        /// Refuse this many of a user's latest passwords (0: no history).
        #[arg(long)]
        history: Option<u32>,
    },
}

pub async fn run(command: ConnectionCommand) -> anyhow::Result<()> {
    let cx = open(&command.store).await?;
    let connection = match command.action {
        ConnectionAction::Show => connection::find(&cx.cx).await?,
        ConnectionAction::Update {
            disable_signup,
            password_policy,
            min_length,
            dictionary,
            no_personal_info,
            history,
        } => {
            let current = connection::find(&cx.cx).await?;
            let changes = ConnectionChanges {
                disable_signup,
                password_policy,
                min_length: min_length.map(|length| Some(length).filter(|l| *l > 0)),
                dictionary: dictionary.map(|enable| PasswordDictionary {
                    enable,
                    entries: current.dictionary.entries.clone(),
                }),
                no_personal_info,
                history: history.map(|size| PasswordHistory {
                    enable: size > 0,
                    size: if size > 0 { size } else { current.history.size },
                }),
            };
            connection::update(&cx.cx, &Actor::Cli, changes).await?
        }
    };
    print(&cx, &connection).await
}

async fn print(cx: &Tenant, connection: &DatabaseConnection) -> anyhow::Result<()> {
    if cx.json {
        let (clients, _) = cx.store().list_clients(Page::ALL).await?;
        let ids = clients.into_iter().map(|c| c.client_id).collect();
        print_json(&shapes::connection(connection, ids));
    } else {
        println!("{} ({})", connection.name, connection.id);
        println!(
            "sign-ups: {}",
            if connection.disable_signup {
                "disabled"
            } else {
                "allowed"
            }
        );
        println!("password policy: {}", connection.password_policy);
        for rule in password_policy::rules(connection) {
            println!("  - {rule}");
        }
    }
    Ok(())
}
