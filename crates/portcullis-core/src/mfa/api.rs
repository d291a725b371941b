//! Auth0's MFA API for the password grant: a login that passed the password but owes a second
//! factor becomes a pending login named by an `mfa_token` (stored under its hash, ten minutes,
//! taken once); with it the application lists the user's authenticators, enrols an
//! authenticator app when the user has none ([`associate`]), and finishes the login with a
//! code or a recovery code ([`pass`]). The codes are checked by [`super::verify`] and
//! [`super::enrol`], on the login page's brute-force counters, like the hosted pages'.

use portcullis_store::{Authenticator, MfaOwner, MfaSettings, PendingMfaLogin, Store, StoreError};
use portcullis_types::MfaFactor;

use super::{
    enrol::{self, Label},
    usable,
    verify::{self, Proof},
    MfaError,
};
use crate::{
    keys::KeyCipher,
    secrets::{lookup_hash, random_token},
    sign_in::{CodeAttempt, SignIn, SignInError},
};

/// How long an `mfa_token` names its pending login: Auth0's ten minutes.
pub const MFA_TOKEN_SECONDS: i64 = 600;

/// The login the password grant leaves pending.
#[derive(Clone, Copy, Debug)]
pub struct Pending<'a> {
    pub user_id: &'a str,
    pub client_id: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a str,
    pub now: i64,
}

/// Stores the pending login; its `mfa_token`, which only the client is given.
pub async fn start(store: &dyn Store, pending: Pending<'_>) -> Result<String, StoreError> {
    let token = random_token(32);
    store
        .insert_mfa_token(&PendingMfaLogin {
            token_hash: lookup_hash(&token),
            user_id: pending.user_id.to_owned(),
            client_id: pending.client_id.to_owned(),
            audience: pending.audience.map(str::to_owned),
            scope: pending.scope.to_owned(),
            created_at: pending.now,
            expires_at: pending.now + MFA_TOKEN_SECONDS,
        })
        .await?;
    Ok(token)
}

/// The pending login `token` names, unless it has expired or been finished.
pub async fn pending(
    store: &dyn Store,
    token: &str,
    now: i64,
) -> Result<Option<PendingMfaLogin>, StoreError> {
    store.mfa_token(&lookup_hash(token), now).await
}

/// Finishes the pending login: true once; false when it was finished already (concurrently)
/// or has expired since it was read.
pub async fn finish(
    store: &dyn Store,
    login: &PendingMfaLogin,
    now: i64,
) -> Result<bool, StoreError> {
    store.take_mfa_token(&login.token_hash, now).await
}

/// The authenticators the MFA API shows (`GET /mfa/authenticators`): authenticator apps and
/// recovery codes, an app whose enrolment is under way as not yet active.
pub fn listed(authenticators: &[Authenticator]) -> impl Iterator<Item = &Authenticator> {
    authenticators
        .iter()
        .filter(|a| matches!(a.kind, MfaFactor::Otp | MfaFactor::RecoveryCode))
        .filter(|a| a.confirmed || a.kind == MfaFactor::Otp)
}

/// Why an authenticator app cannot be associated with the pending login.
#[derive(Debug, thiserror::Error)]
pub enum AssociateError {
    /// The user has a usable factor: a password alone never adds another one.
    #[error("User is already enrolled.")]
    AlreadyEnrolled,
    /// The tenant does not enable authenticator apps.
    #[error("The otp factor is not enabled.")]
    NotEnabled,
    #[error(transparent)]
    Mfa(#[from] MfaError),
}

/// An authenticator app being associated: its key, and the recovery codes (empty when the
/// tenant does not enable them), shown once.
#[derive(Debug)]
pub struct Association {
    pub secret_base32: String,
    pub barcode_uri: String,
    pub recovery_codes: Vec<String>,
}

/// Starts (or shows again) the enrolment of an authenticator app for a user without a usable
/// factor; the first correct code of the `mfa-otp` grant confirms it ([`pass`]). The
/// recovery codes are given now, as Auth0's `/mfa/associate` does (new ones each time).
pub async fn associate(
    store: &dyn Store,
    cipher: &KeyCipher,
    settings: &MfaSettings,
    owner: &MfaOwner,
    label: Label<'_>,
    now: i64,
) -> Result<Association, AssociateError> {
    if usable(
        settings,
        &store.authenticators(owner).await.map_err(MfaError::from)?,
    ) {
        return Err(AssociateError::AlreadyEnrolled);
    }
    if !settings.is_enabled(MfaFactor::Otp) {
        return Err(AssociateError::NotEnabled);
    }
    let shown = enrol::totp_enrolment(store, cipher, owner, label, now).await?;
    let recovery_codes = if settings.is_enabled(MfaFactor::RecoveryCode) {
        enrol::issue_recovery_codes(store, owner, now)
            .await
            .map_err(MfaError::from)?
    } else {
        Vec::new()
    };
    Ok(Association {
        secret_base32: shown.secret_base32,
        barcode_uri: shown.uri,
        recovery_codes,
    })
}

/// Checks the second factor of a pending login: a code of the user's authenticator app (for
/// a user without a usable factor, the first code of the app [`associate`] started, which
/// confirms it) or a recovery code. The factor passed, or `WrongCredentials` / `Throttled`,
/// counted like the hosted page's codes.
pub async fn pass(
    (store, cipher, sign_in): (&dyn Store, &KeyCipher, &SignIn),
    settings: &MfaSettings,
    owner: &MfaOwner,
    attempt: CodeAttempt<'_>,
    proof: Proof<'_>,
) -> Result<MfaFactor, SignInError> {
    let enrolled = usable(settings, &store.authenticators(owner).await?);
    match proof {
        Proof::Otp(code) if !enrolled && settings.is_enabled(MfaFactor::Otp) => {
            enrol::confirm_totp(store, cipher, sign_in, owner, attempt, code, false).await?;
            Ok(MfaFactor::Otp)
        }
        // Recovery codes stand in for a factor the user has; without one they are no way in.
        Proof::RecoveryCode(_) if !enrolled => {
            Err(SignInError::WrongCredentials { blocked: false })
        }
        proof => {
            let accepted: Vec<MfaFactor> = settings.enabled.iter().copied().collect();
            verify::verify(store, cipher, sign_in, owner, attempt, proof, &accepted).await
        }
    }
}
