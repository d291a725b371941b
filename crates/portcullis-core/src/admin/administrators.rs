//! Dashboard administrators: creating them and setting their passwords. They are not users of
//! the tenant's applications and never get tokens for its APIs.

use portcullis_store::Admin;
use portcullis_types::Secret;
use serde_json::json;

use super::{conflict_as, validate, Action, Actor, AdminError, Change, Context, Kind};
use crate::{password, secrets::random_hex};

fn described(action: Action, admin: &Admin) -> Change {
    Change::new(action, Kind::Administrator, &admin.id).with(json!({ "email": admin.email }))
}

/// Creates an administrator; the password follows the administrators' fixed policy. `Conflict` when the
/// email is taken.
pub async fn create(
    cx: &Context,
    actor: &Actor,
    email: &str,
    password: &Secret,
) -> Result<Admin, AdminError> {
    let email = email.trim().to_owned();
    validate::check_email(&email)?;
    password::check_admin_password(password.expose_str())
        .map_err(|message| AdminError::invalid("password", message))?;
    let admin = Admin {
        id: format!("adm_{}", random_hex(12)),
        email,
        password_hash: cx.passwords.hash(password).await?,
        created_at: cx.now(),
    };
    cx.store().create_admin(&admin).await.map_err(conflict_as(
        "email",
        "An administrator with this email already exists",
    ))?;
    cx.record(actor, described(Action::Create, &admin)).await;
    Ok(admin)
}

/// Sets a new password for the administrator with this email.
pub async fn set_password(
    cx: &Context,
    actor: &Actor,
    email: &str,
    password: &Secret,
) -> Result<Admin, AdminError> {
    password::check_admin_password(password.expose_str())
        .map_err(|message| AdminError::invalid("password", message))?;
    let mut admin = cx
        .store()
        .admin_by_email(email)
        .await?
        .ok_or(AdminError::NotFound(Kind::Administrator))?;
    admin.password_hash = cx.passwords.hash(password).await?;
    cx.store()
        .update_admin_password(&admin.id, &admin.password_hash)
        .await?;
    cx.record(actor, described(Action::SetPassword, &admin))
        .await;
    Ok(admin)
}
