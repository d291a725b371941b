//! The end user's own account: signing up and asking for a password reset. Shares the checks
//! and the record of [`crate::admin::users`], but it is not an administrative change: it is
//! logged as Auth0 logs a sign-up (`ss` / `fs`) or a change-password request (`scpr` / `fcpr`).
//! [`register`] is the one sign-up of the hosted sign-up page and `/dbconnections/signup`;
//! [`ask_password_reset`] the one request of `/dbconnections/change_password` (and of any page
//! that asks for a reset); [`after_refused_sign_in`] tells a user their account was just
//! blocked for too many failed logins (the `blocked_account` email, with its unblock link).
//!
//! The database connection decides whether users may sign themselves up and which passwords
//! they may choose: [`signup_allowed`] and [`check_password`] are the questions a sign-up or
//! password page asks (the hosted pages, `/dbconnections/signup`, a password reset), and
//! [`signup_rules`] what it tells the user.

use portcullis_store::{Client, User};
use portcullis_types::EventType;
use serde_json::{json, Map, Value};

use crate::{
    admin::{connection, users, AdminError, Context},
    audit::{self, RequestOrigin},
    password::PasswordError,
    password_policy,
    sign_in::{self, Attempt, SignIn, SignInError},
};

pub use crate::admin::{
    connection::{check_password, signup_allowed},
    users::NewUser,
};

/// What [`sign_up`] answers when the connection does not let users sign themselves up.
pub const SIGNUP_DISABLED: &str = "Sign-ups are disabled for this connection.";

/// Creates the account `new` asks for (email, password), unless sign-ups are disabled (a
/// refusal on the field `connection`, with [`SIGNUP_DISABLED`]). Neither throttled nor
/// logged: [`register`] is the sign-up of the pages and endpoints, which does both around it.
pub async fn sign_up(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    if !signup_allowed(cx).await? {
        return Err(AdminError::invalid("connection", SIGNUP_DISABLED));
    }
    let user = users::build(cx, new).await?;
    users::insert(cx, &user).await?;
    Ok(user)
}

/// The most of a typed email address a failure entry keeps (the longest valid address).
const MAX_LOGGED_EMAIL: usize = 254;

/// Auth0's bounds on the `user_metadata` of a sign-up: at most ten properties, names of at
/// most 100 characters, values strings of at most 500.
pub const MAX_SIGNUP_METADATA_PROPERTIES: usize = 10;
pub const MAX_SIGNUP_METADATA_NAME: usize = 100;
pub const MAX_SIGNUP_METADATA_VALUE: usize = 500;

/// Who asks (to sign up, for a password reset): through which application, from where.
#[derive(Clone, Copy, Debug)]
pub struct Requester<'a> {
    pub client: &'a Client,
    pub origin: &'a RequestOrigin,
}

/// Which of the connection's password rules a refused password broke, as Auth0 names it.
#[derive(Clone, Debug, PartialEq)]
pub enum PasswordProblem {
    /// Too short or too weak for the level (`PasswordStrengthError`): Auth0's report of every
    /// strength rule, and its text.
    Strength { description: Value, policy: String },
    /// Too common (`PasswordDictionaryError`).
    Dictionary,
    /// Contains the user's name or email (`PasswordNoUserInfoError`).
    UserInfo,
    /// One of the user's recent passwords (`PasswordHistoryError`).
    History,
}

/// Why a sign-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// The connection does not let users sign themselves up.
    #[error("{SIGNUP_DISABLED}")]
    Disabled,
    /// Too many sign-ups from this address or for this email in this window; `first` for the
    /// refusal that crossed the limit (the only one logged).
    #[error("too many sign-ups")]
    Throttled { first: bool },
    /// An account with this email exists.
    #[error("the user already exists")]
    Exists,
    /// The password breaks the connection's policy; `message` says how.
    #[error("{message}")]
    Password {
        problem: PasswordProblem,
        message: String,
    },
    /// A field of the request is invalid (`field` as the request names it).
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Every password-hashing slot is taken: refused at once, nothing computed.
    #[error("too many sign-ups under way")]
    Busy,
    /// Our own failure (the store).
    #[error(transparent)]
    Failed(AdminError),
}

