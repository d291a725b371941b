//! The grants of the token endpoint.

use portcullis_core::{
    actions::event,
    audit, authz, pkce,
    secrets::{lookup_hash, random_token},
    tokens::{AccessRequest, IdTokenRequest, RefreshRequest},
};
use portcullis_store::{Client, Redeemed, RotationOutcome};
use portcullis_types::{EventType, GrantType, RotationType, Scope, Secret};

use super::{
    binding::Binding,
    request::{AuthenticatedClient, TokenRequest},
    TokenResponse,
};
use crate::routes::dpop::{self, Proof};
use crate::{
    actions,
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Runs the grant `request` asks for, for an authenticated client allowed to use it.
pub(super) async fn exchange(
    app: &AppState,
    authenticated: &AuthenticatedClient,
    request: TokenRequest,
    proof: Option<&Proof>,
    origin: &portcullis_core::audit::RequestOrigin,
) -> Result<TokenResponse, OAuthError> {
    let client = &authenticated.client;
    let binding = Binding::of(authenticated, proof);
    match request {
        TokenRequest::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            authorization_code(
                app,
                client,
                &code,
                redirect_uri.as_deref(),
                code_verifier.as_ref(),
                binding,
            )
            .await
        }
        TokenRequest::RefreshToken {
            refresh_token,
            scope,
            audience,
        } => {
            self::refresh_token(
                app,
                client,
                &refresh_token,
                scope,
                audience.as_deref(),
                binding,
                origin,
            )
            .await
        }
        TokenRequest::ClientCredentials { audience, scope } => {
            client_credentials(
                app,
                authenticated,
                &audience,
                scope.as_ref(),
                binding,
                origin,
            )
            .await
        }
        TokenRequest::Password {
            username,
            password,
            realm,
            audience,
            scope,
        } => {
            let grant = super::password::Grant {
                username: &username,
                password: &password,
                realm: realm.as_deref(),
                audience: audience.as_deref(),
                scope,
            };
            super::password::exchange(app, client, origin, grant, binding).await
        }
        TokenRequest::Mfa {
            mfa_token,
            code,
            recovery,
        } => {
            let proof = if recovery {
                portcullis_core::mfa::verify::Proof::RecoveryCode(code.expose_str())
            } else {
                portcullis_core::mfa::verify::Proof::Otp(code.expose_str())
            };
            super::mfa::exchange(app, client, origin, &mfa_token, proof, binding).await
        }
        TokenRequest::Unsupported(name) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("Unsupported grant type: {name}"),
        )),
    }
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

async fn authorization_code(
    app: &AppState,
    client: &Client,
    code: &Secret,
    redirect_uri: Option<&str>,
    code_verifier: Option<&Secret>,
    binding: Binding<'_>,
) -> Result<TokenResponse, OAuthError> {
    let code_hash = lookup_hash(code.expose_str());
    let stored = match app.store.redeem_code(&code_hash, app.clock.now()).await? {
        Redeemed::Fresh(stored) => stored,
        Redeemed::Replayed { family_id } => {
            // RFC 6749 §4.1.2: a replayed code revokes what it produced.
            if let Some(family_id) = family_id {
                app.store.revoke_family(&family_id).await?;
            }
            tracing::warn!(client_id = %client.client_id, "authorization code replayed");
            return Err(invalid_grant("Invalid authorization code"));
        }
        Redeemed::Invalid => return Err(invalid_grant("Invalid authorization code")),
    };
    if stored.client_id != client.client_id {
        return Err(invalid_grant("Invalid authorization code"));
    }
    if redirect_uri != Some(stored.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "Redirect URI does not match the one of the authorization request.",
        ));
    }
    match (
        &stored.code_challenge,
        code_verifier.map(Secret::expose_str),
    ) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("Failed to verify code verifier")),
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "Missing required parameter: code_verifier",
            ))
        }
        // A verifier without a challenge is a PKCE downgrade attempt (RFC 9700 §4.8).
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent but no code_challenge was used",
            ))
        }
        (None, None) => {}
    }
    if !portcullis_core::dpop::redeems_code(stored.dpop_jkt.as_deref(), binding.access) {
        return Err(invalid_grant(
            "The authorization code is bound to another DPoP key (dpop_jkt).",
        ));
    }
    let user = app
        .store
        .user_by_id(&stored.user_id)
        .await?
        .ok_or_else(|| invalid_grant("Invalid authorization code"))?;
    if user.blocked {
        return Err(invalid_grant("user is blocked"));
    }
    let api = match &stored.audience {
        Some(audience) => Some(
            app.tenant
                .api(app.store.as_ref(), audience)
                .await?
                .ok_or_else(|| invalid_grant("The API of this code no longer exists."))?,
        ),
        None => None,
    };
    // Stored when the code was issued, from a scope checked then.
    let scope = Scope::parse(&stored.scope).unwrap_or_default();
    // The login's post-login Actions ran when the code was issued: their result is the code's.
    let changes = actions::from_stored(stored.actions.as_ref())?;
    let minter = app.minter();
    let access = minter
        .access_token_with(
            AccessRequest {
                subject: &user.user_id,
                user: Some(&user),
                client,
                api: api.as_ref(),
                scope: &scope,
                for_browser: false,
                client_credentials: false,
                amr: &stored.amr,
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
                    user: &user,
                    client,
                    scope: &scope,
                    nonce: stored.nonce.as_deref(),
                    auth_time: stored.auth_time,
                    sid: &stored.sid,
                    access_token: None,
                    amr: &stored.amr,
                    acr: stored.acr.as_deref(),
                },
                &changes,
            )
        })
        .transpose()?;
    let refresh =
        if scope.contains("offline_access") && client.allows_grant(GrantType::RefreshToken) {
            let family_id = random_token(16);
            let token = minter
                .refresh_token(RefreshRequest {
                    family_id: &family_id,
                    client,
                    user_id: &user.user_id,
                    audience: stored.audience.as_deref(),
                    scope: &stored.scope,
                    sid: &stored.sid,
                    auth_time: stored.auth_time,
                    family_expires_at: None,
                    dpop_jkt: binding.refresh,
                })
                .await?;
            app.store.link_code_family(&code_hash, &family_id).await?;
            Some(token)
        } else {
            None
        };
    Ok(TokenResponse {
        user: Some(user),
        access_token: access.token,
        id_token,
        refresh_token: refresh.map(Secret::into_inner),
        scope: Some(access.scope.to_string()),
        expires_in: access.expires_in,
        token_type: binding.token_type(),
        dpop_nonce: None,
    })
}

