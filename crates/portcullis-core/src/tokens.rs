//! Minting the tokens of every flow: access tokens (a JWT for an API, an opaque token for
//! `/userinfo` alone), ID tokens and refresh tokens. The token endpoint, `/authorize` and the
//! dashboard's Test tab all mint through [`Minter`], so a token looks the same whoever asks.

use portcullis_store::{
    Client, OpaqueToken, RefreshToken, ResourceServer, Store, StoreError, User,
};
use portcullis_types::{AuthMethod, Scope, Secret};

use crate::{
    actions::TokenChanges,
    authz,
    claims::{at_hash, AccessTokenClaims, Audience, Confirmation, IdTokenClaims, ProfileClaims},
    keys::{open_api_secret, KeyCache, KeyCipher, KeyError, TokenType},
    secrets::{lookup_hash, random_token},
    Clock,
};

/// Lifetime of an opaque `/userinfo` token.
const OPAQUE_TOKEN_LIFETIME: i64 = 86_400;

/// The `gty` claim of machine-to-machine tokens.
const CLIENT_CREDENTIALS_GTY: &str = "client-credentials";

/// Why a token could not be minted: always our failure.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The claims an Action set could not be added to the token's.
    #[error("claims: {0}")]
    Claims(String),
}

/// What minting needs: the store (opaque and refresh tokens, access policies), the clock, the
/// signing keys and the issuer.
#[derive(Clone, Copy)]
pub struct Minter<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub keys: &'a KeyCache,
    /// Opens the signing secrets of HS256 APIs.
    pub cipher: &'a KeyCipher,
    /// With its trailing slash, as in every token.
    pub issuer: &'a str,
}

/// An access token, its lifetime, and the scopes it carries (the request's, narrowed by the
/// API's access policies: what the token response reports).
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
    pub scope: Scope,
}

