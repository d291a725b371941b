//! Auth0's log event type codes. The set is open: Auth0 defines many more than Portcullis
//! writes, and a filter may name any of them, so an unknown code is kept as it is.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! event_types {
    ($( $(#[$meta:meta])* $variant:ident => $code:literal, $label:literal; )+) => {
        /// The type of an audit log entry, as Auth0's log `type` code.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum EventType {
            $( $(#[$meta])* $variant, )+
            /// A code Portcullis does not write (a filter may still ask for it).
            Other(String),
        }

        impl EventType {
            /// Auth0's code.
            pub fn as_str(&self) -> &str {
                match self {
                    $(EventType::$variant => $code,)+
                    EventType::Other(code) => code,
                }
            }

            /// The type with this code.
            pub fn from_code(code: &str) -> Self {
                match code {
                    $($code => EventType::$variant,)+
                    other => EventType::Other(other.to_owned()),
                }
            }

            /// Auth0's name for the type, for the types Portcullis records.
            pub fn label(&self) -> Option<&'static str> {
                match self {
                    $(EventType::$variant => Some($label),)+
                    EventType::Other(_) => None,
                }
            }

            /// Every type Portcullis records, in the order of Auth0's list.
            pub fn recorded() -> Vec<EventType> {
                vec![$(EventType::$variant),+]
            }
        }
    };
}

event_types! {
    /// A successful login.
    Login => "s", "Success Login";
    /// A failed login (wrong email or password).
    FailedLogin => "f", "Failed Login";
    /// A login refused because the user is blocked.
    FailedLoginBlocked => "fu", "Blocked Account";
    /// A login refused by brute-force protection.
    LoginThrottled => "limit_wc", "Too Many Calls to /login";
    /// A brute-force block lifted by the link of the blocked-account email.
    LoginBlockReleased => "ublkdu", "User login block released";
    /// A successful sign-up.
    Signup => "ss", "Success Signup";
    /// A failed sign-up.
    FailedSignup => "fs", "Failed Signup";
    /// A password-reset email asked for (`/dbconnections/change_password`).
    PasswordResetRequest => "scpr", "Success Change Password Request";
    /// A password-reset request that sent nothing (no such user, or refused).
    FailedPasswordResetRequest => "fcpr", "Failed Change Password Request";
    /// An address verified through the link of a verification email.
    EmailVerified => "sv", "Success Verification Email";
    /// A verification email sent (on sign-up, or asked for through the Management API).
    VerificationEmailSent => "svr", "Success Verification Email Request";
    /// A password changed through the link of a password-reset email or ticket.
    PasswordChanged => "scp", "Success Change Password";
    /// A logout.
    Logout => "slo", "Success Logout";
    /// An authorization code exchanged for tokens.
    CodeExchange => "seacft", "Success Exchange (Authorization Code for Access Token)";
    /// A failed code exchange.
    FailedCodeExchange => "feacft", "Failed Exchange (Authorization Code for Access Token)";
    /// A client_credentials exchange.
    ClientCredentials => "seccft", "Success Exchange (Client Credentials for Access Token)";
    /// A failed client_credentials exchange.
    FailedClientCredentials => "feccft", "Failed Exchange (Client Credentials for Access Token)";
    /// A password (or password-realm) grant exchanged for tokens.
    PasswordExchange => "sepft", "Success Exchange (Password for Access Token)";
    /// A failed password grant.
    FailedPasswordExchange => "fepft", "Failed Exchange (Password for Access Token)";
    /// A refresh token exchanged.
    Refresh => "sertft", "Success Exchange (Refresh Token for Access Token)";
    /// A failed refresh.
    FailedRefresh => "fertft", "Failed Exchange (Refresh Token for Access Token)";
    /// A rotated refresh token presented again: its family was revoked.
    RefreshReuse => "ferrt", "Refresh Token Reuse Detected";
    /// A second factor accepted at login (Auth0's Guardian codes).
    MfaSucceeded => "gd_auth_succeed", "MFA Authentication Succeeded";
    /// A wrong, reused or expired second-factor code.
    MfaFailed => "gd_auth_failed", "MFA Authentication Failed";
    /// A second-factor code refused by brute-force protection.
    MfaThrottled => "gd_otp_rate_limit_exceed", "Too Many MFA Failures";
    /// A recovery code accepted at login.
    MfaRecoverySucceeded => "gd_recovery_succeed", "MFA Recovery Succeeded";
    /// A factor enrolled at login.
    MfaEnrolled => "gd_enrollment_complete", "MFA Enrollment Complete";
    /// A change to the tenant (Management API, dashboard or CLI).
    ManagementOperation => "sapi", "Success API Operation";
    /// A failed Management API change by an authenticated caller.
    FailedManagementOperation => "fapi", "Failed API Operation";
}

impl EventType {
    /// Whether the event is a failure (a refused login, exchange or change).
    pub fn is_failure(&self) -> bool {
        let code = self.as_str();
        code.starts_with('f')
            || code.starts_with("limit")
            || (code.starts_with("gd_") && (code.ends_with("_failed") || code.ends_with("_exceed")))
            || *self == EventType::RefreshReuse
    }
}

impl From<&str> for EventType {
    fn from(code: &str) -> Self {
        EventType::from_code(code)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(EventType::from_code(&code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_kept() {
        assert_eq!(EventType::from("sapi"), EventType::ManagementOperation);
        assert_eq!(EventType::RefreshReuse.as_str(), "ferrt");
        let other = EventType::from("gd_enrollment_complete");
        assert_eq!(other.as_str(), "gd_enrollment_complete");
        assert_eq!(serde_json::to_string(&EventType::Login).unwrap(), "\"s\"");
    }
}
