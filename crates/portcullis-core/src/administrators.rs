//! Dashboard administrators: creating them and checking their credentials. They are not users
//! of the tenant's applications and never get tokens for its APIs.

use portcullis_store::{Admin, Store, StoreError};

use crate::{
    admin::{check_email, AdminError},
    password,
    secrets::random_hex,
    Clock,
};

/// Creates an administrator; the password follows the users' policy and is hashed (argon2id)
/// on a blocking thread. `Conflict` when the email is taken.
pub async fn create_admin(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    password: &str,
) -> Result<Admin, AdminError> {
    let email = email.trim().to_owned();
    check_email(&email)?;
    password::check_password_policy(password)
        .map_err(|message| AdminError::Invalid(message.into()))?;
    let admin = Admin {
        id: format!("adm_{}", random_hex(12)),
        email,
        password_hash: hash(password.to_owned()).await?,
        created_at: clock.now(),
    };
    store.create_admin(&admin).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AdminError::Conflict("An administrator with this email already exists".into())
        }
        other => other.into(),
    })?;
    Ok(admin)
}

/// Sets a new password for an administrator.
pub async fn set_admin_password(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> Result<Admin, AdminError> {
    password::check_password_policy(password)
        .map_err(|message| AdminError::Invalid(message.into()))?;
    let mut admin = store
        .admin_by_email(email)
        .await?
        .ok_or(AdminError::NotFound)?;
    admin.password_hash = hash(password.to_owned()).await?;
    store
        .update_admin_password(&admin.id, &admin.password_hash)
        .await?;
    Ok(admin)
}

/// The administrator with these credentials, or `None`. An unknown email costs the same
/// hashing work as a wrong password, so timing does not tell which it was.
pub async fn verify_admin(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> Result<Option<Admin>, StoreError> {
    let admin = store.admin_by_email(email.trim()).await?;
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || match admin {
        Some(admin) if password::verify_password(&password, &admin.password_hash) => Some(admin),
        Some(_) => None,
        None => {
            password::burn_verification(&password);
            None
        }
    })
    .await
    .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(verified)
}

async fn hash(password: String) -> Result<String, AdminError> {
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))?
        .map_err(|e| AdminError::Store(StoreError::Backend(e.to_string())))
}
