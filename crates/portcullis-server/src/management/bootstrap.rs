//! First start: the Management API's own resource server (identifier `ISSUER + "api/v2/"`,
//! every scope) and, on an empty store, a machine-to-machine client granted all of it.
//!
//! Replicas starting together on one empty database race here; the store's uniqueness decides:
//! the resource server's identifier is unique, and the bootstrap client has a fixed id (or the
//! given one), so exactly one replica creates each and the others find them.

use anyhow::Context;
use portcullis_core::{
    admin::{self, AdminError, NewClient},
    secrets::{random_token, SecretHasher},
    Clock,
};
use portcullis_store::{AppType, Page, ScopeDefinition, Store};

use super::{audience, API_NAME, SCOPES};
use crate::settings::Settings;

/// The id of the bootstrap client when none is given.
pub const DEFAULT_CLIENT_ID: &str = "portcullis-bootstrap";

/// Its name.
pub const CLIENT_NAME: &str = "Portcullis Management (bootstrap)";

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
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    settings: &Settings,
) -> anyhow::Result<Outcome> {
    let identifier = audience(settings);
    let scopes: Vec<ScopeDefinition> = SCOPES
        .iter()
        .map(|(value, description)| ScopeDefinition {
            value: (*value).to_owned(),
            description: (*description).to_owned(),
        })
        .collect();
    admin::ensure_system_api(store, clock, API_NAME, &identifier, &scopes)
        .await
        .context("creating the Management API's resource server")?;

    let given = settings.bootstrap_client.as_ref();
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
    let secret = given.map_or_else(|| random_token(48), |c| c.client_secret.clone());
    let new = NewClient {
        name: CLIENT_NAME.into(),
        app_type: Some(AppType::NonInteractive),
        grant_types: Some(vec!["client_credentials".into()]),
        token_endpoint_auth_method: Some("client_secret_post".into()),
        ..NewClient::default()
    };
    match admin::create_client_with_credentials(store, hasher, clock, new, client_id, &secret).await
    {
        Ok(_) => {}
        Err(AdminError::Conflict(_)) => return Ok(Outcome::CreatedElsewhere),
        Err(AdminError::Invalid(message)) => {
            anyhow::bail!("bootstrap client credentials: {message}")
        }
        Err(other) => return Err(other).context("creating the bootstrap client"),
    }
    let all_scopes = SCOPES.iter().map(|(s, _)| (*s).to_owned()).collect();
    match admin::create_client_grant(store, client_id, &identifier, all_scopes).await {
        Ok(_) | Err(AdminError::Conflict(_)) => {}
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
         \n  client_id:     {client_id}\n  client_secret: {secret}\n\n\
         Set PORTCULLIS_BOOTSTRAP_CLIENT_ID and PORTCULLIS_BOOTSTRAP_CLIENT_SECRET to choose them instead.\n"
    );
    Ok(Outcome::CreatedWithGeneratedSecret {
        client_id: client_id.to_owned(),
    })
}
