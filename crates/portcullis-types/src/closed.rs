//! Closed sets of protocol values: each is an enum that reads and writes the registered
//! spelling, so the store, the JSON shapes and the forms all spell it one way.

use std::{fmt, str::FromStr};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A value outside a closed set; the message lists what is allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be {}{allowed}", if allowed.contains(',') { "one of " } else { "" })]
pub struct UnknownValue {
    /// What the value is (`token_dialect`, `grant type`, ...).
    pub what: &'static str,
    /// The allowed spellings, comma-separated.
    pub allowed: String,
    /// The value that was refused.
    pub value: String,
}

/// Defines an enum over a closed set of spellings, with `as_str`, `ALL`, `FromStr`, `Display`
/// and serde as the spelling.
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order of the registry.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The registered spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(value: &str) -> Result<Self, UnknownValue> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: $what,
                        allowed: [$($text),+].join(", "),
                        value: value.to_owned(),
                    }),
                }
            }
        }

        /// Compares with a spelling, as the registry writes it.
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}

// Other modules of this crate define their closed sets with it too.
pub(crate) use closed_set;

closed_set! {
    /// An OAuth 2.0 grant an application may use (Auth0's `grant_types`).
    GrantType, "grant type" {
        AuthorizationCode => "authorization_code",
        Implicit => "implicit",
        RefreshToken => "refresh_token",
        ClientCredentials => "client_credentials",
        /// The resource owner's password (RFC 6749 §4.3), for legacy applications.
        Password => "password",
        /// Auth0's password grant naming the connection (`realm`).
        PasswordRealm => "http://auth0.com/oauth/grant-type/password-realm",
        /// Auth0's MFA API: a pending password login finished with an authenticator app's code.
        MfaOtp => "http://auth0.com/oauth/grant-type/mfa-otp",
        /// Auth0's MFA API: a pending password login finished with a recovery code.
        MfaRecoveryCode => "http://auth0.com/oauth/grant-type/mfa-recovery-code",
    }
}

closed_set! {
    /// How an application authenticates at the token endpoint (RFC 7591
    /// `token_endpoint_auth_method`): `none` for public clients.
    ClientAuthMethod, "token_endpoint_auth_method" {
        None => "none",
        ClientSecretPost => "client_secret_post",
        ClientSecretBasic => "client_secret_basic",
    }
}

impl ClientAuthMethod {
    /// Whether the application holds a secret.
    pub const fn is_confidential(self) -> bool {
        !matches!(self, ClientAuthMethod::None)
    }
}

closed_set! {
    /// Refresh-token rotation (Auth0's `refresh_token.rotation_type`).
    RotationType, "refresh_token.rotation_type" {
        Rotating => "rotating",
        NonRotating => "non-rotating",
    }
}

closed_set! {
    /// The algorithm an API's access tokens are signed with (Auth0's `signing_alg`): an RSA
    /// key with PKCS#1 v1.5 or PSS, a P-256 key, or the API's own HMAC secret.
    SigningAlg, "signing_alg" {
        RS256 => "RS256",
        PS256 => "PS256",
        ES256 => "ES256",
        HS256 => "HS256",
    }
}

impl SigningAlg {
    /// The algorithms signed with a key of the server's key ring and published in the JWKS;
    /// HS256 is signed with the API's own secret and never published.
    pub const ASYMMETRIC: &'static [SigningAlg] =
        &[SigningAlg::RS256, SigningAlg::PS256, SigningAlg::ES256];

    /// Whether tokens of this algorithm are signed with the API's own shared secret.
    pub const fn is_symmetric(self) -> bool {
        matches!(self, SigningAlg::HS256)
    }
}

closed_set! {
    /// The shape of an API's access tokens (Auth0's `token_dialect`): Auth0's or RFC 9068's
    /// claims, with or without the `permissions` claim.
    TokenDialect, "token_dialect" {
        AccessToken => "access_token",
        AccessTokenAuthz => "access_token_authz",
        Rfc9068Profile => "rfc9068_profile",
        Rfc9068ProfileAuthz => "rfc9068_profile_authz",
    }
}

impl TokenDialect {
    /// The dialect with RFC 9068's claims or Auth0's, with or without `permissions`.
    pub const fn of(rfc9068: bool, permissions: bool) -> Self {
        match (rfc9068, permissions) {
            (false, false) => TokenDialect::AccessToken,
            (false, true) => TokenDialect::AccessTokenAuthz,
            (true, false) => TokenDialect::Rfc9068Profile,
            (true, true) => TokenDialect::Rfc9068ProfileAuthz,
        }
    }

    /// RFC 9068 claims (`client_id`, `jti`, `typ: at+jwt`) instead of Auth0's (`azp`, `gty`).
    pub const fn is_rfc9068(self) -> bool {
        matches!(
            self,
            TokenDialect::Rfc9068Profile | TokenDialect::Rfc9068ProfileAuthz
        )
    }

    /// Whether tokens carry the `permissions` claim (RBAC's "add permissions").
    pub const fn adds_permissions(self) -> bool {
        matches!(
            self,
            TokenDialect::AccessTokenAuthz | TokenDialect::Rfc9068ProfileAuthz
        )
    }
}

closed_set! {
    /// The strength a database connection asks of new passwords (Auth0's `passwordPolicy`),
    /// from the weakest to the strongest.
    PasswordStrength, "passwordPolicy" {
        None => "none",
        Low => "low",
        Fair => "fair",
        Good => "good",
        Excellent => "excellent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for grant in GrantType::ALL {
            assert_eq!(grant.as_str().parse::<GrantType>(), Ok(*grant));
        }
        assert_eq!(
            serde_json::to_string(&RotationType::NonRotating).unwrap(),
            "\"non-rotating\""
        );
        let parsed: Vec<GrantType> =
            serde_json::from_str(r#"["authorization_code","refresh_token"]"#).unwrap();
        assert_eq!(
            parsed,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
    }

    #[test]
    fn unknown_values_name_what_is_allowed() {
        let error = "device_code".parse::<GrantType>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "grant type must be one of authorization_code, implicit, refresh_token, client_credentials, password, http://auth0.com/oauth/grant-type/password-realm, http://auth0.com/oauth/grant-type/mfa-otp, http://auth0.com/oauth/grant-type/mfa-recovery-code"
        );
        assert!(serde_json::from_str::<TokenDialect>("\"jwt\"").is_err());
    }

    #[test]
    fn dialects_compose() {
        for dialect in TokenDialect::ALL {
            assert_eq!(
                TokenDialect::of(dialect.is_rfc9068(), dialect.adds_permissions()),
                *dialect
            );
        }
    }
}