/// Creates the account `new` asks for, under the rules of every sign-up: the connection must
/// allow sign-ups, the attempt is throttled per client address and per email, the metadata
/// kept within Auth0's bounds, the password checked against the connection's policy. The
/// outcome is logged (`ss`, or `fs` with the typed email; a throttled attempt once per
/// window).
pub async fn register(
    cx: &Context,
    sign_in: &SignIn,
    who: Requester<'_>,
    new: NewUser,
) -> Result<User, SignupError> {
    let outcome = try_register(cx, sign_in, who, &new).await;
    after_signup(cx, who, &new.email, &outcome).await;
    outcome
}

/// What follows every sign-up attempt: its outcome logged (`ss`, or `fs` with the typed
/// email; a throttled attempt once per window) and, for a new account under the
/// verification-email setting, the verification email.
pub(crate) async fn after_signup(
    cx: &Context,
    who: Requester<'_>,
    email: &str,
    outcome: &Result<User, SignupError>,
) {
    let typed_email = bounded(email);
    let failed = |description: &str| {
        audit::entry(EventType::FailedSignup, description)
            .client(who.client)
            .origin(who.origin)
            .details(json!({ "email": typed_email }))
    };
    let entry = match outcome {
        Ok(user) => Some(
            audit::entry(EventType::Signup, "Successful signup")
                .client(who.client)
                .user(user)
                .origin(who.origin),
        ),
        Err(SignupError::Disabled) => Some(failed("Sign-ups are disabled")),
        Err(SignupError::Throttled { first: true }) => Some(failed("Too many sign-ups")),
        Err(SignupError::Exists) => Some(failed("The user already exists")),
        Err(SignupError::Password { .. } | SignupError::Invalid { .. }) => {
            Some(failed("Invalid sign-up"))
        }
        Err(
            SignupError::Throttled { first: false } | SignupError::Busy | SignupError::Failed(_),
        ) => None,
    };
    if let Some(entry) = entry {
        cx.audit.record(entry).await;
    }
    if let Ok(user) = outcome {
        if cx.accounts.verify_email_on_signup && !user.email_verified {
            // The account exists either way: a failure to write the email is ours, logged,
            // and the user can ask for another.
            if let Err(error) =
                crate::admin::tickets::send_verification_email(cx, user, Some(who.client)).await
            {
                tracing::warn!(%error, "the verification email of a sign-up was not written");
            }
        }
    }
}

/// Admits a sign-up attempt: the connection allows sign-ups and the attempt is within the
/// throttle's limits per client address and per email.
pub(crate) async fn admit(
    cx: &Context,
    sign_in: &SignIn,
    who: Requester<'_>,
    email: &str,
) -> Result<(), SignupError> {
    if !signup_allowed(cx).await.map_err(SignupError::Failed)? {
        return Err(SignupError::Disabled);
    }
    sign_in
        .admit_signup(
            cx.store(),
            who.origin.throttled_ip(),
            email.trim(),
            cx.now(),
        )
        .await
        .map_err(|error| match error {
            SignInError::Throttled { first } => SignupError::Throttled { first },
            SignInError::Busy => SignupError::Busy,
            SignInError::Store(error) => SignupError::Failed(AdminError::Store(error)),
            SignInError::Password(error) => SignupError::Failed(AdminError::Password(error)),
            // Counting attempts checks no password: never answered.
            SignInError::WrongCredentials { .. } => SignupError::Failed(AdminError::Password(
                PasswordError::Internal("unexpected answer of the sign-up throttle".into()),
            )),
        })
}

