//! Signing up with a passkey instead of a password, on the hosted sign-up page.
//!
//! The same rules as a password sign-up ([`crate::accounts::register`]): the connection must
//! allow sign-ups, the attempt is throttled per client address and per email, the email must
//! be valid and free, the outcome is logged (`ss` / `fs`) and the verification email sent
//! under its setting. What differs is the order: [`start`] checks the rules and starts the
//! key's registration, but creates nothing; [`finish`] verifies the key's answer and only
//! then creates the account and its key together, in one transaction of the store. A
//! ceremony that is refused, abandoned or expired therefore leaves no account behind, and an
//! account never exists without its way in.
//!
//! The account has no password: it signs in with its passkey (which, requiring user
//! verification, counts as two factors), and may choose a password later through "Forgot
//! password?".

use portcullis_store::User;

use crate::{
    accounts::{self, NewUser, Requester, SignupError},
    admin::{users, AdminError, Context},
    mfa::{
        webauthn::{self, Answer, Refusal, RelyingParty, SignedUp, Started},
        MfaError,
    },
    password::PasswordError,
    sign_in::SignIn,
};

/// Why a passkey sign-up did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PasskeySignupError {
    /// Refused by the sign-up's rules (or our own failure), as a password sign-up is.
    #[error(transparent)]
    Signup(#[from] SignupError),
    /// The key's answer was refused, or the ceremony is unknown or expired.
    #[error(transparent)]
    Refused(Refusal),
}

impl From<Refusal> for PasskeySignupError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Failed(error) => PasskeySignupError::Signup(failed(error)),
            refused => PasskeySignupError::Refused(refused),
        }
    }
}

fn failed(error: MfaError) -> SignupError {
    match error {
        MfaError::Store(error) => SignupError::Failed(AdminError::Store(error)),
        // Our own failure to set up a ceremony, reported as accounts reports its own.
        other => SignupError::Failed(AdminError::Password(PasswordError::Internal(
            other.to_string(),
        ))),
    }
}

/// The record of the account `email` asks for, checked: valid and free.
async fn account(cx: &Context, email: &str) -> Result<User, SignupError> {
    let new = NewUser {
        email: email.to_owned(),
        ..NewUser::default()
    };
    match users::build_passwordless(cx, new).await {
        Ok(user) => Ok(user),
        Err(error) => Err(accounts::refusal(cx, &Default::default(), error).await),
    }
}

/// Starts a sign-up with a passkey for `email`: the browser's registration options. Logged
/// like a password sign-up when refused; nothing is stored but the ceremony.
pub async fn start(
    cx: &Context,
    sign_in: &SignIn,
    rp: &RelyingParty,
    who: Requester<'_>,
    email: &str,
) -> Result<Started, SignupError> {
    let started = async {
        accounts::admit(cx, sign_in, who, email).await?;
        let user = account(cx, email).await?;
        webauthn::start_sign_up(rp, cx.store(), &user.user_id, &user.email, cx.now())
            .await
            .map_err(failed)
    }
    .await;
    if let Err(error) = &started {
        accounts::after_signup(cx, who, email, &Err(clone_for_log(error))).await;
    }
    started
}

/// The part of a refusal the log needs (the refusal itself is answered to the caller).
fn clone_for_log(error: &SignupError) -> SignupError {
    match error {
        SignupError::Disabled => SignupError::Disabled,
        SignupError::Throttled { first } => SignupError::Throttled { first: *first },
        SignupError::Exists => SignupError::Exists,
        SignupError::Invalid { field, message } => SignupError::Invalid {
            field,
            message: message.clone(),
        },
        // Not logged: our own failures and a busy hasher.
        _ => SignupError::Busy,
    }
}

/// Finishes a sign-up with a passkey: the key's answer verified, the account and its key
/// created together; the new user and the key's kind. Logged as a sign-up (`ss`), and the
/// verification email sent under its setting.
pub async fn finish(
    cx: &Context,
    rp: &RelyingParty,
    who: Requester<'_>,
    answer: Answer<'_>,
) -> Result<(User, portcullis_types::MfaFactor), PasskeySignupError> {
    let SignedUp {
        user_id,
        email,
        authenticator,
        credential_id,
    } = webauthn::finish_sign_up(rp, cx.store(), answer, cx.now()).await?;
    let created = async {
        // Sign-ups may have been disabled, or the email taken, since the ceremony started.
        if !accounts::signup_allowed(cx)
            .await
            .map_err(SignupError::Failed)?
        {
            return Err(PasskeySignupError::Signup(SignupError::Disabled));
        }
        let mut user = account(cx, &email).await?;
        user.user_id = user_id;
        match cx
            .store()
            .create_user_with_passkey(&user, &authenticator, &credential_id)
            .await
        {
            Ok(true) => Ok(user),
            Ok(false) => Err(PasskeySignupError::Refused(Refusal::Duplicate)),
            Err(portcullis_store::StoreError::Conflict(_)) => {
                Err(PasskeySignupError::Signup(SignupError::Exists))
            }
            Err(error) => Err(PasskeySignupError::Signup(SignupError::Failed(
                AdminError::Store(error),
            ))),
        }
    }
    .await;
    let logged = match &created {
        Ok(user) => Ok(user.clone()),
        Err(PasskeySignupError::Signup(error)) => Err(clone_for_log(error)),
        Err(PasskeySignupError::Refused(_)) => Err(SignupError::Invalid {
            field: "credential",
            message: "the passkey was refused".into(),
        }),
    };
    accounts::after_signup(cx, who, &email, &logged).await;
    created.map(|user| (user, authenticator.kind))
}
