//! Minting the tokens of every flow: access tokens (JWT for an API, opaque for `/userinfo`),
//! ID tokens and refresh tokens.

use portcullis_core::{
    authz,
    claims::{at_hash, rfc3339, AccessTokenClaims, Audience, IdTokenClaims, ProfileClaims},
    keys::TokenType,
    secrets::{lookup_hash, random_token},
};
use portcullis_store::{Client, OpaqueToken, RefreshToken, ResourceServer, User};

use crate::{error::OAuthError, state::AppState};

/// Lifetime of an opaque `/userinfo` token.
const OPAQUE_TOKEN_LIFETIME: i64 = 86_400;

/// An access token, its lifetime, and the scopes it carries (the request's, narrowed by the
/// API's access policies: what the token response reports).
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
    pub scopes: Vec<String>,
}

/// For whom and what an access token is.
pub struct AccessRequest<'a> {
    pub subject: &'a str,
    /// The user the token is for (`None` for machine tokens): the API's access policies apply.
    pub user: Option<&'a User>,
    pub client: &'a Client,
    pub api: Option<&'a ResourceServer>,
    pub scopes: &'a [String],
    /// Implicit flow: the browser lifetime of the API applies.
    pub for_browser: bool,
    /// `client-credentials` for machine tokens.
    pub grant_type: Option<&'static str>,
}

pub async fn access_token(
    state: &AppState,
    request: AccessRequest<'_>,
) -> Result<AccessToken, OAuthError> {
    let now = state.clock.now();
    let Some(api) = request.api else {
        let scope = request.scopes.join(" ");
        let token = random_token(32);
        state
            .store
            .insert_opaque_token(&OpaqueToken {
                token_hash: lookup_hash(&token),
                client_id: request.client.client_id.clone(),
                user_id: request.subject.to_owned(),
                scope,
                expires_at: now + OPAQUE_TOKEN_LIFETIME,
            })
            .await?;
        return Ok(AccessToken {
            token,
            expires_in: OPAQUE_TOKEN_LIFETIME,
            scopes: request.scopes.to_vec(),
        });
    };
    let client_id = &request.client.client_id;
    let (scopes, permissions) = match request.user {
        Some(user) => {
            let access = authz::UserAccess::load(state.store.as_ref(), user, api).await?;
            (
                authz::apply_user_policies(request.scopes, api, &access, user, client_id),
                authz::token_permissions(api, &access, user, client_id),
            )
        }
        None => (request.scopes.to_vec(), None),
    };
    let scope = scopes.join(" ");
    let lifetime = if request.for_browser {
        api.token_lifetime_for_web
    } else {
        api.token_lifetime
    };
    let audience = if request.grant_type.is_none() && request.scopes.iter().any(|s| s == "openid") {
        Audience::Many(vec![
            api.identifier.clone(),
            state.settings.userinfo_audience(),
        ])
    } else {
        Audience::One(api.identifier.clone())
    };
    let rfc9068 = api.token_dialect.starts_with("rfc9068");
    let claims = AccessTokenClaims {
        iss: state.settings.issuer.clone(),
        sub: request.subject.to_owned(),
        aud: audience,
        iat: now,
        exp: now + lifetime,
        azp: (!rfc9068).then(|| request.client.client_id.clone()),
        client_id: rfc9068.then(|| request.client.client_id.clone()),
        jti: rfc9068.then(|| random_token(16)),
        scope: (!scope.is_empty()).then_some(scope),
        gty: if rfc9068 {
            None
        } else {
            request.grant_type.map(str::to_owned)
        },
        permissions,
    };
    let typ = if rfc9068 {
        TokenType::AccessTokenJwt
    } else {
        TokenType::Jwt
    };
    let token = state.keys.current().ring.sign(typ, &claims)?;
    Ok(AccessToken {
        token,
        expires_in: lifetime,
        scopes,
    })
}

/// What an ID token says about its login.
pub struct IdTokenRequest<'a> {
    pub user: &'a User,
    pub client: &'a Client,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub sid: &'a str,
    /// Implicit flow with a token: `at_hash` is required (OIDC Core §3.2.2.10).
    pub access_token: Option<&'a str>,
}

pub fn id_token(state: &AppState, request: IdTokenRequest<'_>) -> Result<String, OAuthError> {
    let now = state.clock.now();
    let has = |scope: &str| request.scopes.iter().any(|s| s == scope);
    let user = request.user;
    let mut profile = ProfileClaims::default();
    if has("profile") {
        profile.name = Some(user.name.clone());
        profile.nickname = Some(user.nickname.clone());
        profile.picture = (!user.picture.is_empty()).then(|| user.picture.clone());
        profile.updated_at = Some(rfc3339(user.updated_at));
    }
    if has("email") {
        profile.email = Some(user.email.clone());
        profile.email_verified = Some(user.email_verified);
    }
    let claims = IdTokenClaims {
        iss: state.settings.issuer.clone(),
        sub: user.user_id.clone(),
        aud: request.client.client_id.clone(),
        iat: now,
        exp: now + request.client.id_token_lifetime,
        auth_time: Some(request.auth_time),
        nonce: request.nonce.map(str::to_owned),
        at_hash: request.access_token.map(at_hash),
        sid: Some(request.sid.to_owned()),
        profile,
    };
    Ok(state.keys.current().ring.sign(TokenType::Jwt, &claims)?)
}

/// A refresh token of `family_id` for the given login; returns the token to hand out.
pub struct RefreshRequest<'a> {
    pub family_id: &'a str,
    pub client: &'a Client,
    pub user_id: &'a str,
    pub audience: Option<&'a str>,
    pub scope: &'a str,
    pub sid: &'a str,
    pub auth_time: i64,
    /// Absolute end of the family; `None` starts a new family.
    pub family_expires_at: Option<i64>,
}

pub async fn refresh_token(
    state: &AppState,
    request: RefreshRequest<'_>,
) -> Result<String, OAuthError> {
    let now = state.clock.now();
    let policy = &request.client.refresh_token;
    let family_expires_at = request
        .family_expires_at
        .unwrap_or(now + policy.token_lifetime);
    let token = format!("v1.{}", random_token(48));
    state
        .store
        .insert_refresh_token(&RefreshToken {
            token_hash: lookup_hash(&token),
            family_id: request.family_id.to_owned(),
            client_id: request.client.client_id.clone(),
            user_id: request.user_id.to_owned(),
            audience: request.audience.map(str::to_owned),
            scope: request.scope.to_owned(),
            sid: request.sid.to_owned(),
            auth_time: request.auth_time,
            created_at: now,
            family_expires_at,
            idle_expires_at: (now + policy.idle_token_lifetime).min(family_expires_at),
            rotated_at: None,
            revoked: false,
        })
        .await?;
    Ok(token)
}
