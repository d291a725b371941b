//! Who is calling: a Bearer access token this server issued for the Management API (audience
//! `ISSUER + "api/v2/"`) through the client-credentials grant, and the scopes it carries.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use jsonwebtoken::{Algorithm, Validation};
use portcullis_core::{claims::AccessTokenClaims, scope};
use portcullis_store::Client;

use super::errors::ApiError;
use crate::state::AppState;

/// Access tokens beyond this size are refused before any parsing.
const MAX_TOKEN_BYTES: usize = 8192;

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY: i64 = 30;

/// An authenticated caller of the Management API.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The machine-to-machine client the token was issued to.
    pub client: Client,
    pub scopes: Vec<String>,
    /// The peer address and the request's `User-Agent`, for the audit log.
    pub ip: Option<IpAddr>,
    pub user_agent: HeaderMap,
}

impl Caller {
    /// Passes when the token carries any of `expected`; otherwise Auth0's 403
    /// `insufficient_scope`.
    pub fn require(&self, expected: &[&str]) -> Result<(), ApiError> {
        if expected
            .iter()
            .any(|wanted| self.scopes.iter().any(|held| held == wanted))
        {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(expected))
        }
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::unauthorized("invalid_token", message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing_authentication",
                "Missing authentication",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| invalid("Bad HTTP authentication header format"))?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("Invalid token"));
        }
        let claims = verify(app, token)?;
        // Only machine tokens from the client-credentials grant administer the tenant: a
        // user's token for this audience (which /authorize could mint) is refused.
        let client_id = claims.azp.clone().unwrap_or_default();
        if claims.gty.as_deref() != Some("client-credentials")
            || claims.sub != format!("{client_id}@clients")
        {
            return Err(invalid(
                "Only client-credentials tokens may call the Management API",
            ));
        }
        // A deleted client's tokens stop working at once.
        let Some(client) = app.store.client_by_id(&client_id).await? else {
            return Err(invalid("Invalid token"));
        };
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|peer| peer.0.ip());
        let mut user_agent = HeaderMap::new();
        if let Some(agent) = parts.headers.get(header::USER_AGENT) {
            user_agent.insert(header::USER_AGENT, agent.clone());
        }
        let caller = Caller {
            client,
            scopes: scope::parse(claims.scope.as_deref().unwrap_or_default()),
            ip,
            user_agent,
        };
        if let Some(slot) = parts.extensions.get::<super::audit::CallerSlot>() {
            slot.fill(&caller);
        }
        Ok(caller)
    }
}

/// Checks signature (RS256, by kid, with the server's own key ring), issuer, audience and
/// expiry (against the server's clock).
fn verify(app: &AppState, token: &str) -> Result<AccessTokenClaims, ApiError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("Invalid token"))?;
    if header.alg != Algorithm::RS256 {
        return Err(invalid("Invalid token"));
    }
    let kid = header.kid.ok_or_else(|| invalid("Invalid token"))?;
    let keys = app.keys.current();
    let key = keys
        .decoding
        .iter()
        .find(|(k, _)| *k == kid)
        .map(|(_, key)| key)
        .ok_or_else(|| invalid("Invalid token"))?;
    let audience = super::audience(&app.settings);
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&app.settings.issuer]);
    validation.set_audience(&[&audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Expiry is checked below against our clock, which may be a test clock.
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<AccessTokenClaims>(token, key, &validation).map_err(|error| {
            match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                    invalid(&format!("Bad audience: expected {audience}"))
                }
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => invalid("Bad issuer"),
                _ => invalid("Invalid token"),
            }
        })?;
    if data.claims.exp + LEEWAY < app.clock.now() {
        return Err(invalid(
            "Expired token received for JSON Web Token validation",
        ));
    }
    Ok(data.claims)
}

/// A set of scopes of which a route needs any one.
pub trait Scope: Send + Sync + 'static {
    const ANY_OF: &'static [&'static str];
}

/// A caller holding any scope of `S`, checked before the body is read.
pub struct Authorized<S: Scope> {
    pub caller: Caller,
    _scope: std::marker::PhantomData<S>,
}

impl<S: Scope> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, app).await?;
        caller.require(S::ANY_OF)?;
        Ok(Authorized {
            caller,
            _scope: std::marker::PhantomData,
        })
    }
}

macro_rules! scopes {
    ($($name:ident => [$($scope:literal),+];)*) => {
        $(
            #[doc = concat!("Any of: ", $("`", $scope, "` "),+)]
            pub struct $name;
            impl Scope for $name {
                const ANY_OF: &'static [&'static str] = &[$($scope),+];
            }
        )*
    };
}

scopes! {
    ReadResourceServers => ["read:resource_servers"];
    CreateResourceServers => ["create:resource_servers"];
    UpdateResourceServers => ["update:resource_servers"];
    DeleteResourceServers => ["delete:resource_servers"];
    ReadClients => ["read:clients"];
    CreateClients => ["create:clients"];
    UpdateClients => ["update:clients"];
    DeleteClients => ["delete:clients"];
    UpdateClientKeys => ["update:client_keys"];
    ReadClientGrants => ["read:client_grants"];
    CreateClientGrants => ["create:client_grants"];
    UpdateClientGrants => ["update:client_grants"];
    DeleteClientGrants => ["delete:client_grants"];
    ReadUsers => ["read:users"];
    CreateUsers => ["create:users"];
    UpdateUsers => ["update:users"];
    DeleteUsers => ["delete:users"];
    ReadRoles => ["read:roles"];
    CreateRoles => ["create:roles"];
    UpdateRoles => ["update:roles"];
    DeleteRoles => ["delete:roles"];
    ReadRoleMembers => ["read:users", "read:roles", "read:role_members"];
    AssignRoleMembers => ["update:roles", "create:role_members"];
    AssignUserRoles => ["update:users", "create:role_members"];
    RemoveUserRoles => ["update:users", "delete:role_members"];
    ReadLogs => ["read:logs"];
}
