//! Who is calling: a Bearer access token this server issued for the Management API (audience
//! `ISSUER + "api/v2/"`) through the client-credentials grant, and the scopes it carries.

use std::sync::{Arc, OnceLock};

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use portcullis_core::{
    admin::Actor,
    audit::RequestOrigin,
    keys::{Verification, VerifyError},
};
use portcullis_store::Client;
use portcullis_types::Scope as ScopeSet;
use portcullis_web::ClientOrigin;

use super::errors::ApiError;
use crate::state::AdminState;

/// An authenticated caller of the Management API.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The machine-to-machine client the token was issued to.
    pub client: Client,
    pub scope: ScopeSet,
    /// The client's address and the request's `User-Agent`, for the audit log.
    pub origin: RequestOrigin,
}

impl Caller {
    /// Passes when the token carries any of `expected`; otherwise Auth0's 403
    /// `insufficient_scope`.
    pub fn require(&self, expected: &[&str]) -> Result<(), ApiError> {
        if expected.iter().any(|wanted| self.scope.contains(wanted)) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(expected))
        }
    }

    /// Who the caller is, to the administrative operations and the audit log.
    pub fn actor(&self) -> Actor {
        Actor::ManagementApi {
            client_id: self.client.client_id.clone(),
            client_name: self.client.name.clone(),
            origin: self.origin.clone(),
        }
    }
}

/// The caller, once the [`Caller`] extractor has verified its token; read by
/// the failed-write log (`audit::record_failures`) after the handler has answered.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<Caller>>);

impl CallerSlot {
    pub fn fill(&self, caller: &Caller) {
        let _ = self.0.set(caller.clone());
    }

    pub fn get(&self) -> Option<&Caller> {
        self.0.get()
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::unauthorized("invalid_token", message)
}

impl FromRequestParts<AdminState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AdminState) -> Result<Self, ApiError> {
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
        let audience = app.settings.management_audience();
        let expected = Verification {
            issuer: &app.settings.issuer,
            audience: &audience,
            now: app.clock().now(),
        };
        let claims =
            app.keys
                .verify_access_token(token, expected)
                .map_err(|error| match error {
                    VerifyError::Audience => invalid(&format!("Bad audience: expected {audience}")),
                    VerifyError::Issuer => invalid("Bad issuer"),
                    VerifyError::Expired => {
                        invalid("Expired token received for JSON Web Token validation")
                    }
                    _ => invalid("Invalid token"),
                })?;
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
        // A deleted client's tokens stop working at once, and so do the tokens of a client
        // whose grant for this API was removed; a narrowed grant narrows them. Two store
        // reads per call: the Management API is not the hot path, and the server's tenant
        // cache could serve a grant that another replica has just removed.
        let (client, grant) = tokio::try_join!(
            app.store().client_by_id(&client_id),
            app.store().client_grant_for(&client_id, &audience),
        )?;
        let (Some(client), Some(grant)) = (client, grant) else {
            return Err(invalid("Invalid token"));
        };
        // Our own token: its scope was valid when minted.
        let minted =
            ScopeSet::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
        let caller = Caller {
            client,
            scope: minted.filter(|scope| grant.scope.iter().any(|g| g == scope.as_str())),
            origin: ClientOrigin::of(parts).0,
        };
        if let Some(slot) = parts.extensions.get::<CallerSlot>() {
            slot.fill(&caller);
        }
        Ok(caller)
    }
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

impl<S: Scope> FromRequestParts<AdminState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AdminState) -> Result<Self, ApiError> {
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
    ReadGrants => ["read:grants"];
    DeleteGrants => ["delete:grants"];
    ReadConnections => ["read:connections"];
    UpdateConnections => ["update:connections"];
    CreateConnections => ["create:connections"];
    DeleteConnections => ["delete:connections"];
    ReadEmailTemplates => ["read:email_templates"];
    CreateEmailTemplates => ["create:email_templates"];
    UpdateEmailTemplates => ["update:email_templates"];
    CreateUserTickets => ["create:user_tickets"];
    ReadGuardianFactors => ["read:guardian_factors"];
    UpdateGuardianFactors => ["update:guardian_factors"];
    ReadMfaPolicies => ["read:mfa_policies"];
    UpdateMfaPolicies => ["update:mfa_policies"];
    ReadAuthenticationMethods => ["read:authentication_methods"];
    DeleteAuthenticationMethods => ["delete:authentication_methods"];
    DeleteGuardianEnrollments => ["delete:guardian_enrollments"];
    ReadTenantSettings => ["read:tenant_settings"];
    UpdateTenantSettings => ["update:tenant_settings"];
    ReadActions => ["read:actions"];
    CreateActions => ["create:actions"];
    UpdateActions => ["update:actions"];
    // Auth0 documents deployment under `create:actions` (a version is created); an
    // application granted `update:actions` to change the draft may deploy it too.
    DeployActions => ["create:actions", "update:actions"];
    DeleteActions => ["delete:actions"];
}
