//! The end user's own account: signing up. Shares the checks and the record of
//! [`crate::admin::users`], but it is not an administrative change: the page or endpoint that
//! signs the user up logs it as a sign-up.
//!
//! The database connection decides whether users may sign themselves up and which passwords
//! they may choose: [`signup_allowed`] and [`check_password`] are the questions a sign-up or
//! password page asks (the hosted pages, `/dbconnections/signup`, a password reset), and
//! [`signup_rules`] what it tells the user.

use portcullis_store::User;

use crate::admin::{connection, users, AdminError, Context};

pub use crate::admin::{
    connection::{check_password, signup_allowed},
    users::NewUser,
};

/// What [`sign_up`] answers when the connection does not let users sign themselves up.
pub const SIGNUP_DISABLED: &str = "Sign-ups are disabled for this connection.";

/// Creates the account `new` asks for (email, password), unless sign-ups are disabled (a
/// refusal on the field `connection`, with [`SIGNUP_DISABLED`]).
pub async fn sign_up(cx: &Context, new: NewUser) -> Result<User, AdminError> {
    if !signup_allowed(cx).await? {
        return Err(AdminError::invalid("connection", SIGNUP_DISABLED));
    }
    let user = users::build(cx, new).await?;
    users::insert(cx, &user).await?;
    Ok(user)
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