async fn try_register(
    cx: &Context,
    sign_in: &SignIn,
    who: Requester<'_>,
    new: &NewUser,
) -> Result<User, SignupError> {
    admit(cx, sign_in, who, &new.email).await?;
    check_signup_metadata(&new.user_metadata)?;
    match sign_up(cx, new.clone()).await {
        Ok(user) => Ok(user),
        Err(error) => Err(refusal(cx, &new.password, error).await),
    }
}

/// Auth0's bounds on a sign-up's metadata.
fn check_signup_metadata(metadata: &Map<String, Value>) -> Result<(), SignupError> {
    let invalid = |message: String| SignupError::Invalid {
        field: "user_metadata",
        message,
    };
    if metadata.len() > MAX_SIGNUP_METADATA_PROPERTIES {
        return Err(invalid(format!(
            "user_metadata holds at most {MAX_SIGNUP_METADATA_PROPERTIES} properties"
        )));
    }
    for (name, value) in metadata {
        if name.chars().count() > MAX_SIGNUP_METADATA_NAME {
            return Err(invalid(format!(
                "user_metadata property names have at most {MAX_SIGNUP_METADATA_NAME} characters"
            )));
        }
        match value {
            Value::String(text) if text.chars().count() <= MAX_SIGNUP_METADATA_VALUE => {}
            _ => {
                return Err(invalid(format!(
                    "user_metadata values are strings of at most {MAX_SIGNUP_METADATA_VALUE} characters"
                )))
            }
        }
    }
    Ok(())
}

/// What a refusal of [`users::build`] means to a sign-up.
pub(crate) async fn refusal(
    cx: &Context,
    password: &portcullis_types::Secret,
    error: AdminError,
) -> SignupError {
    match error {
        // Sign-ups were disabled since [`try_register`] asked.
        AdminError::Invalid {
            field: "connection",
            ..
        } => SignupError::Disabled,
        AdminError::Conflict { .. } => SignupError::Exists,
        AdminError::Password(PasswordError::Busy) => SignupError::Busy,
        AdminError::Invalid {
            field: "password",
            message,
        } => {
            let problem = match message.as_str() {
                password_policy::TOO_COMMON => PasswordProblem::Dictionary,
                password_policy::HAS_USER_INFO => PasswordProblem::UserInfo,
                connection::PREVIOUSLY_USED => PasswordProblem::History,
                _ => match connection::find(cx).await {
                    Ok(connection) => {
                        let (description, policy) =
                            password_policy::strength_report(&connection, password.expose_str());
                        PasswordProblem::Strength {
                            description,
                            policy,
                        }
                    }
                    Err(error) => return SignupError::Failed(error),
                },
            };
            SignupError::Password { problem, message }
        }
        AdminError::Invalid { field, message } => SignupError::Invalid { field, message },
        other => SignupError::Failed(other),
    }
}

/// The database connection's name (`Username-Password-Authentication`): the one connection
/// a sign-up or password-reset request may name.
pub async fn connection_name(cx: &Context) -> Result<String, AdminError> {
    Ok(connection::find(cx).await?.name)
}

/// What a failure entry keeps of a typed email address: the field is the client's.
fn bounded(email: &str) -> String {
    email.chars().take(MAX_LOGGED_EMAIL).collect()
}

/// Why a password-reset request was refused. Whether the account exists is never one of the
/// reasons: the requester gets the same answer either way.
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestError {
    /// Too many requests from this address or for this email in this window; `first` for the
    /// refusal that crossed the limit (the only one logged).
    #[error("too many password-reset requests")]
    Throttled { first: bool },
    /// Our own failure (the store).
    #[error(transparent)]
    Failed(AdminError),
}

