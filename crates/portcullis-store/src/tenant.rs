//! The tenant's settings (Auth0's `/api/v2/tenants/settings`): the switches that turn tenant-wide
//! features on.

use async_trait::async_trait;

use crate::StoreResult;

/// The tenant's flags (Auth0's `flags` of the tenant settings). Every flag is off on a new
/// tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantFlags {
    /// Whether anyone may register an application at `/oidc/register` (RFC 7591; Auth0's "OIDC
    /// Dynamic Application Registration").
    pub enable_dynamic_client_registration: bool,
}

impl TenantFlags {
    /// The flags by their Auth0 names, for storing them one row each.
    pub fn named(&self) -> [(&'static str, bool); 1] {
        [(
            "enable_dynamic_client_registration",
            self.enable_dynamic_client_registration,
        )]
    }

    /// Sets the flag called `name`; false when no flag has that name (a row of a newer
    /// version is ignored rather than refused).
    pub fn set(&mut self, name: &str, enabled: bool) -> bool {
        match name {
            "enable_dynamic_client_registration" => {
                self.enable_dynamic_client_registration = enabled;
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// The tenant's flags (their defaults where none was ever set).
    async fn tenant_flags(&self) -> StoreResult<TenantFlags>;
    /// Stores every flag of `flags` at once.
    async fn set_tenant_flags(&self, flags: &TenantFlags) -> StoreResult<()>;
}
