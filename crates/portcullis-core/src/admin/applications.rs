//! Applications (OAuth clients): creating them with their type's defaults, changing them,
//! rotating their secrets, deleting them.

use portcullis_store::{AppType, Client, RefreshTokenPolicy};
use portcullis_types::{ClientAuthMethod, GrantType, Secret};
use serde_json::{json, Map, Value};

use super::{
    conflict_as, metadata, missing, validate, Action, Actor, AdminError, Change, Context, Kind,
    MIN_GIVEN_SECRET_LENGTH,
};
use crate::secrets::{random_alphanumeric, random_token};

/// What it takes to create an application.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    pub name: String,
    pub app_type: Option<AppType>,
    pub callbacks: Vec<String>,
    pub allowed_logout_urls: Vec<String>,
    pub web_origins: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// `None`: the defaults of the app type.
    pub grant_types: Option<Vec<GrantType>>,
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    pub refresh_token: Option<RefreshTokenPolicy>,
    pub id_token_lifetime: Option<i64>,
    /// `None`: first party (skips the consent page).
    pub is_first_party: Option<bool>,
    /// Auth0's `client_metadata`, checked by [`metadata::client_metadata`].
    pub client_metadata: Map<String, Value>,
}

/// Changes to an application: `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub app_type: Option<AppType>,
    pub callbacks: Option<Vec<String>>,
    pub allowed_logout_urls: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub allowed_origins: Option<Vec<String>>,
    pub grant_types: Option<Vec<GrantType>>,
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    pub id_token_lifetime: Option<i64>,
    pub refresh_token: Option<RefreshTokenPolicy>,
    pub is_first_party: Option<bool>,
    /// Merged into the application's `client_metadata` (a property set to `null` removed).
    pub client_metadata: Option<Map<String, Value>>,
}

impl ClientChanges {
    /// Whether applying these changes to `current` gives it a new secret (a public client made
    /// confidential): the Management API asks for `update:client_keys` then, as for a rotation.
    pub fn issues_secret(&self, current: &Client) -> bool {
        let method = self
            .token_endpoint_auth_method
            .unwrap_or(current.token_endpoint_auth_method);
        method.is_confidential() && current.client_secret_hash.is_none()
    }
}

/// The application with this id.
pub async fn find(cx: &Context, client_id: &str) -> Result<Client, AdminError> {
    cx.store()
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Application))
}

/// Creates an application; returns it and, for confidential clients, the secret (shown once).
pub async fn create(
    cx: &Context,
    actor: &Actor,
    new: NewClient,
) -> Result<(Client, Option<Secret>), AdminError> {
    let (client, secret) = build(cx, new, random_alphanumeric(32), None)?;
    cx.store().create_client(&client).await?;
    cx.record(actor, described(Action::Create, &client)).await;
    Ok((client, secret))
}

/// Creates a confidential application with the given id and secret (the bootstrap client,
/// whose credentials may come from the environment). `Conflict` when the id is taken.
pub async fn create_with_credentials(
    cx: &Context,
    actor: &Actor,
    new: NewClient,
    client_id: &str,
    secret: &Secret,
) -> Result<Client, AdminError> {
    validate::check_client_id(client_id)?;
    if secret.expose_str().len() < MIN_GIVEN_SECRET_LENGTH {
        return Err(AdminError::invalid(
            "client_secret",
            format!("a client secret must have at least {MIN_GIVEN_SECRET_LENGTH} characters"),
        ));
    }
    let (client, _) = build(cx, new, client_id.to_owned(), Some(secret))?;
    if client.client_secret_hash.is_none() {
        return Err(AdminError::invalid(
            "token_endpoint_auth_method",
            "a client with a secret must be confidential",
        ));
    }
    cx.store()
        .create_client(&client)
        .await
        .map_err(conflict_as(
            "client_id",
            "an application with this id exists",
        ))?;
    cx.record(actor, described(Action::Create, &client)).await;
    Ok(client)
}

fn described(action: Action, client: &Client) -> Change {
    Change::new(action, Kind::Application, &client.client_id)
        .with(json!({ "name": client.name, "app_type": client.app_type.as_str() }))
}

/// Whether `value` passes the rule for an operator's callback URLs (what dynamic registration
/// starts from before adding its own, stricter checks).
pub fn check_callback(value: &str) -> Result<(), AdminError> {
    validate::callback_urls(&[value.to_owned()])
}

/// The grants an application of `app_type` gets when none are named.
fn default_grants(app_type: AppType) -> Vec<GrantType> {
    match app_type {
        AppType::NonInteractive => vec![GrantType::ClientCredentials],
        AppType::Spa | AppType::RegularWeb | AppType::Native => {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        }
    }
}