/// Auth0's wording, which auth0-spa-js matches to fall back to silent authentication.
const INVALID_REFRESH_TOKEN: &str = "Unknown or invalid refresh token.";

async fn refresh_token(
    app: &AppState,
    client: &Client,
    presented: &Secret,
    requested: Option<Scope>,
    audience: Option<&str>,
    binding: Binding<'_>,
    origin: &portcullis_core::audit::RequestOrigin,
) -> Result<TokenResponse, OAuthError> {
    let now = app.clock.now();
    let hash = lookup_hash(presented.expose_str());
    // RFC 9449 §5: a bound refresh token is used only with a proof by its key, checked before
    // anything is rotated.
    if let Some(stored) = app.store.refresh_token_by_hash(&hash).await? {
        match (stored.dpop_jkt.as_deref(), binding.access) {
            (Some(bound), Some(presented)) if bound == presented => {}
            (Some(_), Some(_)) => {
                return Err(dpop::invalid(
                    "the refresh token is bound to another DPoP key",
                ))
            }
            (Some(_), None) => {
                return Err(dpop::invalid(
                    "the refresh token is bound to a DPoP key: a DPoP proof is required",
                ))
            }
            (None, _) => {}
        }
    }
    let policy = &client.refresh_token;
    // Auth0's non-rotating tokens are not exchanged for a successor: the same token stays
    // valid until its absolute or idle expiry, and each use moves the idle expiry forward.
    let rotates = policy.rotation_type == RotationType::Rotating;
    let outcome = if rotates {
        app.store
            .rotate_refresh_token(&hash, now, policy.leeway)
            .await?
    } else {
        let idle_expires_at = now.saturating_add(policy.idle_token_lifetime);
        app.store
            .keep_refresh_token(&hash, now, idle_expires_at, policy.leeway)
            .await?
    };
    let old = match outcome {
        RotationOutcome::Rotated(token)
        | RotationOutcome::ReusedWithinLeeway(token)
        | RotationOutcome::Kept(token) => token,
        RotationOutcome::ReuseDetected(token) => {
            tracing::warn!(client_id = %token.client_id, user_id = %token.user_id, "refresh token reuse detected: family revoked");
            app.audit(
                audit::entry(
                    EventType::RefreshReuse,
                    "Reused refresh token detected: its family was revoked",
                )
                .client(client)
                .user_id(&token.user_id)
                .details(serde_json::json!({ "family_id": token.family_id })),
            )
            .await;
            return Err(invalid_grant(INVALID_REFRESH_TOKEN));
        }
        RotationOutcome::Invalid => return Err(invalid_grant(INVALID_REFRESH_TOKEN)),
    };
    if old.client_id != client.client_id {
        app.store.revoke_family(&old.family_id).await?;
        return Err(invalid_grant(INVALID_REFRESH_TOKEN));
    }
    if let Some(audience) = audience {
        if Some(audience) != old.audience.as_deref() {
            return Err(OAuthError::invalid_request(
                "The audience does not match the refresh token's.",
            ));
        }
    }
    // Stored when the family began, from a scope checked then.
    let granted = Scope::parse(&old.scope).unwrap_or_default();
    let scope = match requested {
        Some(requested) => {
            if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("The scope {extra} was not granted to this refresh token."),
                ));
            }
            requested
        }
        None => granted,
    };
    let user = app
        .store
        .user_by_id(&old.user_id)
        .await?
        .ok_or_else(|| invalid_grant(INVALID_REFRESH_TOKEN))?;
    if user.blocked {
        app.store.revoke_family(&old.family_id).await?;
        return Err(invalid_grant("user is blocked"));
    }
    let api = match &old.audience {
        Some(audience) => Some(
            app.tenant
                .api(app.store.as_ref(), audience)
                .await?
                .ok_or_else(|| invalid_grant(INVALID_REFRESH_TOKEN))?,
        ),
        None => None,
    };
    // Auth0 runs the post-login Actions again at a refresh (`oauth2-refresh-token`).
    let changes = actions::post_login(
        app,
        actions::Login {
            client,
            api: api.as_ref(),
            user: &user,
            scope: &scope,
            protocol: event::protocol::REFRESH,
            redirect_uri: None,
            request: actions::request_info(app, origin, "POST", &[]),
            origin,
        },
    )
    .await?;
    // A refresh is not a login: an Action asking for a second factor here makes the client
    // finish with the MFA API, as Auth0 does (its advice: skip `oauth2-refresh-token`).
    if changes.owes_second_factor(&[]) {
        super::password::second_factor(app, client, &user, api.as_ref(), &scope, true).await?;
    }
    let minter = app.minter();
    let access = minter
        .access_token_with(
            AccessRequest {
                subject: &user.user_id,
                user: Some(&user),
                client,
                api: api.as_ref(),
                scope: &scope,
                for_browser: false,
                client_credentials: false,
                // Auth0 leaves `amr` out of refreshed tokens: a refresh is not a login.
                amr: &[],
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
                    user: &user,
                    client,
                    scope: &scope,
                    nonce: None,
                    auth_time: old.auth_time,
                    sid: &old.sid,
                    access_token: None,
                    amr: &[],
                    acr: None,
                },
                &changes,
            )
        })
        .transpose()?;
    let successor = if rotates {
        let token = minter
            .refresh_token(RefreshRequest {
                family_id: &old.family_id,
                client,
                user_id: &user.user_id,
                audience: old.audience.as_deref(),
                scope: &old.scope,
                sid: &old.sid,
                auth_time: old.auth_time,
                family_expires_at: Some(old.family_expires_at),
                // A family keeps the key it began with.
                dpop_jkt: old.dpop_jkt.as_deref(),
            })
            .await?;
        Some(token.into_inner())
    } else {
        None
    };
    Ok(TokenResponse {
        user: Some(user),
        access_token: access.token,
        id_token,
        refresh_token: successor,
        scope: Some(access.scope.to_string()),
        expires_in: access.expires_in,
        token_type: binding.token_type(),
        dpop_nonce: None,
    })
}

