//! The Permissions tab a role and a user share (`templates/dashboard/permissions.html`): what
//! they hold, each with its API's name, and the scopes of every API still to grant; adding
//! (through `portcullis_core::admin::roles`, as in the Management API) and
//! removing. Each section renders the tab in its own page.

use axum::response::Response;
use minijinja::context;
use portcullis_core::admin::{roles, AdminError};
use portcullis_store::{Page, Permission, Role, Store, StoreError, User};
use serde::Serialize;

use super::{
    auth::Dash,
    form::FormData,
    paths,
    view::{FormError, Section},
};

/// Whose Permissions tab this is.
#[derive(Clone, Copy)]
pub enum Holder<'a> {
    Role(&'a Role),
    User(&'a User),
}

impl Holder<'_> {
    /// The holder as the administrative operations name it.
    fn core(&self) -> roles::Holder<'_> {
        match self {
            Holder::Role(role) => roles::Holder::Role(&role.id),
            Holder::User(user) => roles::Holder::User(&user.user_id),
        }
    }

    fn section(&self) -> Section {
        match self {
            Holder::Role(_) => Section::Roles,
            Holder::User(_) => Section::Users,
        }
    }

    fn tab_href(&self) -> String {
        match self {
            Holder::Role(role) => paths::role(&role.id, "permissions"),
            Holder::User(user) => paths::user(&user.user_id, "permissions"),
        }
    }

    fn not_found(&self, dash: &Dash) -> Response {
        match self {
            Holder::Role(_) => dash.not_found(Section::Roles, "Role", "/dashboard/roles"),
            Holder::User(_) => dash.not_found(Section::Users, "User", "/dashboard/users"),
        }
    }

    async fn held(&self, store: &dyn Store) -> Result<Vec<Permission>, StoreError> {
        match self {
            Holder::Role(role) => store.role_permissions(&role.id).await,
            Holder::User(user) => store.user_permissions(&user.user_id).await,
        }
    }
}

/// The scopes of one API, offered in the Add permissions list.
#[derive(Serialize)]
struct ApiScopes {
    name: String,
    identifier: String,
    scopes: Vec<(String, String)>,
}

/// The tab's template context for `holder`.
pub async fn tab_context(
    store: &dyn Store,
    holder: Holder<'_>,
) -> Result<minijinja::Value, StoreError> {
    let held = holder.held(store).await?;
    let (intro, granted) = match holder {
        Holder::Role(_) => (
            "Scopes of your APIs that members of this role get.",
            "by this role",
        ),
        Holder::User(_) => (
            "Scopes of your APIs this user gets, besides those of their roles.",
            "to this user directly",
        ),
    };
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
        permissions_holder => granted,
    })
}

/// Adds the permissions ticked in the Add form (values `API-IDENTIFIER SCOPE`; neither part
/// holds a space), records the change and goes back to the tab. `Err` is a refusal for the
/// section to show on its tab.
pub async fn add(dash: &Dash, holder: Holder<'_>, form: &FormData) -> Result<Response, FormError> {
    let wanted: Vec<Permission> = form
        .all("permission")
        .iter()
        .filter_map(|value| {
            let (identifier, name) = value.rsplit_once(' ')?;
            Some(Permission {
                resource_server_identifier: identifier.to_owned(),
                permission_name: name.to_owned(),
            })
        })
        .collect();
    if wanted.is_empty() {
        return Err(FormError::at(
            "permission",
            "Choose one or more permissions to add.",
        ));
    }
    let added = roles::add_permissions(&dash.app.cx, &dash.actor(), holder.core(), &wanted).await;
    match added {
        Ok(()) => {
            let names: Vec<&str> = wanted.iter().map(|p| p.permission_name.as_str()).collect();
            Ok(dash.redirect(&holder.tab_href(), format!("Added {}.", names.join(", "))))
        }
        Err(AdminError::NotFound(_)) => Ok(holder.not_found(dash)),
        Err(error) => match dash.refusal(error, holder.section(), &[]) {
            Ok((_, error)) => Err(FormError::at("permission", error.message)),
            Err(page) => Ok(page),
        },
    }
}

/// Removes the permission a Remove button names, records it and goes back to the tab.
pub async fn remove(dash: &Dash, holder: Holder<'_>, form: &FormData) -> Response {
    let permission = Permission {
        resource_server_identifier: form.get("api").to_owned(),
        permission_name: form.get("name").to_owned(),
    };
    let one = std::slice::from_ref(&permission);
    let removed = roles::remove_permissions(&dash.app.cx, &dash.actor(), holder.core(), one).await;
    match removed {
        Ok(()) | Err(AdminError::NotFound(_)) => dash.redirect(
            &holder.tab_href(),
            format!("Removed {}.", permission.permission_name),
        ),
        Err(error) => dash.fail(holder.section(), error),
    }
}
