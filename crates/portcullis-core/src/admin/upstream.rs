//! Connections to other identity providers (strategies `oidc`, `oauth2` and their presets):
//! created, changed and deleted by administrators. The options are checked by
//! [`crate::federation::settings::read`]; the client secret leaves them to be sealed under the
//! master key, and is never shown again.

use portcullis_store::{Page, UpstreamConnection};
use portcullis_types::{Secret, Strategy};
use serde_json::{json, Map, Value};

use super::{conflict_as, missing, Action, Actor, AdminError, Change, Context, Kind};
use crate::{federation, secrets::random_hex};

/// The longest connection name (Auth0's).
const MAX_NAME: usize = 128;

const NAME_TAKEN: &str = "A connection with the same name already exists";

/// A new connection.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub name: String,
    pub display_name: Option<String>,
    pub strategy: Strategy,
    /// Auth0's `options`, `client_secret` included.
    pub options: Map<String, Value>,
    pub enabled_clients: Vec<String>,
}

/// Changes to a connection: `None` leaves a property as it is.
#[derive(Clone, Debug, Default)]
pub struct ConnectionUpdate {
    pub display_name: Option<Option<String>>,
    /// Replaces the options (Auth0's rule); a `client_secret` left out keeps the current one.
    pub options: Option<Map<String, Value>>,
    pub enabled_clients: Option<Vec<String>>,
}

/// Auth0's rule for names: letters and digits, with single hyphens between them.
fn check_name(name: &str) -> Result<(), AdminError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(AdminError::invalid(
            "name",
            format!("name must be 1 to {MAX_NAME} letters, digits and single hyphens, starting and ending with a letter or digit"),
        ))
    }
}

/// Every client id named exists.
async fn check_clients(cx: &Context, enabled: &mut Vec<String>) -> Result<(), AdminError> {
    enabled.sort();
    enabled.dedup();
    let (clients, _) = cx.store().list_clients(Page::ALL).await?;
    for client_id in enabled.iter() {
        if !clients.iter().any(|c| &c.client_id == client_id) {
            return Err(AdminError::invalid(
                "enabled_clients",
                format!("enabled_clients: no application has the client id {client_id}"),
            ));
        }
    }
    Ok(())
}

/// Takes `client_secret` out of the options, and checks what remains.
fn split_secret(
    strategy: Strategy,
    mut options: Map<String, Value>,
) -> Result<(Map<String, Value>, Option<Secret>), AdminError> {
    federation::settings::read(strategy, &options)?;
    let secret = match options.remove("client_secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.is_empty() => None,
        Some(Value::String(text)) => Some(Secret::new(text)),
        Some(_) => {
            return Err(AdminError::invalid(
                "options",
                "options.client_secret must be a string",
            ))
        }
    };
    Ok((options, secret))
}

fn seal(cx: &Context, id: &str, secret: &Secret) -> Result<Vec<u8>, AdminError> {
    federation::seal_client_secret(&cx.key_cipher, id, secret)
        .map_err(|error| AdminError::Keys(error.into()))
}

fn described(action: Action, connection: &UpstreamConnection) -> Change {
    Change::new(action, Kind::Connection, &connection.id).with(json!({
        "name": connection.name,
        "strategy": connection.strategy.as_str(),
        "enabled_clients": connection.enabled_clients,
    }))
}

impl federation::Federation for Context {
    fn store(&self) -> &dyn portcullis_store::Store {
        Context::store(self)
    }

    fn now(&self) -> i64 {
        Context::now(self)
    }

    fn cipher(&self) -> &crate::keys::KeyCipher {
        &self.key_cipher
    }
}

/// Every connection to another provider, by name.
pub async fn list(cx: &Context) -> Result<Vec<UpstreamConnection>, AdminError> {
    Ok(cx.store().upstream_connections().await?)
}

/// The connection of this id.
pub async fn find(cx: &Context, id: &str) -> Result<UpstreamConnection, AdminError> {
    cx.store()
        .upstream_connection_by_id(id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Connection))
}

/// Creates a connection.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    new: NewConnection,
) -> Result<UpstreamConnection, AdminError> {
    let name = new.name.trim().to_owned();
    check_name(&name)?;
    if super::connection::find(cx).await?.name == name {
        return Err(AdminError::conflict("name", NAME_TAKEN));
    }
    let (options, secret) = split_secret(new.strategy, new.options)?;
    let mut enabled_clients = new.enabled_clients;
    check_clients(cx, &mut enabled_clients).await?;
    let id = format!("con_{}", random_hex(8));
    let sealed_client_secret = secret.map(|s| seal(cx, &id, &s)).transpose()?;
    let connection = UpstreamConnection {
        id,
        name,
        display_name: new.display_name.filter(|d| !d.trim().is_empty()),
        strategy: new.strategy,
        options,
        sealed_client_secret,
        enabled_clients,
        created_at: cx.now(),
    };
    cx.store()
        .insert_upstream_connection(&connection)
        .await
        .map_err(conflict_as("name", NAME_TAKEN))?;
    cx.record(actor, described(Action::Create, &connection))
        .await;
    Ok(connection)
}

/// Changes a connection.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    id: &str,
    update: ConnectionUpdate,
) -> Result<UpstreamConnection, AdminError> {
    let mut connection = find(cx, id).await?;
    if let Some(display_name) = update.display_name {
        connection.display_name = display_name.filter(|d| !d.trim().is_empty());
    }
    if let Some(options) = update.options {
        let mut options = options;
        // A secret left out is kept: read the options as complete for the check.
        let (options, secret) = {
            let had_secret = options.contains_key("client_secret");
            if !had_secret && connection.sealed_client_secret.is_some() {
                options.insert("client_secret".into(), Value::Null);
            }
            split_secret(connection.strategy, options)?
        };
        if let Some(secret) = secret {
            connection.sealed_client_secret = Some(seal(cx, &connection.id, &secret)?);
        }
        connection.options = options;
    }
    if let Some(mut enabled) = update.enabled_clients {
        check_clients(cx, &mut enabled).await?;
        connection.enabled_clients = enabled;
    }
    cx.store()
        .update_upstream_connection(&connection)
        .await
        .map_err(missing(Kind::Connection))?;
    cx.record(actor, described(Action::Update, &connection))
        .await;
    Ok(connection)
}

/// Turns a connection on or off for one application.
pub async fn enable_for(
    cx: &Context,
    actor: &Actor,
    id: &str,
    client_id: &str,
    enabled: bool,
) -> Result<UpstreamConnection, AdminError> {
    let mut clients = find(cx, id).await?.enabled_clients;
    clients.retain(|c| c != client_id);
    if enabled {
        clients.push(client_id.to_owned());
    }
    let update = ConnectionUpdate {
        enabled_clients: Some(clients),
        ..ConnectionUpdate::default()
    };
    self::update(cx, actor, id, update).await
}

/// Deletes a connection; its users stay.
pub async fn delete(cx: &Context, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let connection = find(cx, id).await?;
    if !cx.store().delete_upstream_connection(id).await? {
        return Err(AdminError::NotFound(Kind::Connection));
    }
    cx.record(actor, described(Action::Delete, &connection))
        .await;
    Ok(())
}
