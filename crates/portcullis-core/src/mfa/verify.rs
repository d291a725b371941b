//! Checking a second factor at login: a TOTP code of one of the person's confirmed
//! authenticators, or one of their unused recovery codes. Every attempt counts like a password
//! attempt of the same account from the same address (`SignIn::check_code`), so codes cannot
//! be guessed faster than passwords; a correct code clears those counters.

use portcullis_store::{MfaOwner, Store, StoreError};
use portcullis_types::MfaFactor;

use super::{recovery::code_hash, totp, MfaError};
use crate::{
    keys::KeyCipher,
    sign_in::{CodeAttempt, SignIn, SignInError},
};

/// What the person typed.
#[derive(Clone, Copy, Debug)]
pub enum Proof<'a> {
    /// A code from their authenticator app.
    Otp(&'a str),
    /// One of their recovery codes.
    RecoveryCode(&'a str),
}

/// A key that does not open inside a store callback: an internal failure, reported as the
/// store's, never as a wrong code.
pub(super) fn internal(error: MfaError) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Checks `proof` for `owner`; the factor it passed, or `WrongCredentials` (a wrong code, a
/// code used already, a factor of a kind not `accepted`) or `Throttled`. `accepted` is the
/// tenant's enabled factors for users, TOTP alone for administrators.
pub async fn verify(
    store: &dyn Store,
    cipher: &KeyCipher,
    sign_in: &SignIn,
    owner: &MfaOwner,
    attempt: CodeAttempt<'_>,
    proof: Proof<'_>,
    accepted: &[MfaFactor],
) -> Result<MfaFactor, SignInError> {
    let now = attempt.now;
    let authenticators = store.authenticators(owner).await?;
    sign_in
        .check_code(store, attempt, || async {
            match proof {
                Proof::Otp(code) if accepted.contains(&MfaFactor::Otp) => {
                    for authenticator in authenticators
                        .iter()
                        .filter(|a| a.confirmed && a.kind == MfaFactor::Otp)
                    {
                        let Some(sealed) = &authenticator.secret else {
                            continue;
                        };
                        let secret =
                            totp::open(cipher, &authenticator.id, sealed).map_err(internal)?;
                        if let Some(step) = totp::matching_step(&secret, code, now) {
                            let fresh = store
                                .advance_authenticator(&authenticator.id, step, now)
                                .await?;
                            return Ok(fresh.then_some(MfaFactor::Otp));
                        }
                    }
                    Ok(None)
                }
                Proof::RecoveryCode(code) if accepted.contains(&MfaFactor::RecoveryCode) => {
                    let used = store
                        .use_recovery_code(owner, &code_hash(code), now)
                        .await?;
                    Ok(used.then_some(MfaFactor::RecoveryCode))
                }
                _ => Ok(None),
            }
        })
        .await
}
