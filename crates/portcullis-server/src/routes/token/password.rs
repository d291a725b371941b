//! The password grants: `password` (RFC 6749 §4.3) and Auth0's
//! `http://auth0.com/oauth/grant-type/password-realm` (the connection named by `realm`), for
//! legacy applications such as auth0.js's `client.login`. Off unless the application lists
//! the grant in its `grant_types`. The password is checked exactly as on the hosted login
//! page (`SignIn::check_user`: the same brute-force counters, an imported hash upgraded); a
//! user who must pass a second factor gets Auth0's `mfa_required` with an `mfa_token`.

use portcullis_core::{
    accounts,
    audit::RequestOrigin,
    authz,
    mfa::{api as mfa_api, Requirement},
    secrets::random_token,
    sign_in::{Attempt, Realm, SignInError},
    tokens::{AccessRequest, IdTokenRequest, RefreshRequest},
};
use portcullis_store::{Client, User};
use portcullis_types::{AuthMethod, GrantType, Scope, Secret};

use super::binding::Binding;
use super::TokenResponse;
use crate::{
    actions,
    error::{ErrorCode, OAuthError},
    routes::mfa_gate,
    state::AppState,
};

/// What a password grant asks for.
pub(super) struct Grant<'a> {
    pub username: &'a str,
    pub password: &'a Secret,
    /// The connection's name (`password-realm`); `None` for plain `password`.
    pub realm: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub scope: Option<Scope>,
}

/// Auth0's wording for wrong credentials, whichever of the two was wrong.
const WRONG_CREDENTIALS: &str = "Wrong email or password.";

pub(super) async fn exchange(
    app: &AppState,
    client: &Client,
    origin: &RequestOrigin,
    grant: Grant<'_>,
    binding: Binding<'_>,
) -> Result<TokenResponse, OAuthError> {
    if let Some(realm) = grant.realm {
        let connection = app.store.database_connection().await?;
        if realm != connection.name {
            return Err(OAuthError::invalid_request(format!(
                "Unknown realm: {realm}"
            )));
        }
    }
    let api = crate::routes::authorize::user_api(app, grant.audience).await?;
    let requested = grant
        .scope
        .unwrap_or_else(|| Scope::parse("openid").unwrap_or_default());
    let refresh_allowed = client.allows_grant(GrantType::RefreshToken);
    let scope = authz::user_token_scopes(&requested, api.as_ref(), refresh_allowed);
    let user = sign_in(app, (client, origin), grant.username, grant.password).await?;
    if user.blocked {
        return Err(OAuthError::new(ErrorCode::InvalidGrant, "user is blocked"));
    }
    second_factor(app, client, &user, api.as_ref(), &scope, false).await?;
    let now = app.clock.now();
    app.store.record_login(&user.user_id, now).await?;
    let tokens = Tokens {
        api: api.as_ref(),
        scope: &scope,
        amr: &[AuthMethod::Pwd],
    };
    mint(app, client, &user, tokens, binding, origin).await
}

/// The second factor a login without a browser owes, as the login page's step would ask for
/// it (`asked`: the post-login Actions called `api.multifactor.enable`): `Ok` when none is
/// owed, else Auth0's `mfa_required` with an `mfa_token` for the MFA API, which finishes the
/// login for `api` and `scope`.
pub(super) async fn second_factor(
    app: &AppState,
    client: &Client,
    user: &User,
    api: Option<&portcullis_store::ResourceServer>,
    scope: &Scope,
    asked: bool,
) -> Result<(), OAuthError> {
    match mfa_gate::requirement(app, user, asked).await? {
        Requirement::None => Ok(()),
        Requirement::Unavailable => Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "Multi-factor authentication was requested but no factor is enabled",
        )),
        Requirement::Challenge | Requirement::Enrol => {
            let pending = mfa_api::Pending {
                user_id: &user.user_id,
                client_id: &client.client_id,
                audience: api.map(|api| api.identifier.as_str()),
                scope: &scope.to_string(),
                now: app.clock.now(),
            };
            Err(OAuthError {
                mfa_token: Some(mfa_api::start(app.store.as_ref(), pending).await?),
                ..OAuthError::new(
                    ErrorCode::MfaRequired,
                    "Multifactor authentication required",
                )
            })
        }
    }
}

