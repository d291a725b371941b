//! Client grants: which scopes of which API a machine-to-machine application may get.

use portcullis_store::{ClientGrant, Page, ResourceServer};
use serde_json::json;

use super::{conflict_as, missing, Action, Actor, AdminError, Change, Context, Kind};
use crate::secrets::random_token;

fn described(action: Action, grant: &ClientGrant) -> Change {
    Change::new(action, Kind::ClientGrant, &grant.id).with(json!({
        "client_id": grant.client_id,
        "audience": grant.audience,
        "scope": grant.scope,
    }))
}

/// Every scope of `scope` must be one `api` defines.
fn check_scopes(api: &ResourceServer, scope: &[String]) -> Result<(), AdminError> {
    match scope.iter().find(|s| !api.defines_scope(s)) {
        Some(unknown) => Err(AdminError::invalid(
            "scope",
            format!("the API does not define the scope {unknown}"),
        )),
        None => Ok(()),
    }
}

/// Grants a machine-to-machine client scopes of an API.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    client_id: &str,
    audience: &str,
    scope: Vec<String>,
) -> Result<ClientGrant, AdminError> {
    let store = cx.store();
    if store.client_by_id(client_id).await?.is_none() {
        return Err(AdminError::NotFound(Kind::Application));
    }
    let Some(api) = store.resource_server_by_identifier(audience).await? else {
        return Err(AdminError::NotFound(Kind::Api));
    };
    check_scopes(&api, &scope)?;
    let grant = ClientGrant {
        id: format!("cgr_{}", random_token(12)),
        client_id: client_id.into(),
        audience: audience.into(),
        scope,
    };
    store
        .create_client_grant(&grant)
        .await
        .map_err(conflict_as(
            "audience",
            "this client already has a grant for this API",
        ))?;
    cx.record(actor, described(Action::Create, &grant)).await;
    Ok(grant)
}

/// The grant with this id.
pub async fn find(cx: &Context, id: &str) -> Result<ClientGrant, AdminError> {
    let (grants, _) = cx.store().list_client_grants(Page::ALL).await?;
    grants
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(AdminError::NotFound(Kind::ClientGrant))
}

/// Replaces the scopes of a client grant; each must be defined by the grant's API.
pub async fn update(
    cx: &Context,
    actor: &Actor,
    id: &str,
    scope: Vec<String>,
) -> Result<ClientGrant, AdminError> {
    let mut grant = find(cx, id).await?;
    if let Some(api) = cx
        .store()
        .resource_server_by_identifier(&grant.audience)
        .await?
    {
        check_scopes(&api, &scope)?;
    }
    grant.scope = scope;
    cx.store()
        .update_client_grant(&grant)
        .await
        .map_err(missing(Kind::ClientGrant))?;
    cx.record(actor, described(Action::Update, &grant)).await;
    Ok(grant)
}

/// Deletes a client grant.
pub async fn delete(cx: &Context, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let grant = find(cx, id).await?;
    cx.store()
        .delete_client_grant(id)
        .await
        .map_err(missing(Kind::ClientGrant))?;
    cx.record(actor, described(Action::Delete, &grant)).await;
    Ok(())
}
