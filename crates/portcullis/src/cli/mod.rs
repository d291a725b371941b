//! The administrative commands, one module per subcommand. This module holds what they share
//! (opening the tenant, printing JSON and tables, finding an API or a user by what the shell
//! gives, reading `API=SCOPE` permissions) and uses none of them.
//!
//! Every change goes through `portcullis_core::admin` as `Actor::Cli`: core checks it and
//! writes its audit entry, exactly as for the dashboard and the Management API. Reads go to
//! the store directly.

pub mod actions;
pub mod admins;
pub mod apis;
pub mod clients;
pub mod connection;
pub mod connections;
pub mod grants;
pub mod keys;
pub mod logs;
pub mod roles;
mod rules;
pub mod tenant;
pub mod token;
pub mod users;

use std::{str::FromStr, sync::Arc};

use portcullis_core::{
    admin::{self, AdminError, Context, Kind},
    keys::KeyCipher,
    Clock, SystemClock,
};
use portcullis_server::Settings;
use portcullis_store::{Permission, ResourceServer, Store};
use portcullis_types::UnknownValue;
use serde_json::Value;

use crate::{
    config::{self, StoreArgs},
    store,
};

/// An opened tenant: the administrative context over its store, and the settings it was
/// opened with (the master key, the issuer).
pub struct Tenant {
    pub settings: Settings,
    pub cx: Context,
    /// Print results as JSON.
    pub json: bool,
}

impl Tenant {
    pub fn store(&self) -> &dyn Store {
        self.cx.store()
    }

    /// The cipher that seals the private signing keys under the master key.
    pub fn key_cipher(&self) -> anyhow::Result<KeyCipher> {
        Ok(KeyCipher::new(self.settings.master_key.expose())?)
    }
}

/// Opens the tenant the arguments name.
pub async fn open(args: &StoreArgs) -> anyhow::Result<Tenant> {
    open_with_issuer(args, None).await
}

/// Opens the tenant, with `issuer` (when given) in its settings.
pub async fn open_with_issuer(args: &StoreArgs, issuer: Option<&str>) -> anyhow::Result<Tenant> {
    let config = config::load(args, None, issuer)?;
    let store = store::open_store(&config.store).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let cx = Context::new(store, clock, config.settings.master_key.expose());
    Ok(Tenant {
        settings: config.settings,
        cx,
        json: args.json,
    })
}

pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// A plain text table: a header row and aligned columns.
pub fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
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

/// A refusal from core as the shell reports it. A missing object is named by what the
/// command was given, which says more than core's "no such API" alone.
pub fn refused(error: AdminError, given: &str) -> anyhow::Error {
    match error {
        AdminError::NotFound(kind) => anyhow::anyhow!("no {} has the id {given}", kind.label()),
        other => other.into(),
    }
}

/// A protocol value from the command line; the error lists what is allowed.
pub fn parse_value<T: FromStr<Err = UnknownValue>>(text: &str) -> anyhow::Result<T> {
    text.parse()
        .map_err(|e: UnknownValue| anyhow::anyhow!("{e}, not {:?}", e.value))
}

/// An API by id or identifier.
pub async fn find_api(cx: &Tenant, api: &str) -> anyhow::Result<ResourceServer> {
    admin::apis::find(&cx.cx, api).await.map_err(|e| match e {
        AdminError::NotFound(Kind::Api) => {
            anyhow::anyhow!("no API has the id or identifier {api}")
        }
        other => other.into(),
    })
}

/// A user id from an id or an email.
pub async fn resolve_user(cx: &Tenant, user: &str) -> anyhow::Result<String> {
    let found = if user.contains('@') && !user.contains('|') {
        cx.store().user_by_email(user).await?
    } else {
        cx.store().user_by_id(user).await?
    };
    found
        .map(|u| u.user_id)
        .ok_or_else(|| anyhow::anyhow!("no user {user}"))
}

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

/// Comma-separated values as clap splits them, without the empty ones a trailing comma
/// leaves.
pub fn non_empty(values: Vec<String>) -> Vec<String> {
    values.into_iter().filter(|v| !v.is_empty()).collect()
}