/// Checks the credentials on the hosted login page's counters; the refusal that blocks the
/// account sends it the blocked-account email.
async fn sign_in(
    app: &AppState,
    (client, origin): (&Client, &RequestOrigin),
    username: &str,
    password: &Secret,
) -> Result<User, OAuthError> {
    let attempt = Attempt {
        realm: Realm::Login,
        email: username,
        password,
        ip: origin.throttled_ip(),
        now: app.clock.now(),
    };
    let checked = app.sign_in.check_user(app.store.as_ref(), attempt).await;
    if let Err(error) = &checked {
        accounts::after_refused_sign_in(&app.admin.cx, error, &attempt, Some(client)).await;
    }
    match checked {
        Ok(user) => Ok(user),
        Err(SignInError::WrongCredentials { .. }) => {
            app.metrics.login("wrong_credentials");
            Err(OAuthError::new(ErrorCode::InvalidGrant, WRONG_CREDENTIALS))
        }
        Err(SignInError::Throttled { .. }) => {
            app.metrics.login("throttled");
            Err(OAuthError::new(
                ErrorCode::TooManyRequests,
                "Too many failed attempts. Try again later.",
            ))
        }
        Err(SignInError::Busy) => Err(OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "Too many sign-ins under way. Retry in a moment.",
        )),
        Err(SignInError::Store(error)) => Err(error.into()),
        Err(SignInError::Password(error)) => Err(OAuthError::internal(error)),
    }
}

/// What the tokens of a password login are for, and how the user signed in.
pub(super) struct Tokens<'a> {
    pub api: Option<&'a portcullis_store::ResourceServer>,
    pub scope: &'a Scope,
    pub amr: &'a [AuthMethod],
}

/// The tokens of a password login (finished, for one that owed a second factor, by the MFA
/// API's grants), after the post-login Actions.
pub(super) async fn mint(
    app: &AppState,
    client: &Client,
    user: &User,
    Tokens { api, scope, amr }: Tokens<'_>,
    binding: Binding<'_>,
    origin: &RequestOrigin,
) -> Result<TokenResponse, OAuthError> {
    // The login's time: the password was checked just now, on this clock.
    let now = app.clock.now();
    // The login page's post-login Actions run for this login too, before any token.
    let changes = actions::post_login(
        app,
        actions::Login {
            client,
            api,
            user,
            scope,
            protocol: portcullis_core::actions::event::protocol::PASSWORD,
            redirect_uri: None,
            request: actions::request_info(app, origin, "POST", &[]),
            origin,
        },
    )
    .await?;
    if changes.owes_second_factor(amr) {
        second_factor(app, client, user, api, scope, true).await?;
    }
    // No browser session: the tokens' `sid` names this exchange alone.
    let sid = random_token(16);
    let minter = app.minter();
    let access = minter
        .access_token_with(
            AccessRequest {
                subject: &user.user_id,
                user: Some(user),
                client,
                api,
                scope,
                for_browser: false,
                client_credentials: false,
                amr,
                dpop_jkt: binding.access,
            },
            &changes,
        )
        .await?;
    let id_token = scope
        .contains("openid")
        .then(|| {
            minter.id_token_with(
                IdTokenRequest {
                    user,
                    client,
                    scope,
                    nonce: None,
                    auth_time: now,
                    sid: &sid,
                    access_token: None,
                    amr,
                    acr: None,
                },
                &changes,
            )
        })
        .transpose()?;
    let refresh = if scope.contains("offline_access") {
        let family_id = random_token(16);
        let token = minter
            .refresh_token(RefreshRequest {
                family_id: &family_id,
                client,
                user_id: &user.user_id,
                audience: api.map(|api| api.identifier.as_str()),
                scope: &scope.to_string(),
                sid: &sid,
                auth_time: now,
                family_expires_at: None,
                dpop_jkt: binding.refresh,
            })
            .await?;
        Some(token.into_inner())
    } else {
        None
    };
    Ok(TokenResponse {
        user: Some(user.clone()),
        access_token: access.token,
        id_token,
        refresh_token: refresh,
        scope: Some(access.scope.to_string()),
        expires_in: access.expires_in,
        token_type: binding.token_type(),
        dpop_nonce: None,
    })
}
