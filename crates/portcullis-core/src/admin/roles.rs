//! RBAC: roles, the permissions roles and users hold, and who holds which role.

use portcullis_store::{Permission, Role};
use serde_json::json;

use super::{conflict_as, missing, validate, Action, Actor, AdminError, Change, Context, Kind};
use crate::secrets::random_token;

const NAME_TAKEN: &str = "A role with this name already exists";

/// What it takes to create a role.
#[derive(Clone, Debug, Default)]
pub struct NewRole {
    pub name: String,
    pub description: String,
}

/// Who holds permissions directly: a role, or a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder<'a> {
    Role(&'a str),
    User(&'a str),
}

impl Holder<'_> {
    fn kind(self) -> Kind {
        match self {
            Holder::Role(_) => Kind::Role,
            Holder::User(_) => Kind::User,
        }
    }

    fn id(&self) -> &str {
        match self {
            Holder::Role(id) | Holder::User(id) => id,
        }
    }
}

/// The role with this id.
pub async fn find(cx: &Context, id: &str) -> Result<Role, AdminError> {
    cx.store()
        .role_by_id(id)
        .await?
        .ok_or(AdminError::NotFound(Kind::Role))
}

fn described(action: Action, role: &Role) -> Change {
    Change::new(action, Kind::Role, &role.id).with(json!({ "name": role.name }))
}

/// Creates a role. `Conflict` when the name (case-insensitive) is taken.
pub async fn create(cx: &Context, actor: &Actor, new: NewRole) -> Result<Role, AdminError> {
    let name = validate::role_name(&new.name)?;
    validate::role_description(&new.description)?;
    let role = Role {
        id: format!("rol_{}", random_token(12)),
        name,
        description: new.description,
        created_at: cx.now(),
    };
    cx.store()
        .create_role(&role)
        .await
        .map_err(conflict_as("name", NAME_TAKEN))?;
    cx.record(actor, described(Action::Create, &role)).await;
    Ok(role)
}

/// Renames a role or changes its description (`None` leaves a field as it is).
pub async fn update(
    cx: &Context,
    actor: &Actor,
    id: &str,
    name: Option<String>,
    description: Option<String>,
) -> Result<Role, AdminError> {
    let mut role = find(cx, id).await?;
    if let Some(name) = name {
        role.name = validate::role_name(&name)?;
    }
    if let Some(description) = description {
        validate::role_description(&description)?;
        role.description = description;
    }
    cx.store()
        .update_role(&role)
        .await
        .map_err(conflict_as("name", NAME_TAKEN))?;
    cx.record(actor, described(Action::Update, &role)).await;
    Ok(role)
}

/// Deletes a role; its holders lose it and the permissions it carried.
pub async fn delete(cx: &Context, actor: &Actor, id: &str) -> Result<(), AdminError> {
    let role = find(cx, id).await?;
    cx.store()
        .delete_role(id)
        .await
        .map_err(missing(Kind::Role))?;
    cx.record(actor, described(Action::Delete, &role)).await;
    Ok(())
}

/// Checks that every permission names an existing API and a scope it defines.
pub async fn check_permissions(cx: &Context, permissions: &[Permission]) -> Result<(), AdminError> {
    if permissions.is_empty() {
        return Err(AdminError::invalid(
            "permissions",
            "permissions must not be empty",
        ));
    }
    for permission in permissions {
        let api = cx
            .store()
            .resource_server_by_identifier(&permission.resource_server_identifier)
            .await?
            .ok_or_else(|| {
                AdminError::invalid(
                    "permissions",
                    format!(
                        "no API has the identifier {}",
                        permission.resource_server_identifier
                    ),
                )
            })?;
        if !api.defines_scope(&permission.permission_name) {
            return Err(AdminError::invalid(
                "permissions",
                format!(
                    "the API {} does not define the scope {}",
                    api.identifier, permission.permission_name
                ),
            ));
        }
    }
    Ok(())
}

/// The holder must exist: `NotFound` of its kind otherwise.
async fn existing(cx: &Context, holder: Holder<'_>) -> Result<(), AdminError> {
    let found = match holder {
        Holder::Role(id) => cx.store().role_by_id(id).await?.is_some(),
        Holder::User(id) => cx.store().user_by_id(id).await?.is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(AdminError::NotFound(holder.kind()))
    }
}

/// Every role (`Kind::Role`) or user (otherwise) of `ids` must exist.
async fn all_exist(cx: &Context, kind: Kind, ids: &[String]) -> Result<(), AdminError> {
    for id in ids {
        let holder = match kind {
            Kind::Role => Holder::Role(id),
            _ => Holder::User(id),
        };
        existing(cx, holder).await?;
    }
    Ok(())
}

