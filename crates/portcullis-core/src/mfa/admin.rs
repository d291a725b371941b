//! Dashboard administrators' second factor. The factors are the users' own (the same
//! authenticators table, TOTP and recovery codes from [`super::enrol`] and [`super::verify`],
//! security keys and passkeys from [`super::webauthn`]), owned by an administrator instead of
//! a user; only the rules of when one is asked differ:
//! the tenant's factors and policy are the end users' business, so an administrator's factor
//! counts whatever they say, and the administrators' own mandatory setting decides whether an
//! administrator without one enrols before reaching the dashboard.
//!
//! A new kind of factor for administrators joins [`ADMIN_FACTORS`] with its enrolment and its
//! proof; the requirement and the dashboard session stay as they are, and the sign-in's step
//! offers what [`admin_factor_kinds`] lists.

use portcullis_store::Authenticator;
use portcullis_types::MfaFactor;

use super::Requirement;

/// The factors an administrator may enrol and sign in with.
pub const ADMIN_FACTORS: &[MfaFactor] = &[
    MfaFactor::Otp,
    MfaFactor::WebauthnPlatform,
    MfaFactor::WebauthnRoaming,
    MfaFactor::RecoveryCode,
];

/// The WebAuthn keys an administrator may enrol and sign in with: a passkey of their device
/// or a security key, whatever the tenant enables for its users.
pub const ADMIN_KEYS: &[MfaFactor] = &[MfaFactor::WebauthnPlatform, MfaFactor::WebauthnRoaming];

/// The kinds of factor the administrator can answer a challenge with, each once, in the order
/// of [`ADMIN_FACTORS`]: what the sign-in's second step offers.
pub fn admin_factor_kinds(authenticators: &[Authenticator]) -> Vec<MfaFactor> {
    ADMIN_FACTORS
        .iter()
        .copied()
        .filter(|kind| kind.is_primary())
        .filter(|kind| {
            authenticators
                .iter()
                .any(|a| a.confirmed && a.kind == *kind)
        })
        .collect()
}

/// Whether the administrator has a confirmed factor that can answer a challenge.
pub fn admin_has_factor(authenticators: &[Authenticator]) -> bool {
    authenticators
        .iter()
        .any(|a| a.confirmed && a.kind.is_primary() && ADMIN_FACTORS.contains(&a.kind))
}

/// What an administrator's sign-in needs after the password: their factor when they have
/// one; under the mandatory setting (`required`), enrolling one before anything else.
pub fn admin_requirement(authenticators: &[Authenticator], required: bool) -> Requirement {
    if admin_has_factor(authenticators) {
        Requirement::Challenge
    } else if required {
        Requirement::Enrol
    } else {
        Requirement::None
    }
}

#[cfg(test)]
mod tests {
    use portcullis_store::MfaOwner;

    use super::*;

    fn factor(kind: MfaFactor, confirmed: bool) -> Authenticator {
        Authenticator {
            id: "totp|dev_1".into(),
            owner: MfaOwner::Admin("adm_1".into()),
            kind,
            name: None,
            confirmed,
            secret: None,
            counter: 0,
            created_at: 0,
            last_used_at: None,
        }
    }

    #[test]
    fn a_factor_is_asked_for_and_the_setting_makes_one_mandatory() {
        let otp = factor(MfaFactor::Otp, true);
        assert_eq!(
            admin_requirement(std::slice::from_ref(&otp), false),
            Requirement::Challenge
        );
        assert_eq!(admin_requirement(&[otp], true), Requirement::Challenge);
        assert_eq!(admin_requirement(&[], false), Requirement::None);
        assert_eq!(admin_requirement(&[], true), Requirement::Enrol);
        let unconfirmed = factor(MfaFactor::Otp, false);
        assert_eq!(admin_requirement(&[unconfirmed], true), Requirement::Enrol);
        // Recovery codes alone are no factor to be asked for.
        let codes = factor(MfaFactor::RecoveryCode, true);
        assert_eq!(
            admin_requirement(std::slice::from_ref(&codes), false),
            Requirement::None
        );
        // A passkey is a factor, and satisfies the mandatory setting.
        let key = factor(MfaFactor::WebauthnPlatform, true);
        assert_eq!(
            admin_requirement(std::slice::from_ref(&key), true),
            Requirement::Challenge
        );
        assert_eq!(
            admin_factor_kinds(&[codes, key, factor(MfaFactor::Otp, true)]),
            [MfaFactor::Otp, MfaFactor::WebauthnPlatform]
        );
    }
}