async fn client_credentials(
    app: &AppState,
    authenticated: &AuthenticatedClient,
    audience: &str,
    requested: Option<&Scope>,
    binding: Binding<'_>,
    origin: &portcullis_core::audit::RequestOrigin,
) -> Result<TokenResponse, OAuthError> {
    let client = &authenticated.client;
    if !authenticated.confidential {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client_credentials needs a confidential client.",
        ));
    }
    let api = app
        .tenant
        .api(app.store.as_ref(), audience)
        .await?
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::AccessDenied,
                format!("Service not found: {audience}"),
            )
        })?;
    let grant = app.tenant.grant(app.store.as_ref(), &client.client_id, audience).await?.ok_or_else(|| {
        OAuthError::new(
            ErrorCode::AccessDenied,
            format!("Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."),
        )
    })?;
    let scope = authz::machine_token_scopes(requested, &grant, &api);
    let subject = format!("{}@clients", client.client_id);
    let info = actions::request_info(app, origin, "POST", &[]);
    let changes = actions::credentials_exchange(app, client, &api, &scope, info, origin).await?;
    let access = app
        .minter()
        .access_token_with(
            AccessRequest {
                subject: &subject,
                user: None,
                client,
                api: Some(&api),
                scope: &scope,
                for_browser: false,
                client_credentials: true,
                amr: &[],
                dpop_jkt: binding.access,
            },
            &changes,
        )
        .await?;
    Ok(TokenResponse {
        user: None,
        access_token: access.token,
        id_token: None,
        refresh_token: None,
        scope: (!scope.is_empty()).then(|| scope.to_string()),
        expires_in: access.expires_in,
        token_type: binding.token_type(),
        dpop_nonce: None,
    })
}
