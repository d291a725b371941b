//! `/guardian` and a user's `/authentication-methods`: the tenant's second factors and MFA
//! policy, and a user's enrolled factors, in Auth0's shapes. The WebAuthn factors can be
//! enabled and are stored; their enrolment and sign-in come with the passkey pages.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::{admin::mfa, claims::rfc3339, mfa::webauthn::PASSKEY_TYPE};
use portcullis_store::MfaOwner;
use portcullis_types::{MfaFactor, MfaPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::{
        Authorized, DeleteAuthenticationMethods, DeleteGuardianEnrollments,
        ReadAuthenticationMethods, ReadGuardianFactors, ReadMfaPolicies, UpdateGuardianFactors,
        UpdateMfaPolicies,
    },
    errors::{ApiError, Auth0Body, Body, ErrorBody, Id, IdPair},
};
use crate::state::AdminState;

/// A factor and whether the tenant enables it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Factor {
    /// `otp`, `recovery-code`, `webauthn-roaming` or `webauthn-platform`.
    pub name: String,
    pub enabled: bool,
    /// Always false: no factor here has a trial.
    pub trial_expired: bool,
}

/// The body of `PUT /guardian/factors/{name}`, and its answer.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorState {
    pub enabled: bool,
}

impl Auth0Body for FactorState {}

/// The body of `PUT /guardian/policies`: `[]` or `["all-applications"]`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Policies(pub Vec<MfaPolicy>);

impl Auth0Body for Policies {}

/// One of a user's enrolled factors.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticationMethod {
    /// `totp|dev_...`, `recovery-code|dev_...`.
    pub id: String,
    /// `totp`, `recovery-code`, `webauthn-roaming`, `webauthn-platform`, `passkey`.
    #[serde(rename = "type")]
    pub kind: String,
    pub confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_auth_at: Option<String>,
    /// Recovery codes: how many are left unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unused_codes: Option<u64>,
    /// WebAuthn keys: the credential's id, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// WebAuthn keys: `multi_device` (a synced passkey) or `single_device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_device_type: Option<String>,
    /// WebAuthn keys: whether the credential is backed up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_backed_up: Option<bool>,
    /// WebAuthn keys: the transports the browser reported at registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
    /// A passkey a person signed up with: the id of the identity it signs in to (the user id
    /// without its `auth0|` provider).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_user_id: Option<String>,
}

impl From<mfa::Method> for AuthenticationMethod {
    fn from(method: mfa::Method) -> Self {
        let kind = method.type_name().to_owned();
        let key = method.key();
        let identity_user_id = match (&method.authenticator.owner, kind.as_str()) {
            (MfaOwner::User(user_id), PASSKEY_TYPE) => {
                user_id.split_once('|').map(|(_, id)| id.to_owned())
            }
            _ => None,
        };
        let a = method.authenticator;
        AuthenticationMethod {
            id: a.id,
            kind,
            confirmed: a.confirmed,
            name: a.name,
            created_at: rfc3339(a.created_at),
            last_auth_at: a.last_used_at.map(rfc3339),
            unused_codes: method.unused_codes,
            key_id: key.as_ref().map(|key| key.key_id.clone()),
            credential_device_type: key
                .as_ref()
                .map(|key| key.credential_device_type.to_owned()),
            credential_backed_up: key.as_ref().map(|key| key.credential_backed_up),
            transports: key.and_then(|key| key.transports),
            identity_user_id,
        }
    }
}

/// The factor a path names; an unknown one is Auth0's 404.
fn factor(name: &str) -> Result<MfaFactor, ApiError> {
    name.parse()
        .map_err(|_| ApiError::not_found("inexistent_factor", "The factor does not exist"))
}

/// List the factors and whether each is enabled.
#[utoipa::path(
    get, path = "/guardian/factors", tag = "guardian",
    responses(
        (status = 200, description = "The factors", body = Vec<Factor>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:guardian_factors"]))
)]
pub async fn list_factors(
    State(app): State<AdminState>,
    _auth: Authorized<ReadGuardianFactors>,
) -> Result<Json<Vec<Factor>>, ApiError> {
    let settings = mfa::settings(&app.cx).await?;
    Ok(Json(
        MfaFactor::ALL
            .iter()
            .map(|factor| Factor {
                name: factor.as_str().to_owned(),
                enabled: settings.is_enabled(*factor),
                trial_expired: false,
            })
            .collect(),
    ))
}

