//! Auth0's MFA API grants: `http://auth0.com/oauth/grant-type/mfa-otp` (`mfa_token` + `otp`)
//! and `http://auth0.com/oauth/grant-type/mfa-recovery-code` (`mfa_token` +
//! `recovery_code`) finish a password login left pending with `mfa_required`. The code is
//! checked as on the hosted MFA page (`core::mfa::api::pass`: the same counters); the pending
//! login is then taken, once, and the tokens minted as the password grant mints them (its
//! post-login Actions), with `amr` `["pwd", "mfa", "otp"]`.

use portcullis_core::{
    audit::RequestOrigin,
    mfa::{self, api as mfa_api, verify::Proof},
    sign_in::SignInError,
};
use portcullis_store::{Client, MfaOwner, PendingMfaLogin, User};
use portcullis_types::{AuthMethod, Scope, Secret};

use super::{
    binding::Binding,
    password::{mint, Tokens},
    TokenResponse,
};
use crate::{
    error::{ErrorCode, OAuthError},
    routes::mfa::attempt,
    state::AppState,
};

/// An `mfa_token` is 43 characters; anything much longer is not one.
const MAX_TOKEN_BYTES: usize = 256;

/// The pending login `token` names, with its user; `None` when there is none (unknown,
/// expired, finished) or its user is gone.
pub(crate) async fn pending_login(
    app: &AppState,
    token: &str,
) -> Result<Option<(PendingMfaLogin, User)>, OAuthError> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Ok(None);
    }
    let Some(login) = mfa_api::pending(app.store.as_ref(), token, app.clock.now()).await? else {
        return Ok(None);
    };
    let Some(user) = app.store.user_by_id(&login.user_id).await? else {
        return Ok(None);
    };
    Ok(Some((login, user)))
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// A pending login that is not (any more) there, or not this application's.
const NO_LOGIN: &str = "Malformed, expired or used mfa_token.";

pub(super) async fn exchange(
    app: &AppState,
    client: &Client,
    origin: &RequestOrigin,
    mfa_token: &Secret,
    proof: Proof<'_>,
    binding: Binding<'_>,
) -> Result<TokenResponse, OAuthError> {
    let Some((login, user)) = pending_login(app, mfa_token.expose_str()).await? else {
        return Err(invalid_grant(NO_LOGIN));
    };
    if login.client_id != client.client_id {
        return Err(invalid_grant(NO_LOGIN));
    }
    if user.blocked {
        return Err(invalid_grant("user is blocked"));
    }
    let settings = app.store.mfa_settings().await?;
    let owner = MfaOwner::User(user.user_id.clone());
    let checked = mfa_api::pass(
        (app.store.as_ref(), &app.key_cipher, &app.sign_in),
        &settings,
        &owner,
        attempt(app, &user, origin),
        proof,
    )
    .await;
    let factor = match checked {
        Ok(factor) => factor,
        Err(SignInError::WrongCredentials { .. }) => {
            return Err(invalid_grant(match proof {
                Proof::Otp(_) => "Invalid otp_code.",
                Proof::RecoveryCode(_) => "Invalid recovery_code.",
            }))
        }
        Err(SignInError::Throttled { .. }) => {
            return Err(OAuthError::new(
                ErrorCode::TooManyRequests,
                "Too many failed attempts. Try again later.",
            ))
        }
        Err(SignInError::Busy) => {
            return Err(OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "Too many sign-ins under way. Retry in a moment.",
            ))
        }
        Err(SignInError::Store(error)) => return Err(error.into()),
        Err(SignInError::Password(error)) => return Err(OAuthError::internal(error)),
    };
    let now = app.clock.now();
    if !mfa_api::finish(app.store.as_ref(), &login, now).await? {
        return Err(invalid_grant(NO_LOGIN));
    }
    app.store.record_login(&user.user_id, now).await?;
    let api = crate::routes::authorize::user_api(app, login.audience.as_deref()).await?;
    let scope = Scope::parse(&login.scope).map_err(OAuthError::internal)?;
    let amr = mfa::amr_after(&[AuthMethod::Pwd], factor);
    let tokens = Tokens {
        api: api.as_ref(),
        scope: &scope,
        amr: &amr,
    };
    mint(app, client, &user, tokens, binding, origin).await
}
