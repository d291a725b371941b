//! Multi-factor authentication as administered: the tenant's factors and policy (Auth0's
//! `/api/v2/guardian`), and a person's enrolled factors (`authentication-methods`), which an
//! administrator can list, delete one by one, or reset all at once.

use portcullis_store::{Authenticator, MfaOwner, MfaSettings};
use portcullis_types::{MfaFactor, MfaPolicy};
use serde_json::json;

use super::{Action, Actor, AdminError, Change, Context, Kind};
use crate::mfa::method_type;

/// The tenant's factors and policy.
pub async fn settings(cx: &Context) -> Result<MfaSettings, AdminError> {
    Ok(cx.store().mfa_settings().await?)
}

/// Enables or disables a factor.
pub async fn set_factor(
    cx: &Context,
    actor: &Actor,
    factor: MfaFactor,
    enabled: bool,
) -> Result<(), AdminError> {
    cx.store().set_mfa_factor(factor, enabled).await?;
    cx.record(
        actor,
        Change::new(Action::Update, Kind::Guardian, factor.as_str())
            .with(json!({ "factor": factor.as_str(), "enabled": enabled })),
    )
    .await;
    Ok(())
}

/// Replaces the tenant's policy: `[]`, or `[all-applications]`.
pub async fn set_policies(
    cx: &Context,
    actor: &Actor,
    policies: &[MfaPolicy],
) -> Result<(), AdminError> {
    cx.store().set_mfa_policies(policies).await?;
    let names: Vec<&str> = policies.iter().map(|p| p.as_str()).collect();
    cx.record(
        actor,
        Change::new(Action::Update, Kind::Guardian, "policies").with(json!({ "policies": names })),
    )
    .await;
    Ok(())
}

/// One of a person's factors, as listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    pub authenticator: Authenticator,
    /// For recovery codes: how many are left.
    pub unused_codes: Option<u64>,
}

impl Method {
    /// Auth0's `type`: `totp`, `recovery-code`, `webauthn-roaming`, `webauthn-platform`.
    pub fn type_name(&self) -> &'static str {
        method_type(self.authenticator.kind)
    }
}

/// The user's factors, confirmed ones only (an enrolment under way is not one yet).
pub async fn user_methods(cx: &Context, user_id: &str) -> Result<Vec<Method>, AdminError> {
    if cx.store().user_by_id(user_id).await?.is_none() {
        return Err(AdminError::NotFound(Kind::User));
    }
    methods(cx, &MfaOwner::User(user_id.to_owned())).await
}

/// The owner's confirmed factors.
pub async fn methods(cx: &Context, owner: &MfaOwner) -> Result<Vec<Method>, AdminError> {
    let mut listed = Vec::new();
    for authenticator in cx.store().authenticators(owner).await? {
        if !authenticator.confirmed {
            continue;
        }
        let unused_codes = match authenticator.kind {
            MfaFactor::RecoveryCode => {
                Some(cx.store().unused_recovery_codes(&authenticator.id).await?)
            }
            _ => None,
        };
        listed.push(Method {
            authenticator,
            unused_codes,
        });
    }
    Ok(listed)
}

/// Deletes one of the user's factors.
pub async fn delete_user_method(
    cx: &Context,
    actor: &Actor,
    user_id: &str,
    method_id: &str,
) -> Result<(), AdminError> {
    let owner = MfaOwner::User(user_id.to_owned());
    if !cx.store().delete_authenticator(&owner, method_id).await? {
        return Err(AdminError::NotFound(Kind::AuthenticationMethod));
    }
    cx.record(
        actor,
        Change::new(Action::Delete, Kind::AuthenticationMethod, method_id)
            .with(json!({ "user_id": user_id })),
    )
    .await;
    Ok(())
}

/// Deletes all of the owner's factors (Auth0's "reset MFA"): their next login that needs a
/// second factor enrols one again. Returns how many there were.
pub async fn reset(cx: &Context, actor: &Actor, owner: &MfaOwner) -> Result<u64, AdminError> {
    let (kind, field) = match owner {
        MfaOwner::User(id) => {
            if cx.store().user_by_id(id).await?.is_none() {
                return Err(AdminError::NotFound(Kind::User));
            }
            (Kind::User, "user_id")
        }
        MfaOwner::Admin(id) => {
            if cx.store().admin_by_id(id).await?.is_none() {
                return Err(AdminError::NotFound(Kind::Administrator));
            }
            (Kind::Administrator, "admin_id")
        }
    };
    let deleted = cx.store().delete_authenticators(owner).await?;
    cx.record(
        actor,
        Change::new(Action::Delete, Kind::AuthenticationMethod, owner.id())
            .with(json!({ field: owner.id(), "kind": kind.type_name(), "deleted": deleted })),
    )
    .await;
    Ok(deleted)
}
