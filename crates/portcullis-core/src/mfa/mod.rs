//! Multi-factor authentication: what a login needs ([`requirement`]), enrolling a factor
//! ([`enrol`]), checking one ([`verify`]), and the `amr` a login ends with.
//!
//! The model is one list of authenticators per person (`portcullis_store::Authenticator`),
//! each of a kind (`MfaFactor`: TOTP, recovery codes, WebAuthn keys), stored sealed under the
//! master key where it holds a secret. A login is a small state machine over the session:
//! the password starts a session whose `amr` is `["pwd"]`; `/authorize` asks [`requirement`]
//! whether this request needs a second factor the session has not passed; if so the user is
//! sent to the factor's page (or to enrol one), and a correct factor records `mfa` and the
//! factor's method on the session ([`amr_after`]), after which `/authorize` goes on. A new
//! kind of factor adds an enrolment and a verification here and a page at the edge; the
//! requirement, the session and the tokens stay as they are.

pub mod admin;
pub mod api;
pub mod enrol;
pub mod key_details;
mod recovery;
pub mod totp;
pub mod verify;
pub mod webauthn;

use portcullis_store::{Authenticator, MfaSettings};
use portcullis_types::{AuthMethod, MfaFactor};

pub use self::recovery::normalize_recovery_code;

/// What a login needs before it may go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Nothing more: no second factor is asked for.
    None,
    /// A second factor the person has enrolled.
    Challenge,
    /// A second factor, and the person has none: they enrol one on the spot.
    Enrol,
    /// The application asked for a second factor and the tenant enables none.
    Unavailable,
}

/// Whether a person's confirmed authenticator of an enabled kind can answer a challenge.
pub fn usable(settings: &MfaSettings, authenticators: &[Authenticator]) -> bool {
    authenticators
        .iter()
        .any(|a| a.confirmed && a.kind.is_primary() && settings.is_enabled(a.kind))
}

/// What a login needs, as Auth0 decides it: a person with a usable factor is always asked for
/// it; under the `all-applications` policy, or when the application asks (`acr_values` with
/// the multi-factor policy, `asked`), a person without one enrols one. With no factor
/// enabled nobody is asked, and an application that asks is refused.
pub fn requirement(
    settings: &MfaSettings,
    authenticators: &[Authenticator],
    asked: bool,
) -> Requirement {
    if usable(settings, authenticators) {
        return Requirement::Challenge;
    }
    let enrollable = enrollable(settings).next().is_some();
    match (settings.always() || asked, enrollable) {
        (true, true) => Requirement::Enrol,
        (false, _) => Requirement::None,
        (true, false) if asked => Requirement::Unavailable,
        (true, false) => Requirement::None,
    }
}

/// The factors a person can enrol on the spot, in the order the enrolment page offers them:
/// an authenticator app, a passkey of this device, a security key.
pub fn enrollable(settings: &MfaSettings) -> impl Iterator<Item = MfaFactor> + '_ {
    [
        MfaFactor::Otp,
        MfaFactor::WebauthnPlatform,
        MfaFactor::WebauthnRoaming,
    ]
    .into_iter()
    .filter(|factor| settings.is_enabled(*factor))
}

/// A session's methods once it has passed `factor`: the password, `mfa`, and the factor's
/// RFC 8176 method, each once (Auth0's shape lists `mfa` with the methods).
pub fn amr_after(current: &[AuthMethod], factor: MfaFactor) -> Vec<AuthMethod> {
    let mut amr: Vec<AuthMethod> = current.to_vec();
    for method in [AuthMethod::Mfa, factor.method()] {
        if !amr.contains(&method) {
            amr.push(method);
        }
    }
    amr
}

/// Auth0's authentication method type of a factor (`totp` for the `otp` factor): the prefix
/// of its ids and the `type` of `/api/v2/users/{id}/authentication-methods`.
pub const fn method_type(kind: MfaFactor) -> &'static str {
    match kind {
        MfaFactor::Otp => "totp",
        other => other.as_str(),
    }
}

/// Why enrolling or checking a factor failed for a reason other than a wrong code.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error(transparent)]
    Store(#[from] portcullis_store::StoreError),
    /// A sealed secret that does not open, or one that cannot be sealed.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    #[error("the one-time password could not be set up: {0}")]
    Totp(String),
    /// A WebAuthn ceremony that could not be set up (the relying party, the options).
    #[error("WebAuthn: {0}")]
    Webauthn(String),
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use portcullis_store::MfaOwner;
    use portcullis_types::MfaPolicy;

    use super::*;

    fn otp(confirmed: bool) -> Authenticator {
        Authenticator {
            id: "totp|dev_1".into(),
            owner: MfaOwner::User("auth0|1".into()),
            kind: MfaFactor::Otp,
            name: None,
            confirmed,
            secret: None,
            counter: 0,
            created_at: 0,
            last_used_at: None,
        }
    }

    fn settings(enabled: &[MfaFactor], always: bool) -> MfaSettings {
        MfaSettings {
            enabled: enabled.iter().copied().collect::<BTreeSet<_>>(),
            policies: if always {
                vec![MfaPolicy::AllApplications]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn requirement_follows_auth0s_policy() {
        let on = settings(&[MfaFactor::Otp], false);
        assert_eq!(requirement(&on, &[], false), Requirement::None);
        assert_eq!(
            requirement(&on, &[otp(true)], false),
            Requirement::Challenge
        );
        assert_eq!(requirement(&on, &[otp(false)], false), Requirement::None);
        assert_eq!(requirement(&on, &[], true), Requirement::Enrol);
        let always = settings(&[MfaFactor::Otp], true);
        assert_eq!(requirement(&always, &[], false), Requirement::Enrol);
        let off = settings(&[], true);
        assert_eq!(requirement(&off, &[otp(true)], false), Requirement::None);
        assert_eq!(requirement(&off, &[], true), Requirement::Unavailable);
    }

    #[test]
    fn amr_lists_mfa_and_the_method_once() {
        let amr = amr_after(&[AuthMethod::Pwd], MfaFactor::Otp);
        assert_eq!(amr, [AuthMethod::Pwd, AuthMethod::Mfa, AuthMethod::Otp]);
        assert_eq!(amr_after(&amr, MfaFactor::RecoveryCode), amr);
    }
}
