//! The Permissions tab a role and a user share (`templates/dashboard/permissions.html`): what
//! they hold, each with its API's name, and the scopes of every API still to grant. Adding
//! validates through `portcullis_core::admin::check_permissions`, as the Management API does.

use minijinja::context;
use portcullis_store::{Page, Permission, Store, StoreError};
use serde::Serialize;

use super::form::FormData;

/// The scopes of one API, offered in the Add permissions list.
#[derive(Serialize)]
struct ApiScopes {
    name: String,
    identifier: String,
    scopes: Vec<(String, String)>,
}

/// The tab's template context for a holder of `held`. `intro` heads the Add form; `holder`
/// completes "granted …" ("by this role", "to this user directly").
pub async fn tab_context(
    store: &dyn Store,
    held: Vec<Permission>,
    intro: &str,
    holder: &str,
) -> Result<minijinja::Value, StoreError> {
    let (apis, _) = store.list_resource_servers(Page::ALL).await?;
    let offered: Vec<ApiScopes> = apis
        .iter()
        .filter(|api| !api.is_system && !api.scopes.is_empty())
        .map(|api| ApiScopes {
            name: api.name.clone(),
            identifier: api.identifier.clone(),
            scopes: api
                .scopes
                .iter()
                .filter(|scope| {
                    !held.iter().any(|p| {
                        p.resource_server_identifier == api.identifier
                            && p.permission_name == scope.value
                    })
                })
                .map(|scope| (scope.value.clone(), scope.description.clone()))
                .collect(),
        })
        .filter(|api| !api.scopes.is_empty())
        .collect();
    let api_name = |identifier: &str| {
        apis.iter()
            .find(|api| api.identifier == identifier)
            .map_or_else(|| identifier.to_owned(), |api| api.name.clone())
    };
    let rows: Vec<(Permission, String)> = held
        .into_iter()
        .map(|permission| {
            let name = api_name(&permission.resource_server_identifier);
            (permission, name)
        })
        .collect();
    Ok(context! {
        permissions => rows,
        offered,
        permissions_intro => intro,
        permissions_holder => holder,
    })
}

/// The permissions ticked in the Add form: values are `API-IDENTIFIER SCOPE` (neither part
/// holds a space).
pub fn submitted(form: &FormData) -> Vec<Permission> {
    form.all("permission")
        .iter()
        .filter_map(|value| {
            let (identifier, name) = value.rsplit_once(' ')?;
            Some(Permission {
                resource_server_identifier: identifier.to_owned(),
                permission_name: name.to_owned(),
            })
        })
        .collect()
}

/// The permission a Remove button names.
pub fn removed(form: &FormData) -> Permission {
    Permission {
        resource_server_identifier: form.get("api").to_owned(),
        permission_name: form.get("name").to_owned(),
    }
}
