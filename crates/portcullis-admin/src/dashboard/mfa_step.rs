//! Where the second step of an administrator's sign-in is, and whether one is owed: what the
//! sign-in ([`super::auth`]) and the step's pages ([`super::admin_mfa`]) both ask.

use portcullis_core::{
    admin::{mfa as admin_mfa, AdminError},
    mfa::{admin::admin_requirement, Requirement},
};
use portcullis_store::{Admin, MfaOwner};

use crate::state::AdminState;

/// The second-factor step of the dashboard's sign-in.
pub const MFA_STEP: &str = "/dashboard/mfa";

/// `page`, to go on to `next` afterwards.
pub fn with_next(page: &str, next: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    format!("{page}?{query}")
}

/// The second-factor step, to go on to `next`.
pub fn step_url(next: &str) -> String {
    with_next(MFA_STEP, next)
}

/// What the administrator's sign-in needs after the password.
pub async fn requirement(app: &AdminState, admin: &Admin) -> Result<Requirement, AdminError> {
    let required = admin_mfa::admins_required(&app.cx).await?.required;
    let owner = MfaOwner::Admin(admin.id.clone());
    let authenticators = app.store().authenticators(&owner).await?;
    Ok(admin_requirement(&authenticators, required))
}

/// Whether the administrator's new session must pass the second-factor step first.
pub async fn owes_factor(app: &AdminState, admin: &Admin) -> Result<bool, AdminError> {
    Ok(requirement(app, admin).await? != Requirement::None)
}