/// Enable or disable a factor.
#[utoipa::path(
    put, path = "/guardian/factors/{id}", tag = "guardian",
    params(("id" = String, Path, description = "otp, recovery-code, webauthn-roaming or webauthn-platform")),
    request_body = FactorState,
    responses(
        (status = 200, description = "The factor's state", body = FactorState),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["update:guardian_factors"]))
)]
pub async fn update_factor(
    State(app): State<AdminState>,
    auth: Authorized<UpdateGuardianFactors>,
    Id(name): Id,
    Body(body): Body<FactorState>,
) -> Result<Json<FactorState>, ApiError> {
    let factor = factor(&name)?;
    mfa::set_factor(&app.cx, &auth.caller.actor(), factor, body.enabled).await?;
    Ok(Json(body))
}

/// The tenant's MFA policy: `[]` (users who enrolled, or when the application asks) or
/// `["all-applications"]` (every login).
#[utoipa::path(
    get, path = "/guardian/policies", tag = "guardian",
    responses(
        (status = 200, description = "The policies", body = Vec<String>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["read:mfa_policies"]))
)]
pub async fn get_policies(
    State(app): State<AdminState>,
    _auth: Authorized<ReadMfaPolicies>,
) -> Result<Json<Vec<MfaPolicy>>, ApiError> {
    Ok(Json(mfa::settings(&app.cx).await?.policies))
}

/// Set the tenant's MFA policy.
#[utoipa::path(
    put, path = "/guardian/policies", tag = "guardian",
    request_body = Vec<String>,
    responses(
        (status = 200, description = "The policies", body = Vec<String>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ),
    security(("management_api" = ["update:mfa_policies"]))
)]
pub async fn set_policies(
    State(app): State<AdminState>,
    auth: Authorized<UpdateMfaPolicies>,
    Body(Policies(policies)): Body<Policies>,
) -> Result<Json<Vec<MfaPolicy>>, ApiError> {
    mfa::set_policies(&app.cx, &auth.caller.actor(), &policies).await?;
    Ok(Json(mfa::settings(&app.cx).await?.policies))
}

/// List a user's enrolled factors.
#[utoipa::path(
    get, path = "/users/{id}/authentication-methods", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 200, description = "The user's factors", body = Vec<AuthenticationMethod>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["read:authentication_methods"]))
)]
pub async fn list_methods(
    State(app): State<AdminState>,
    _auth: Authorized<ReadAuthenticationMethods>,
    Id(user_id): Id,
) -> Result<Json<Vec<AuthenticationMethod>>, ApiError> {
    let methods = mfa::user_methods(&app.cx, &user_id).await?;
    Ok(Json(methods.into_iter().map(Into::into).collect()))
}

/// Delete one of a user's factors.
#[utoipa::path(
    delete, path = "/users/{id}/authentication-methods/{method_id}", tag = "users",
    params(
        ("id" = String, Path, description = "The user id"),
        ("method_id" = String, Path, description = "The authentication method's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:authentication_methods"]))
)]
pub async fn delete_method(
    State(app): State<AdminState>,
    auth: Authorized<DeleteAuthenticationMethods>,
    IdPair(user_id, method_id): IdPair,
) -> Result<Response, ApiError> {
    mfa::delete_user_method(&app.cx, &auth.caller.actor(), &user_id, &method_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete all of a user's factors (reset MFA).
#[utoipa::path(
    delete, path = "/users/{id}/authenticators", tag = "users",
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ),
    security(("management_api" = ["delete:guardian_enrollments"]))
)]
pub async fn reset(
    State(app): State<AdminState>,
    auth: Authorized<DeleteGuardianEnrollments>,
    Id(user_id): Id,
) -> Result<Response, ApiError> {
    mfa::reset(&app.cx, &auth.caller.actor(), &MfaOwner::User(user_id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