fn permissions_change(action: Action, holder: Holder<'_>, permissions: &[Permission]) -> Change {
    Change::new(action, holder.kind(), holder.id()).with(json!({ "permissions": permissions }))
}

/// Gives `holder` permissions (ones already held are kept once).
pub async fn add_permissions(
    cx: &Context,
    actor: &Actor,
    holder: Holder<'_>,
    permissions: &[Permission],
) -> Result<(), AdminError> {
    existing(cx, holder).await?;
    check_permissions(cx, permissions).await?;
    let store = cx.store();
    let written = match holder {
        Holder::Role(id) => store.add_role_permissions(id, permissions).await,
        Holder::User(id) => store.add_user_permissions(id, permissions).await,
    };
    written.map_err(missing(holder.kind()))?;
    let change = permissions_change(
        Action::AddPermissions(permissions.len()),
        holder,
        permissions,
    );
    cx.record(actor, change).await;
    Ok(())
}

/// Takes permissions from `holder` (ones it does not hold are ignored).
pub async fn remove_permissions(
    cx: &Context,
    actor: &Actor,
    holder: Holder<'_>,
    permissions: &[Permission],
) -> Result<(), AdminError> {
    if permissions.is_empty() {
        return Err(AdminError::invalid(
            "permissions",
            "permissions must not be empty",
        ));
    }
    existing(cx, holder).await?;
    let store = cx.store();
    let written = match holder {
        Holder::Role(id) => store.remove_role_permissions(id, permissions).await,
        Holder::User(id) => store.remove_user_permissions(id, permissions).await,
    };
    written.map_err(missing(holder.kind()))?;
    let change = permissions_change(
        Action::RemovePermissions(permissions.len()),
        holder,
        permissions,
    );
    cx.record(actor, change).await;
    Ok(())
}

fn at_least_one(field: &'static str, ids: &[String]) -> Result<(), AdminError> {
    if ids.is_empty() {
        return Err(AdminError::invalid(
            field,
            format!("{field} must name at least one id"),
        ));
    }
    Ok(())
}

/// Gives the role `role_id` to each of `user_ids`. Every user must exist.
pub async fn assign_users(
    cx: &Context,
    actor: &Actor,
    role_id: &str,
    user_ids: &[String],
) -> Result<(), AdminError> {
    at_least_one("users", user_ids)?;
    existing(cx, Holder::Role(role_id)).await?;
    all_exist(cx, Kind::User, user_ids).await?;
    for user_id in user_ids {
        cx.store()
            .assign_user_roles(user_id, &[role_id.to_owned()])
            .await
            .map_err(missing(Kind::User))?;
    }
    let change =
        Change::new(Action::AssignRoles(1), Kind::Role, role_id).with(json!({ "users": user_ids }));
    cx.record(actor, change).await;
    Ok(())
}

/// Takes the role `role_id` from each of `user_ids` (users who do not hold it are ignored).
pub async fn remove_users(
    cx: &Context,
    actor: &Actor,
    role_id: &str,
    user_ids: &[String],
) -> Result<(), AdminError> {
    at_least_one("users", user_ids)?;
    existing(cx, Holder::Role(role_id)).await?;
    for user_id in user_ids {
        cx.store()
            .remove_user_roles(user_id, &[role_id.to_owned()])
            .await
            .map_err(missing(Kind::User))?;
    }
    let change =
        Change::new(Action::RemoveRoles(1), Kind::Role, role_id).with(json!({ "users": user_ids }));
    cx.record(actor, change).await;
    Ok(())
}

/// Gives the user `user_id` each of `role_ids`. Every role must exist.
pub async fn assign_roles(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    role_ids: &[String],
) -> Result<(), AdminError> {
    at_least_one("roles", role_ids)?;
    existing(cx, Holder::User(user_id)).await?;
    all_exist(cx, Kind::Role, role_ids).await?;
    cx.store()
        .assign_user_roles(user_id, role_ids)
        .await
        .map_err(missing(Kind::Role))?;
    let change = Change::new(Action::AssignRoles(role_ids.len()), Kind::User, user_id)
        .with(json!({ "roles": role_ids }));
    cx.record(actor, change).await;
    Ok(())
}

/// Takes roles from the user `user_id` (ones not held are ignored).
pub async fn remove_roles(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    role_ids: &[String],
) -> Result<(), AdminError> {
    at_least_one("roles", role_ids)?;
    existing(cx, Holder::User(user_id)).await?;
    cx.store()
        .remove_user_roles(user_id, role_ids)
        .await
        .map_err(missing(Kind::User))?;
    let change = Change::new(Action::RemoveRoles(role_ids.len()), Kind::User, user_id)
        .with(json!({ "roles": role_ids }));
    cx.record(actor, change).await;
    Ok(())
}
