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
    /// Auth0's `type`: `totp`, `recovery-code`, `webauthn-roaming`, `webauthn-platform`, or
    /// `passkey` for the key a person signed up with.
    pub fn type_name(&self) -> &'static str {
        if crate::mfa::webauthn::is_signup_passkey(&self.authenticator) {
            crate::mfa::webauthn::PASSKEY_TYPE
        } else {
            method_type(self.authenticator.kind)
        }
    }

    /// A WebAuthn key's details (`key_id`, `credential_device_type`...); `None` otherwise.
    pub fn key(&self) -> Option<crate::mfa::key_details::KeyDetails> {
        crate::mfa::key_details::key_details(&self.authenticator)
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
    delete_method(cx, actor, &MfaOwner::User(user_id.to_owned()), method_id).await
}

/// Deletes one of an administrator's passkeys or security keys (their account page): any
/// other factor of theirs, or another's key, is not found. Their other factors go together
/// ([`reset`]), since recovery codes without a factor open nothing.
pub async fn delete_admin_key(
    cx: &Context,
    actor: &Actor,
    admin_id: &str,
    key_id: &str,
) -> Result<(), AdminError> {
    let owner = MfaOwner::Admin(admin_id.to_owned());
    let is_key = cx
        .store()
        .authenticators(&owner)
        .await?
        .iter()
        .any(|a| a.id == key_id && crate::mfa::webauthn::is_webauthn(a.kind));
    if !is_key {
        return Err(AdminError::NotFound(Kind::AuthenticationMethod));
    }
    delete_method(cx, actor, &owner, key_id).await
}

/// Deletes one of the owner's factors, recorded with the owner's id.
async fn delete_method(
    cx: &Context,
    actor: &Actor,
    owner: &MfaOwner,
    method_id: &str,
) -> Result<(), AdminError> {
    if !cx.store().delete_authenticator(owner, method_id).await? {
        return Err(AdminError::NotFound(Kind::AuthenticationMethod));
    }
    let field = match owner {
        MfaOwner::User(_) => "user_id",
        MfaOwner::Admin(_) => "admin_id",
    };
    cx.record(
        actor,
        Change::new(Action::Delete, Kind::AuthenticationMethod, method_id)
            .with(json!({ field: owner.id() })),
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

/// The tenant's MFA policy as the dashboard names it. Auth0's policies are `[]` and
/// `["all-applications"]`; with `[]` a user who enrolled a factor is still asked for it (and
/// an application may ask with `acr_values`), which is "optional". "Never" is no factor
/// enabled: then nobody is asked (`crate::mfa::requirement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyLevel {
    Never,
    Optional,
    Always,
}

impl PolicyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyLevel::Never => "never",
            PolicyLevel::Optional => "optional",
            PolicyLevel::Always => "always",
        }
    }

    /// The level a form names; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Never, Self::Optional, Self::Always]
            .into_iter()
            .find(|level| level.as_str() == text)
    }

    /// The level the tenant's settings amount to.
    pub fn of(settings: &MfaSettings) -> Self {
        if !MfaFactor::ALL
            .iter()
            .any(|factor| factor.is_primary() && settings.is_enabled(*factor))
        {
            PolicyLevel::Never
        } else if settings.always() {
            PolicyLevel::Always
        } else {
            PolicyLevel::Optional
        }
    }
}

/// Sets the tenant's factors and policy level at once (the dashboard's Security page), through
/// [`set_factor`] and [`set_policies`], as the Management API sets them: only what changes is
/// written and recorded. "Never" disables every factor; "optional" and "always" need a factor
/// to enrol or answer with, or nobody would be asked.
pub async fn set_security(
    cx: &Context,
    actor: &Actor,
    enabled: &[MfaFactor],
    level: PolicyLevel,
) -> Result<(), AdminError> {
    let enabled: Vec<MfaFactor> = match level {
        PolicyLevel::Never => Vec::new(),
        _ => enabled.to_vec(),
    };
    if level != PolicyLevel::Never && !enabled.iter().any(|factor| factor.is_primary()) {
        return Err(AdminError::invalid(
            "factors",
            "Enable a factor users can sign in with (an authenticator app or a security key), or choose Never",
        ));
    }
    let current = settings(cx).await?;
    for factor in MfaFactor::ALL {
        let wanted = enabled.contains(factor);
        if current.is_enabled(*factor) != wanted {
            set_factor(cx, actor, *factor, wanted).await?;
        }
    }
    let policies = match level {
        PolicyLevel::Always => vec![MfaPolicy::AllApplications],
        PolicyLevel::Never | PolicyLevel::Optional => Vec::new(),
    };
    if current.policies != policies {
        set_policies(cx, actor, &policies).await?;
    }
    Ok(())
}

/// Whether dashboard administrators must pass a second factor, and whether the server's
/// configuration decides it (then the dashboard cannot change it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminsRequired {
    pub required: bool,
    pub configured: bool,
}

/// The administrators' mandatory-MFA setting in force: the configuration's when it has one,
/// else the tenant's stored one.
pub async fn admins_required(cx: &Context) -> Result<AdminsRequired, AdminError> {
    Ok(match cx.admin_mfa_required {
        Some(required) => AdminsRequired {
            required,
            configured: true,
        },
        None => AdminsRequired {
            required: cx.store().admin_mfa_required().await?,
            configured: false,
        },
    })
}

/// Makes a second factor mandatory for administrators, or not. Refused while the server's
/// configuration sets it. An administrator without a factor enrols one at their next
/// sign-in, right after the password.
pub async fn set_admins_required(
    cx: &Context,
    actor: &Actor,
    required: bool,
) -> Result<(), AdminError> {
    if cx.admin_mfa_required.is_some() {
        return Err(AdminError::invalid(
            "admins_required",
            "The server's configuration sets this (PORTCULLIS_ADMIN_MFA_REQUIRED)",
        ));
    }
    cx.store().set_admin_mfa_required(required).await?;
    cx.record(
        actor,
        Change::new(Action::Update, Kind::Guardian, "administrators")
            .with(json!({ "administrators_required": required })),
    )
    .await;
    Ok(())
}

/// Resets the factors of the administrator with this email (another administrator on the
/// dashboard, or the CLI for one locked out): their next sign-in asks for none, or, under
/// the mandatory setting, enrols one.
pub async fn reset_admin_by_email(
    cx: &Context,
    actor: &Actor,
    email: &str,
) -> Result<u64, AdminError> {
    let admin = cx
        .store()
        .admin_by_email(email.trim())
        .await?
        .ok_or(AdminError::NotFound(Kind::Administrator))?;
    reset(cx, actor, &MfaOwner::Admin(admin.id)).await
}
