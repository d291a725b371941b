//! What the links of account emails need to know that is not in the store: where the
//! server's pages are (the issuer) and whether a sign-up asks for a verification. The tickets
//! themselves, and what using them does, are [`crate::admin::tickets`].

/// How long a ticket lives when neither its request nor its email template says (Auth0's
/// default for both kinds: five days).
pub const DEFAULT_TTL_SECONDS: i64 = 432_000;

/// The path of the page a ticket of each kind opens, under the issuer.
pub const VERIFICATION_PATH: &str = "u/email-verification";
pub const RESET_PATH: &str = "u/reset-password";
pub const UNBLOCK_PATH: &str = "u/unblock";

/// What Auth0's pages put in the `message` of the result URL.
pub const VERIFIED_MESSAGE: &str =
    "Your email was verified. You can continue using the application.";
pub const RESET_MESSAGE: &str = "You can now login to the application with the new password.";
pub const UNBLOCKED_MESSAGE: &str = "Your account was unblocked. You can log in again.";

/// Where the links of account emails point, and whether a sign-up gets a verification email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSettings {
    /// The issuer, with its trailing slash: the links are under it.
    pub issuer: String,
    /// Whether a sign-up sends the `verify_email` email (on by default, as Auth0 does).
    pub verify_email_on_signup: bool,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            issuer: "http://localhost:4000/".into(),
            verify_email_on_signup: true,
        }
    }
}