/// For whom and what an access token is.
pub struct AccessRequest<'a> {
    pub subject: &'a str,
    /// The user the token is for (`None` for machine tokens): the API's access policies apply.
    pub user: Option<&'a User>,
    pub client: &'a Client,
    pub api: Option<&'a ResourceServer>,
    pub scope: &'a Scope,
    /// Implicit flow: the browser lifetime of the API applies.
    pub for_browser: bool,
    /// A client_credentials token (`gty: client-credentials`, never `/userinfo`).
    pub client_credentials: bool,
    /// The login's methods: the token carries them as `amr` once they include `mfa`, as
    /// Auth0's do (empty for machine tokens and refreshes).
    pub amr: &'a [AuthMethod],
    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`), if any.
    pub dpop_jkt: Option<&'a str>,
}

/// What an ID token says about its login.
pub struct IdTokenRequest<'a> {
    pub user: &'a User,
    pub client: &'a Client,
    pub scope: &'a Scope,
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub sid: &'a str,
    /// Implicit flow with a token: `at_hash` is required (OIDC Core §3.2.2.10).
    pub access_token: Option<&'a str>,
    /// The login's methods (see [`AccessRequest::amr`]).
    pub amr: &'a [AuthMethod],
    /// The `acr` the request asked for and the login met.
    pub acr: Option<&'a str>,
}

/// A refresh token of `family_id` for the given login.
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
    /// The DPoP key the family is bound to (a public client's), if any.
    pub dpop_jkt: Option<&'a str>,
}

impl Minter<'_> {
    /// The audience of the `/userinfo` endpoint inside access tokens.
    pub fn userinfo_audience(&self) -> String {
        format!("{}userinfo", self.issuer)
    }

    pub async fn access_token(&self, request: AccessRequest<'_>) -> Result<AccessToken, MintError> {
        self.access_token_with(request, &TokenChanges::default())
            .await
    }

    /// An access token with what the transaction's Actions set: their scope changes (before
    /// the API's access policies, which still apply) and custom claims (never replacing one of
    /// ours).
    pub async fn access_token_with(
        &self,
        mut request: AccessRequest<'_>,
        changes: &TokenChanges,
    ) -> Result<AccessToken, MintError> {
        let changed_scope;
        if !changes.add_scopes.is_empty() || !changes.remove_scopes.is_empty() {
            changed_scope = changes.scope(request.scope);
            request.scope = &changed_scope;
        }
        let now = self.clock.now();
        let Some(api) = request.api else {
            let token = random_token(32);
            self.store
                .insert_opaque_token(&OpaqueToken {
                    token_hash: lookup_hash(&token),
                    client_id: request.client.client_id.clone(),
                    user_id: request.subject.to_owned(),
                    scope: request.scope.to_string(),
                    expires_at: now + OPAQUE_TOKEN_LIFETIME,
                })
                .await?;
            return Ok(AccessToken {
                token,
                expires_in: OPAQUE_TOKEN_LIFETIME,
                scope: request.scope.clone(),
            });
        };
        let client_id = &request.client.client_id;
        let (scope, permissions) = match request.user {
            Some(user) => {
                let access = authz::UserAccess::load(self.store, user, api).await?;
                (
                    authz::apply_user_policies(request.scope, api, &access, user, client_id),
                    authz::token_permissions(api, &access, user, client_id),
                )
            }
            None => (request.scope.clone(), None),
        };
        let lifetime = if request.for_browser {
            api.token_lifetime_for_web
        } else {
            api.token_lifetime
        };
        // `/userinfo` verifies with the key ring only: an HS256 API's token, signed with that
        // API's secret, is for the API alone (as at Auth0).
        let audience = if !request.client_credentials
            && request.scope.contains("openid")
            && !api.signing_alg.is_symmetric()
        {
            Audience::Many(vec![api.identifier.clone(), self.userinfo_audience()])
        } else {
            Audience::One(api.identifier.clone())
        };
        let rfc9068 = api.token_dialect.is_rfc9068();
        let claims = AccessTokenClaims {
            iss: self.issuer.to_owned(),
            sub: request.subject.to_owned(),
            aud: audience,
            iat: now,
            exp: now + lifetime,
            azp: (!rfc9068).then(|| client_id.clone()),
            client_id: rfc9068.then(|| client_id.clone()),
            jti: rfc9068.then(|| random_token(16)),
            scope: (!scope.is_empty()).then(|| scope.to_string()),
            gty: (!rfc9068 && request.client_credentials)
                .then(|| CLIENT_CREDENTIALS_GTY.to_owned()),
            permissions,
            amr: amr_claim(request.amr),
            cnf: request.dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        let typ = if rfc9068 {
            TokenType::AccessTokenJwt
        } else {
            TokenType::Jwt
        };
        let secret = match &api.signing_secret {
            Some(sealed) if api.signing_alg.is_symmetric() => {
                Some(open_api_secret(self.cipher, &api.id, sealed)?)
            }
            _ => None,
        };
        let claims = with_custom(&claims, &changes.access_claims)?;
        let token =
            self.keys
                .current()
                .ring
                .sign_with(api.signing_alg, typ, &claims, secret.as_ref())?;
        Ok(AccessToken {
            token,
            expires_in: lifetime,
            scope,
        })
    }

    pub fn id_token(&self, request: IdTokenRequest<'_>) -> Result<String, MintError> {
        self.id_token_with(request, &TokenChanges::default())
    }

    /// An ID token with the custom claims the transaction's Actions set.
    pub fn id_token_with(
        &self,
        request: IdTokenRequest<'_>,
        changes: &TokenChanges,
    ) -> Result<String, MintError> {
        let now = self.clock.now();
        let user = request.user;
        let profile = ProfileClaims::released(user, request.scope);
        let claims = IdTokenClaims {
            iss: self.issuer.to_owned(),
            sub: user.user_id.clone(),
            aud: request.client.client_id.clone(),
            iat: now,
            exp: now + request.client.id_token_lifetime,
            auth_time: Some(request.auth_time),
            nonce: request.nonce.map(str::to_owned),
            at_hash: request.access_token.map(at_hash),
            sid: Some(request.sid.to_owned()),
            amr: amr_claim(request.amr),
            acr: request.acr.map(str::to_owned),
            profile,
        };
        let claims = with_custom(&claims, &changes.id_claims)?;
        Ok(self.keys.current().ring.sign(TokenType::Jwt, &claims)?)
    }

    /// Stores a refresh token (by its hash) and returns it.
    pub async fn refresh_token(&self, request: RefreshRequest<'_>) -> Result<Secret, MintError> {
        let now = self.clock.now();
        let policy = &request.client.refresh_token;
        let family_expires_at = request
            .family_expires_at
            .unwrap_or(now + policy.token_lifetime);
        let token = format!("v1.{}", random_token(48));
        self.store
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
                dpop_jkt: request.dpop_jkt.map(str::to_owned),
            })
            .await?;
        Ok(Secret::new(token))
    }
}

/// `claims` as JSON with `custom` added where they do not name one of ours.
fn with_custom<T: serde::Serialize>(
    claims: &T,
    custom: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value, MintError> {
    let value =
        serde_json::to_value(claims).map_err(|error| MintError::Claims(error.to_string()))?;
    Ok(crate::actions::claims::merged(value, custom))
}

/// The `amr` claim of a login: present once it used more than one factor (Auth0 leaves it out
/// of a password-only login's tokens), listing `mfa` with the methods.
fn amr_claim(amr: &[AuthMethod]) -> Option<Vec<String>> {
    amr.contains(&AuthMethod::Mfa).then(|| {
        amr.iter()
            .map(|method| method.as_str().to_owned())
            .collect()
    })
}
