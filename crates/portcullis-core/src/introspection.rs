//! Token introspection (RFC 7662): whether a token this server issued is active, and what it
//! says. Access tokens are JWTs (verified with the key ring, or an HS256 API's secret, by the
//! one verifier of our tokens) or opaque `/userinfo` tokens (looked up by their hash); refresh
//! tokens are looked up by their hash. Anything else, expired, revoked or unknown, is
//! `active: false` and nothing more, so a caller learns nothing about tokens it may not see.

use portcullis_store::{Client, StoreError};
use portcullis_types::SigningAlg;
use serde::Serialize;

use crate::{
    claims::{AccessTokenClaims, Audience},
    keys::{open_api_secret, token_algorithm, Verification},
    secrets::lookup_hash,
    tokens::Minter,
};

/// The answer of the introspection endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    fn inactive() -> Self {
        Introspection::default()
    }
}

/// Introspects `token` for `caller`, a client that authenticated with its secret. Access
/// tokens are described to any such client (a resource server's own client, typically: a JWT
/// says the same to anyone holding the public keys); a refresh token only to the client it
/// was issued to, as at revocation.
pub async fn introspect(
    issued: &Minter<'_>,
    caller: &Client,
    token: &str,
) -> Result<Introspection, StoreError> {
    if token.split('.').count() == 3 {
        return Ok(jwt(issued, token)
            .await?
            .unwrap_or_else(Introspection::inactive));
    }
    let now = issued.clock.now();
    let hash = lookup_hash(token);
    if let Some(opaque) = issued.store.opaque_token_by_hash(&hash, now).await? {
        return Ok(Introspection {
            active: true,
            scope: Some(opaque.scope),
            client_id: Some(opaque.client_id),
            token_type: Some("Bearer"),
            exp: Some(opaque.expires_at),
            sub: Some(opaque.user_id),
            aud: Some(Audience::One(issued.userinfo_audience())),
            iss: Some(issued.issuer.to_owned()),
            ..Introspection::default()
        });
    }
    if let Some(refresh) = issued.store.refresh_token_by_hash(&hash).await? {
        let live = !refresh.revoked
            && refresh.rotated_at.is_none()
            && refresh.idle_expires_at > now
            && refresh.family_expires_at > now;
        if live && refresh.client_id == caller.client_id {
            return Ok(Introspection {
                active: true,
                scope: Some(refresh.scope),
                client_id: Some(refresh.client_id),
                token_type: Some("refresh_token"),
                exp: Some(refresh.idle_expires_at.min(refresh.family_expires_at)),
                iat: Some(refresh.created_at),
                sub: Some(refresh.user_id),
                aud: refresh.audience.map(Audience::One),
                iss: Some(issued.issuer.to_owned()),
                ..Introspection::default()
            });
        }
    }
    Ok(Introspection::inactive())
}

/// A JWT access token of ours: its audience must be one of our APIs (or `/userinfo`), and it
/// must verify as that API's tokens do. `None` when it does not.
async fn jwt(issued: &Minter<'_>, token: &str) -> Result<Option<Introspection>, StoreError> {
    let Some(alg) = token_algorithm(token) else {
        return Ok(None);
    };
    // The audience is read before the signature is checked only to know which API's rules to
    // verify with; nothing of it is believed until one of them verifies.
    let Ok(unverified) =
        jsonwebtoken::dangerous::insecure_decode_claims::<UnverifiedAudience>(token)
    else {
        return Ok(None);
    };
    let candidates = match unverified.aud {
        Audience::One(one) => vec![one],
        Audience::Many(many) => many,
    };
    let keys = issued.keys;
    for audience in candidates.iter().take(MAX_AUDIENCES) {
        let expected = Verification {
            issuer: issued.issuer,
            audience,
            now: issued.clock.now(),
        };
        let verified = if alg == SigningAlg::HS256 {
            let Some(api) = issued.store.resource_server_by_identifier(audience).await? else {
                continue;
            };
            let (SigningAlg::HS256, Some(sealed)) = (api.signing_alg, &api.signing_secret) else {
                continue;
            };
            let Ok(secret) = open_api_secret(issued.cipher, &api.id, sealed) else {
                continue;
            };
            keys.verify_hs256_access_token(token, &secret, expected)
        } else {
            if *audience != issued.userinfo_audience()
                && issued
                    .store
                    .resource_server_by_identifier(audience)
                    .await?
                    .is_none_or(|api| api.signing_alg != alg)
            {
                continue;
            }
            keys.verify_access_token(token, expected)
        };
        if let Ok(claims) = verified {
            return Ok(Some(described(claims)));
        }
    }
    Ok(None)
}

/// The most audiences of one token looked at (ours carry one or two).
const MAX_AUDIENCES: usize = 4;

#[derive(serde::Deserialize)]
struct UnverifiedAudience {
    aud: Audience,
}

fn described(claims: AccessTokenClaims) -> Introspection {
    Introspection {
        active: true,
        scope: claims.scope,
        client_id: claims.client_id.or(claims.azp),
        token_type: Some("Bearer"),
        exp: Some(claims.exp),
        iat: Some(claims.iat),
        sub: Some(claims.sub),
        aud: Some(claims.aud),
        iss: Some(claims.iss),
        jti: claims.jti,
    }
}
