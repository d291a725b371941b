//! Multi-factor authentication: the factors a tenant enables (Auth0's Guardian factor names),
//! its policy, and the authentication methods a login records (RFC 8176 `amr` values).

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::closed::{closed_set, UnknownValue};

closed_set! {
    /// A kind of second factor, by Auth0's Guardian factor name. A user's enrolment is of one
    /// kind; the tenant enables each kind on its own.
    MfaFactor, "factor" {
        /// A time-based one-time password from an authenticator app (RFC 6238).
        Otp => "otp",
        /// One-time recovery codes, a fallback for a lost authenticator.
        RecoveryCode => "recovery-code",
        /// A WebAuthn security key (a roaming authenticator).
        WebauthnRoaming => "webauthn-roaming",
        /// A WebAuthn platform authenticator (a passkey held by the device).
        WebauthnPlatform => "webauthn-platform",
    }
}

impl MfaFactor {
    /// What the dashboard calls the factor.
    pub const fn label(self) -> &'static str {
        match self {
            MfaFactor::Otp => "One-time password (authenticator app)",
            MfaFactor::RecoveryCode => "Recovery code",
            MfaFactor::WebauthnRoaming => "Security key (WebAuthn)",
            MfaFactor::WebauthnPlatform => "Device biometrics (WebAuthn)",
        }
    }

    /// Whether a user can sign in with this factor alone as their second factor (a recovery
    /// code only stands in for another factor: it is never enrolled by itself).
    pub const fn is_primary(self) -> bool {
        !matches!(self, MfaFactor::RecoveryCode)
    }

    /// The `amr` value a login with this factor adds (RFC 8176): `otp` for one-time
    /// passwords and recovery codes, `hwk` for a security key, `swk` for a platform key.
    pub const fn method(self) -> AuthMethod {
        match self {
            MfaFactor::Otp | MfaFactor::RecoveryCode => AuthMethod::Otp,
            MfaFactor::WebauthnRoaming => AuthMethod::Hwk,
            MfaFactor::WebauthnPlatform => AuthMethod::Swk,
        }
    }
}

closed_set! {
    /// A tenant's MFA policy, Auth0's `/api/v2/guardian/policies` values. The tenant's policy
    /// is a list of these; the empty list asks for MFA only of users who enrolled a factor, or
    /// when the application asks for it (`acr_values`).
    MfaPolicy, "policy" {
        /// Every login of every application asks for a second factor; a user without one
        /// enrols on the spot.
        AllApplications => "all-applications",
    }
}

closed_set! {
    /// An authentication method a login used (RFC 8176), as the `amr` claim lists them.
    AuthMethod, "authentication method" {
        /// A password.
        Pwd => "pwd",
        /// More than one factor (the others are listed too).
        Mfa => "mfa",
        /// A one-time password.
        Otp => "otp",
        /// A hardware-secured key (a WebAuthn security key).
        Hwk => "hwk",
        /// A software-secured key (a platform authenticator, a passkey).
        Swk => "swk",
        /// A sign-in at another identity provider that did not say how it signed the user
        /// in (Auth0 calls this first factor `federated`; RFC 8176 registers no value for it).
        Fed => "fed",
        // The other methods RFC 8176 registers, as another provider may report them.
        /// Facial biometrics.
        Face => "face",
        /// A fingerprint.
        Fpt => "fpt",
        /// Geolocation.
        Geo => "geo",
        /// Iris biometrics.
        Iris => "iris",
        /// Knowledge-based authentication.
        Kba => "kba",
        /// Multiple-channel authentication.
        Mca => "mca",
        /// A personal identification number.
        Pin => "pin",
        /// Proof of possession of a key.
        Pop => "pop",
        /// Risk-based authentication.
        Rba => "rba",
        /// Retina biometrics.
        Retina => "retina",
        /// A smart card.
        Sc => "sc",
        /// A text message to a known number.
        Sms => "sms",
        /// A telephone call to a known number.
        Tel => "tel",
        /// User presence.
        User => "user",
        /// Voice biometrics.
        Vbm => "vbm",
        /// Windows integrated authentication.
        Wia => "wia",
    }
}

/// OpenID's PAPE multi-factor policy: an application that sends it in `acr_values` asks for a
/// second factor, and the ID token of such a login carries it as `acr`.
pub const ACR_MULTI_FACTOR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_auth0s_and_rfc_8176s() {
        assert_eq!(MfaFactor::RecoveryCode.as_str(), "recovery-code");
        assert_eq!("webauthn-roaming".parse(), Ok(MfaFactor::WebauthnRoaming));
        assert!("sms".parse::<MfaFactor>().is_err());
        assert_eq!(MfaPolicy::AllApplications.as_str(), "all-applications");
        assert_eq!(AuthMethod::Pwd.as_str(), "pwd");
        assert_eq!(MfaFactor::Otp.method(), AuthMethod::Otp);
    }
}