/// Validates `new` and makes the client record; `secret` replaces the generated one.
fn build(
    cx: &Context,
    new: NewClient,
    client_id: String,
    secret: Option<&Secret>,
) -> Result<(Client, Option<Secret>), AdminError> {
    let name = validate::name("name", &new.name)?;
    let app_type = new.app_type.unwrap_or(AppType::RegularWeb);
    validate::callback_urls(&new.callbacks)?;
    validate::urls("allowed_logout_urls", &new.allowed_logout_urls)?;
    let web_origins = validate::origins("web_origins", &new.web_origins)?;
    let allowed_origins = validate::origins("allowed_origins", &new.allowed_origins)?;
    let grant_types = new.grant_types.unwrap_or_else(|| default_grants(app_type));
    let auth_method = new
        .token_endpoint_auth_method
        .unwrap_or(if app_type.is_public() {
            ClientAuthMethod::None
        } else {
            ClientAuthMethod::ClientSecretPost
        });
    check_grants(&grant_types, auth_method)?;
    let id_token_lifetime = new.id_token_lifetime.unwrap_or(36_000);
    validate::id_token_lifetime(id_token_lifetime)?;
    // Auth0's defaults: rotating, with a reuse interval of 0.
    let refresh_token = new.refresh_token.unwrap_or_default();
    validate::refresh_policy(&refresh_token)?;
    let secret = auth_method.is_confidential().then(|| {
        secret
            .cloned()
            .unwrap_or_else(|| Secret::new(random_token(48)))
    });
    let client = Client {
        client_id,
        name,
        app_type,
        client_secret_hash: secret.as_ref().map(|s| cx.secrets.hash(s.expose_str())),
        token_endpoint_auth_method: auth_method,
        callbacks: new.callbacks,
        allowed_logout_urls: new.allowed_logout_urls,
        web_origins,
        allowed_origins,
        grant_types,
        id_token_lifetime,
        refresh_token,
        is_first_party: new.is_first_party.unwrap_or(true),
        client_metadata: metadata::client_metadata(None, new.client_metadata)?,
        created_at: cx.now(),
    };
    Ok((client, secret))
}

/// A public client cannot use the client_credentials grant.
fn check_grants(
    grant_types: &[GrantType],
    auth_method: ClientAuthMethod,
) -> Result<(), AdminError> {
    if !auth_method.is_confidential() && grant_types.contains(&GrantType::ClientCredentials) {
        return Err(AdminError::invalid(
            "grant_types",
            "client_credentials needs a confidential client",
        ));
    }
    Ok(())
}

/// Updates an application. A public client made confidential gets a secret, returned once;
/// a confidential client made public loses its secret.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    client_id: &str,
    changes: ClientChanges,
) -> Result<(Client, Option<Secret>), AdminError> {
    let mut client = cx
        .store()
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Application))?;
    if let Some(name) = changes.name {
        client.name = validate::name("name", &name)?;
    }
    if let Some(app_type) = changes.app_type {
        client.app_type = app_type;
    }
    if let Some(callbacks) = changes.callbacks {
        validate::callback_urls(&callbacks)?;
        client.callbacks = callbacks;
    }
    if let Some(urls) = changes.allowed_logout_urls {
        validate::urls("allowed_logout_urls", &urls)?;
        client.allowed_logout_urls = urls;
    }
    if let Some(origins) = changes.web_origins {
        client.web_origins = validate::origins("web_origins", &origins)?;
    }
    if let Some(origins) = changes.allowed_origins {
        client.allowed_origins = validate::origins("allowed_origins", &origins)?;
    }
    if let Some(grant_types) = changes.grant_types {
        client.grant_types = grant_types;
    }
    if let Some(method) = changes.token_endpoint_auth_method {
        client.token_endpoint_auth_method = method;
    }
    check_grants(&client.grant_types, client.token_endpoint_auth_method)?;
    if let Some(lifetime) = changes.id_token_lifetime {
        validate::id_token_lifetime(lifetime)?;
        client.id_token_lifetime = lifetime;
    }
    if let Some(policy) = changes.refresh_token {
        validate::refresh_policy(&policy)?;
        client.refresh_token = policy;
    }
    if let Some(first_party) = changes.is_first_party {
        client.is_first_party = first_party;
    }
    if let Some(patch) = changes.client_metadata {
        client.client_metadata = metadata::client_metadata(Some(&client.client_metadata), patch)?;
    }
    let mut secret = None;
    match (
        client.token_endpoint_auth_method.is_confidential(),
        client.client_secret_hash.is_some(),
    ) {
        (false, true) => client.client_secret_hash = None,
        (false, false) | (true, true) => {}
        (true, false) => {
            let new_secret = Secret::new(random_token(48));
            client.client_secret_hash = Some(cx.secrets.hash(new_secret.expose_str()));
            secret = Some(new_secret);
        }
    }
    cx.store()
        .update_client(&client)
        .await
        .map_err(missing(Kind::Application))?;
    cx.record(actor, described(Action::Update, &client)).await;
    Ok((client, secret))
}

/// Gives a confidential client a new secret, returned once; the old one stops working.
pub async fn rotate_secret(
    cx: &Context,
    actor: &Actor,
    client_id: &str,
) -> Result<(Client, Secret), AdminError> {
    let mut client = cx
        .store()
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Application))?;
    if !client.is_confidential() {
        return Err(AdminError::invalid(
            "token_endpoint_auth_method",
            "a public client has no secret to rotate",
        ));
    }
    let secret = Secret::new(random_token(48));
    client.client_secret_hash = Some(cx.secrets.hash(secret.expose_str()));
    cx.store()
        .update_client(&client)
        .await
        .map_err(missing(Kind::Application))?;
    cx.record(actor, described(Action::RotateSecret, &client))
        .await;
    Ok((client, secret))
}

/// Deletes an application.
pub async fn delete(cx: &Context, actor: &Actor, client_id: &str) -> Result<(), AdminError> {
    let client = cx
        .store()
        .client_by_id(client_id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Application))?;
    cx.store()
        .delete_client(client_id)
        .await
        .map_err(missing(Kind::Application))?;
    cx.record(actor, described(Action::Delete, &client)).await;
    Ok(())
}
