//! First start: the Management API's own resource server (identifier `ISSUER + "api/v2/"`,
//! every scope) and, on an empty store, a machine-to-machine client granted all of it.
//!
//! Replicas starting together on one empty database race here; the store's uniqueness decides:
//! the resource server's identifier is unique, and the bootstrap client has a fixed id (or the
//! given one), so exactly one replica creates each and the others find them.

use anyhow::Context as _;
use portcullis_core::{
    admin::{
        apis,
        applications::{self, NewClient},
        grants, Actor, AdminError,
    },
    secrets::random_token,
};
use portcullis_store::{AppType, Page, ScopeDefinition};
use portcullis_types::{ClientAuthMethod, GrantType, Secret};

use super::{API_NAME, SCOPES};
use crate::state::AdminState;

/// The id of the bootstrap client when none is given.
pub const DEFAULT_CLIENT_ID: &str = "portcullis-bootstrap";

/// Its name.
pub const CLIENT_NAME: &str = "Portcullis Management (bootstrap)";

/// Credentials of the bootstrap client (the first machine-to-machine client, granted the whole
/// Management API), from `PORTCULLIS_BOOTSTRAP_CLIENT_ID` and
/// `PORTCULLIS_BOOTSTRAP_CLIENT_SECRET`. Without them a secret is generated and printed once.
#[derive(Clone, Debug)]
pub struct BootstrapCredentials {
    pub client_id: String,
    pub client_secret: Secret,
}

impl BootstrapCredentials {
    /// Reads `PORTCULLIS_BOOTSTRAP_CLIENT_ID` and `PORTCULLIS_BOOTSTRAP_CLIENT_SECRET`: both or
    /// neither must be set.
    pub fn from_env() -> Result<Option<Self>, String> {
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (
            read("PORTCULLIS_BOOTSTRAP_CLIENT_ID"),
            read("PORTCULLIS_BOOTSTRAP_CLIENT_SECRET"),
        ) {
            (Some(client_id), Some(client_secret)) => Ok(Some(BootstrapCredentials {
                client_id,
                client_secret: Secret::new(client_secret),
            })),
            (None, None) => Ok(None),
            _ => Err("set both PORTCULLIS_BOOTSTRAP_CLIENT_ID and PORTCULLIS_BOOTSTRAP_CLIENT_SECRET, or neither".into()),
        }
    }
}

/// What bootstrapping did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The store already had clients (or the given client): nothing was created.
    Skipped,
    /// This process created the client with the given credentials.
    CreatedWithGivenCredentials { client_id: String },
    /// This process created the client with a generated secret, printed to stderr.
    CreatedWithGeneratedSecret { client_id: String },
    /// Another process created it first.
    CreatedElsewhere,
}

pub async fn run(
    state: &AdminState,
    given: Option<&BootstrapCredentials>,
) -> anyhow::Result<Outcome> {
    let cx = &state.cx;
    let identifier = state.settings.management_audience();
    let scopes: Vec<ScopeDefinition> = SCOPES
        .iter()
        .map(|(value, description)| ScopeDefinition {
            value: (*value).to_owned(),
            description: (*description).to_owned(),
        })
        .collect();
    apis::ensure_system_api(cx, API_NAME, &identifier, &scopes)
        .await
        .context("creating the Management API's resource server")?;

    let store = cx.store();
    let client_id = given.map_or(DEFAULT_CLIENT_ID, |c| c.client_id.as_str());
    if store.client_by_id(client_id).await?.is_some() {
        return Ok(Outcome::Skipped);
    }
    // Given credentials make sure their client exists; otherwise only an empty store gets one.
    if given.is_none() {
        let (_, clients) = store
            .list_clients(Page {
                page: 0,
                per_page: 1,
            })
            .await?;
        if clients > 0 {
            return Ok(Outcome::Skipped);
        }
    }
    let secret = given.map_or_else(
        || Secret::new(random_token(48)),
        |c| c.client_secret.clone(),
    );
    let new = NewClient {
        name: CLIENT_NAME.into(),
        app_type: Some(AppType::NonInteractive),
        grant_types: Some(vec![GrantType::ClientCredentials]),
        token_endpoint_auth_method: Some(ClientAuthMethod::ClientSecretPost),
        ..NewClient::default()
    };
    let actor = Actor::System;
    match applications::create_with_credentials(cx, &actor, new, client_id, &secret).await {
        Ok(_) => {}
        Err(AdminError::Conflict { .. }) => return Ok(Outcome::CreatedElsewhere),
        Err(AdminError::Invalid { message, .. }) => {
            anyhow::bail!("bootstrap client credentials: {message}")
        }
        Err(other) => return Err(other).context("creating the bootstrap client"),
    }
    let all_scopes = SCOPES.iter().map(|(s, _)| (*s).to_owned()).collect();
    match grants::create(cx, &actor, client_id, &identifier, all_scopes).await {
        Ok(_) | Err(AdminError::Conflict { .. }) => {}
        Err(other) => return Err(other).context("granting the bootstrap client"),
    }
    if given.is_some() {
        tracing::info!(
            client_id,
            "created the bootstrap client (credentials from the environment)"
        );
        return Ok(Outcome::CreatedWithGivenCredentials {
            client_id: client_id.to_owned(),
        });
    }
    // Printed once, to the operator's terminal: never through tracing, whose output may be
    // shipped elsewhere.
    eprintln!(
        "\nPortcullis created a machine-to-machine client for the Management API ({identifier}).\n\
         Keep these credentials now: the secret is not shown again.\n\
         \n  client_id:     {client_id}\n  client_secret: {}\n\n\
         Set PORTCULLIS_BOOTSTRAP_CLIENT_ID and PORTCULLIS_BOOTSTRAP_CLIENT_SECRET to choose them instead.\n",
        secret.expose_str()
    );
    Ok(Outcome::CreatedWithGeneratedSecret {
        client_id: client_id.to_owned(),
    })
}
