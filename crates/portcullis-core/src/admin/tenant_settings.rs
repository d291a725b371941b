//! The tenant's settings (Auth0's `/api/v2/tenants/settings`): its flags, of which Portcullis
//! knows `enable_dynamic_client_registration`.

use portcullis_store::TenantFlags;
use serde_json::json;

use super::{Action, Actor, AdminError, Change, Context, Kind};

/// The tenant's flags.
pub async fn flags(cx: &Context) -> Result<TenantFlags, AdminError> {
    Ok(cx.store().tenant_flags().await?)
}

/// Changes to the flags: `None` leaves a flag as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlagChanges {
    pub enable_dynamic_client_registration: Option<bool>,
}

/// Applies `changes` and returns the flags as they now are.
pub async fn update_flags(
    cx: &Context,
    actor: &Actor,
    changes: FlagChanges,
) -> Result<TenantFlags, AdminError> {
    let mut flags = cx.store().tenant_flags().await?;
    if let Some(enabled) = changes.enable_dynamic_client_registration {
        flags.enable_dynamic_client_registration = enabled;
    }
    cx.store().set_tenant_flags(&flags).await?;
    cx.record(
        actor,
        Change::new(Action::Update, Kind::TenantSettings, "flags").with(json!({
            "flags": {
                "enable_dynamic_client_registration": flags.enable_dynamic_client_registration,
            }
        })),
    )
    .await;
    Ok(flags)
}
