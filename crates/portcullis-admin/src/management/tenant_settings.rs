//! `/tenants/settings`: the tenant's settings in Auth0's shape. Portcullis keeps one of them,
//! the flag `enable_dynamic_client_registration` (RFC 7591 registration at `/oidc/register`).

use axum::{extract::State, Json};
use portcullis_core::admin::tenant_settings::{self, FlagChanges};
use portcullis_store::TenantFlags;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::{Authorized, ReadTenantSettings, UpdateTenantSettings},
    errors::{ApiError, Auth0Body, Body, ErrorBody},
};
use crate::state::AdminState;

/// The tenant's flags.
#[derive(Debug, Serialize, ToSchema)]
pub struct Flags {
    /// Whether applications may register themselves at `/oidc/register` (RFC 7591).
    pub enable_dynamic_client_registration: bool,
}

/// The tenant's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantSettings {
    pub flags: Flags,
}

impl From<TenantFlags> for TenantSettings {
    fn from(flags: TenantFlags) -> Self {
        TenantSettings {
            flags: Flags {
                enable_dynamic_client_registration: flags.enable_dynamic_client_registration,
            },
        }
    }
}

/// Changes to the flags.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsUpdate {
    pub enable_dynamic_client_registration: Option<bool>,
}

/// The body of `PATCH /tenants/settings`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub flags: Option<FlagsUpdate>,
}

impl Auth0Body for SettingsUpdate {
    const IGNORED: &'static [&'static str] = &[
        "friendly_name",
        "picture_url",
        "support_email",
        "support_url",
    ];
}

/// Read the tenant's settings.
#[utoipa::path(
    get, path = "/tenants/settings", tag = "tenants",
    responses(
        (status = 200, description = "The tenant's settings", body = TenantSettings),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:tenant_settings"]))
)]
pub async fn get(
    State(app): State<AdminState>,
    _auth: Authorized<ReadTenantSettings>,
) -> Result<Json<TenantSettings>, ApiError> {
    Ok(Json(tenant_settings::flags(&app.cx).await?.into()))
}

/// Update the tenant's settings.
#[utoipa::path(
    patch, path = "/tenants/settings", tag = "tenants",
    request_body = SettingsUpdate,
    responses(
        (status = 200, description = "The tenant's settings", body = TenantSettings),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:tenant_settings"]))
)]
pub async fn patch(
    State(app): State<AdminState>,
    auth: Authorized<UpdateTenantSettings>,
    Body(body): Body<SettingsUpdate>,
) -> Result<Json<TenantSettings>, ApiError> {
    let flags = body.flags.unwrap_or_default();
    let changes = FlagChanges {
        enable_dynamic_client_registration: flags.enable_dynamic_client_registration,
    };
    let flags = tenant_settings::update_flags(&app.cx, &auth.caller.actor(), changes).await?;
    Ok(Json(flags.into()))
}
