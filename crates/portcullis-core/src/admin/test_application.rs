//! An API's test application, as in Auth0: a machine-to-machine "<API name> (Test
//! Application)" granted every scope of the API, through which the dashboard's Test tab and
//! `portcullis token` get tokens. The grant follows the API's scopes whichever surface
//! changes them.

use portcullis_store::{AppType, Client, ClientGrant, Page, ResourceServer, StoreError};
use portcullis_types::{GrantType, Secret};

use super::{
    applications::{self, NewClient},
    grants, Actor, AdminError, Context,
};

/// What an API's test application is called after: `"<API name> (Test Application)"`.
pub const SUFFIX: &str = " (Test Application)";

/// The API's test application and its grant, if one exists.
pub async fn find(
    cx: &Context,
    api: &ResourceServer,
) -> Result<Option<(Client, ClientGrant)>, AdminError> {
    let store = cx.store();
    let (grants, _) = store.list_client_grants(Page::ALL).await?;
    for grant in grants.into_iter().filter(|g| g.audience == api.identifier) {
        if let Some(client) = store.client_by_id(&grant.client_id).await? {
            if client.app_type == AppType::NonInteractive && client.name.ends_with(SUFFIX) {
                return Ok(Some((client, grant)));
            }
        }
    }
    Ok(None)
}

/// Creates the API's test application with a grant for every scope of the API; returns it
/// with its secret (shown once).
pub async fn create(
    cx: &Context,
    actor: &Actor,
    api: &ResourceServer,
) -> Result<(Client, ClientGrant, Secret), AdminError> {
    let new = NewClient {
        name: format!("{}{SUFFIX}", api.name),
        app_type: Some(AppType::NonInteractive),
        grant_types: Some(vec![GrantType::ClientCredentials]),
        ..NewClient::default()
    };
    let (client, secret) = applications::create(cx, actor, new).await?;
    let every = api.scopes.iter().map(|s| s.value.clone()).collect();
    let grant = grants::create(cx, actor, &client.client_id, &api.identifier, every).await?;
    let secret = secret.ok_or_else(|| {
        AdminError::Store(StoreError::Backend(
            "a machine-to-machine application was made without a secret".into(),
        ))
    })?;
    Ok((client, grant, secret))
}

/// Extends the test application's grant (if there is one) to every scope of `api`.
pub(crate) async fn grant_every_scope(
    cx: &Context,
    actor: &Actor,
    api: &ResourceServer,
) -> Result<(), AdminError> {
    let Some((_, grant)) = find(cx, api).await? else {
        return Ok(());
    };
    let every: Vec<String> = api.scopes.iter().map(|s| s.value.clone()).collect();
    if grant.scope != every {
        grants::update(cx, actor, &grant.id, every).await?;
    }
    Ok(())
}