/// Asks for a password-reset email to `email` (Auth0's change-password request): throttled
/// per client address and per email, whether the account exists or not, then handed to
/// [`request_password_reset`].
pub async fn ask_password_reset(
    cx: &Context,
    sign_in: &SignIn,
    who: Requester<'_>,
    email: &str,
) -> Result<(), ResetRequestError> {
    let email = email.trim();
    match sign_in
        .admit_password_reset(cx.store(), who.origin.throttled_ip(), email, cx.now())
        .await
    {
        Ok(()) => {}
        Err(SignInError::Throttled { first }) => {
            if first {
                let entry = audit::entry(
                    EventType::FailedPasswordResetRequest,
                    "Too many password-reset requests",
                )
                .client(who.client)
                .origin(who.origin)
                .details(json!({ "email": bounded(email) }));
                cx.audit.record(entry).await;
            }
            return Err(ResetRequestError::Throttled { first });
        }
        Err(SignInError::Store(error)) => {
            return Err(ResetRequestError::Failed(AdminError::Store(error)))
        }
        Err(other) => {
            return Err(ResetRequestError::Failed(AdminError::Password(
                PasswordError::Internal(other.to_string()),
            )))
        }
    }
    request_password_reset(cx, who, email)
        .await
        .map_err(ResetRequestError::Failed)
}

/// The step that sends the user whose email is `email`, if there is one, the email with a
/// link to choose a new password; `who` is the application (and address) that asked.
///
/// For an account that exists it writes a single-use, expiring password-change ticket and
/// sends it in the `reset_email` email; either way it records the request (`scpr` for an
/// account that exists, `fcpr` "User does not exist" otherwise, as Auth0 logs them). It never
/// tells its caller whether the account exists.
pub async fn request_password_reset(
    cx: &Context,
    who: Requester<'_>,
    email: &str,
) -> Result<(), AdminError> {
    let user = cx.store().user_by_email(email.trim()).await?;
    let entry = match &user {
        Some(user) => {
            audit::entry(EventType::PasswordResetRequest, "Change password request").user(user)
        }
        None => audit::entry(EventType::FailedPasswordResetRequest, "User does not exist")
            .details(json!({ "email": bounded(email) })),
    };
    cx.audit
        .record(entry.client(who.client).origin(who.origin))
        .await;
    if let Some(user) = &user {
        crate::admin::tickets::send_reset_email(cx, user, Some(who.client)).await?;
    }
    Ok(())
}

/// What follows a refused password sign-in of the hosted login page or the password grant:
/// when `error` is the failure that just blocked the account from the attempt's address (the
/// last one its limit allows: once per block, as Auth0's brute-force protection does), the user of that email, if there is one
/// and it is not blocked by an administrator anyway, gets the `blocked_account` email with a
/// single-use, expiring link that lifts this block. A failure to write it is logged: the
/// refusal stands either way, and the caller never learns whether the account exists.
pub async fn after_refused_sign_in(
    cx: &Context,
    error: &SignInError,
    attempt: &Attempt<'_>,
    application: Option<&Client>,
) {
    if !error.blocked_account() {
        return;
    }
    let user = match cx.store().user_by_email(attempt.email.trim()).await {
        Ok(Some(user)) if !user.blocked && !user.email.is_empty() => user,
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(%error, "the blocked-account email was not written");
            return;
        }
    };
    let address = sign_in::address_group(attempt.ip);
    if let Err(error) =
        crate::admin::tickets::send_unblock_email(cx, &user, application, &address).await
    {
        tracing::warn!(%error, "the blocked-account email was not written");
    }
}

/// What a page where users sign up or choose a password shows of the connection.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SignupRules {
    /// Whether users may sign themselves up.
    pub allowed: bool,
    /// The password policy in short sentences.
    pub rules: Vec<String>,
    /// The shortest password accepted (for a form's `minlength`).
    pub min_length: u32,
}

/// The connection's sign-up setting and password rules.
pub async fn signup_rules(cx: &Context) -> Result<SignupRules, AdminError> {
    let connection = connection::find(cx).await?;
    Ok(SignupRules {
        allowed: !connection.disable_signup,
        rules: crate::password_policy::rules(&connection),
        min_length: crate::password_policy::min_length(&connection),
    })
}
