//! Enrolling a factor: a TOTP authenticator is stored unconfirmed with its sealed key, shown
//! (QR code and text), and confirmed by its first correct code, checked under the same
//! brute-force protection as any code. Confirming it gives the person recovery codes, shown
//! once, when the tenant enables them.

use portcullis_store::{Authenticator, MfaOwner, Store};
use portcullis_types::MfaFactor;

use super::{
    method_type,
    recovery::{code_hash, new_code, RECOVERY_CODES},
    totp::{self, Provisioning},
    MfaError,
};
use crate::{
    keys::KeyCipher,
    secrets::random_alphanumeric,
    sign_in::{CodeAttempt, SignIn, SignInError},
};

/// A new authenticator id in Auth0's shape: `totp|dev_...`.
pub(super) fn new_id(kind: MfaFactor) -> String {
    format!("{}|dev_{}", method_type(kind), random_alphanumeric(16))
}

/// Who is enrolling, as an authenticator app labels the key.
#[derive(Clone, Copy, Debug)]
pub struct Label<'a> {
    /// The service's name in the app (the issuer's host).
    pub issuer: &'a str,
    /// The account's name in the app (an email address).
    pub account: &'a str,
}

/// The owner's TOTP enrolment under way: the unconfirmed authenticator they were shown
/// already (a reloaded page shows the same key), or a new one.
pub async fn totp_enrolment(
    store: &dyn Store,
    cipher: &KeyCipher,
    owner: &MfaOwner,
    label: Label<'_>,
    now: i64,
) -> Result<Provisioning, MfaError> {
    let pending = store
        .authenticators(owner)
        .await?
        .into_iter()
        .find(|a| !a.confirmed && a.kind == MfaFactor::Otp);
    let secret = match pending {
        Some(Authenticator {
            id,
            secret: Some(sealed),
            ..
        }) => totp::open(cipher, &id, &sealed)?,
        _ => {
            store.delete_unconfirmed_authenticators(owner).await?;
            let id = new_id(MfaFactor::Otp);
            let secret = totp::new_secret();
            store
                .insert_authenticator(&Authenticator {
                    id: id.clone(),
                    owner: owner.clone(),
                    kind: MfaFactor::Otp,
                    name: None,
                    confirmed: false,
                    secret: Some(totp::seal(cipher, &id, &secret)?),
                    counter: 0,
                    created_at: now,
                    last_used_at: None,
                })
                .await?;
            secret
        }
    };
    totp::provisioning(&secret, label.issuer, label.account)
}

/// What confirming an enrolment gave the person.
#[derive(Debug)]
pub struct Confirmed {
    /// The recovery codes to show once (empty when the tenant does not enable them).
    pub recovery_codes: Vec<String>,
}

/// Confirms the owner's TOTP enrolment under way with its first code: counted like a sign-in
/// of `attempt`'s account. `WrongCredentials` for a wrong code, or when no enrolment is under
/// way. With `recovery_codes`, the owner's earlier recovery codes are replaced by new ones.
pub async fn confirm_totp(
    store: &dyn Store,
    cipher: &KeyCipher,
    sign_in: &SignIn,
    owner: &MfaOwner,
    attempt: CodeAttempt<'_>,
    code: &str,
    recovery_codes: bool,
) -> Result<Confirmed, SignInError> {
    let now = attempt.now;
    let pending = store
        .authenticators(owner)
        .await?
        .into_iter()
        .find(|a| !a.confirmed && a.kind == MfaFactor::Otp);
    let id = sign_in
        .check_code(store, attempt, || async {
            let Some(Authenticator {
                id,
                secret: Some(sealed),
                ..
            }) = pending
            else {
                return Ok(None);
            };
            let secret = totp::open(cipher, &id, &sealed).map_err(super::verify::internal)?;
            let Some(step) = totp::matching_step(&secret, code, now) else {
                return Ok(None);
            };
            let fresh = store.advance_authenticator(&id, step, now).await?;
            Ok(fresh.then_some(id))
        })
        .await?;
    store.confirm_authenticator(owner, &id).await?;
    let recovery_codes = if recovery_codes {
        issue_recovery_codes(store, owner, now).await?
    } else {
        Vec::new()
    };
    Ok(Confirmed { recovery_codes })
}

/// Gives the owner new recovery codes, replacing any earlier ones: the codes, to show once.
/// Called when a first factor is enrolled (an authenticator app, a WebAuthn key).
pub async fn issue_recovery_codes(
    store: &dyn Store,
    owner: &MfaOwner,
    now: i64,
) -> Result<Vec<String>, portcullis_store::StoreError> {
    for old in store.authenticators(owner).await? {
        if old.kind == MfaFactor::RecoveryCode {
            store.delete_authenticator(owner, &old.id).await?;
        }
    }
    let id = new_id(MfaFactor::RecoveryCode);
    store
        .insert_authenticator(&Authenticator {
            id: id.clone(),
            owner: owner.clone(),
            kind: MfaFactor::RecoveryCode,
            name: None,
            confirmed: true,
            secret: None,
            counter: 0,
            created_at: now,
            last_used_at: None,
        })
        .await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_code()).collect();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|code| code_hash(code)).collect();
    store.insert_recovery_codes(&id, &hashes).await?;
    Ok(codes)
}
