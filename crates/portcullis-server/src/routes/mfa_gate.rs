//! The second-factor step of `/authorize`: before a signed-in user gets a code or tokens, a
//! request that needs a second factor (see `portcullis_core::mfa::requirement`) the session has
//! not passed sends the browser to the factor's page (`routes::mfa`), or, under `prompt=none`,
//! answers the client `interaction_required`. A session that has passed one is not asked
//! again for the rest of its life.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use portcullis_core::mfa::{self, Requirement};
use portcullis_store::{LoginSession, MfaOwner, User};
use portcullis_types::ACR_MULTI_FACTOR;

use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

/// Whether an `acr_values` parameter asks for a second factor.
pub fn asks_for_mfa(acr_values: Option<&str>) -> bool {
    acr_values
        .unwrap_or("")
        .split(' ')
        .any(|value| value == ACR_MULTI_FACTOR)
}

/// An `/authorize` query asking for the multi-factor policy in its `acr_values`, as a
/// post-login Action's `api.multifactor.enable` does: the factor's page, and `/authorize` once
/// the factor is given, then know that the login owes one.
pub fn asking_for_mfa(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    match pairs.iter_mut().find(|(name, _)| name == "acr_values") {
        Some((_, values)) if asks_for_mfa(Some(values)) => {}
        Some((_, values)) => {
            values.push(' ');
            values.push_str(ACR_MULTI_FACTOR);
        }
        None => pairs.push(("acr_values".into(), ACR_MULTI_FACTOR.into())),
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_else(|_| query.to_owned())
}

/// The `acr` a login meets: the multi-factor policy, when the request asked for it and the
/// session has passed a second factor.
pub fn acr(acr_values: Option<&str>, session: &LoginSession) -> Option<String> {
    (asks_for_mfa(acr_values) && session.mfa_time.is_some()).then(|| ACR_MULTI_FACTOR.to_owned())
}

/// What `/authorize` knows when it asks [`gate`].
pub struct Step<'a> {
    pub user: &'a User,
    pub session: &'a LoginSession,
    /// The request's `acr_values` asks for a second factor.
    pub asked: bool,
    pub prompt_none: bool,
    pub authorize_query: &'a str,
}

/// The second-factor step: `Ok(None)` when the request may go on, `Ok(Some(redirect))` to the
/// factor's page, or the error to send the client.
pub async fn gate(app: &AppState, step: Step<'_>) -> Result<Option<Response>, OAuthError> {
    if step.session.mfa_time.is_some() {
        return Ok(None);
    }
    let requirement = requirement(app, step.user, step.asked).await?;
    match requirement {
        Requirement::None => Ok(None),
        Requirement::Unavailable => Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "Multi-factor authentication was requested but no factor is enabled",
        )),
        Requirement::Challenge | Requirement::Enrol if step.prompt_none => Err(OAuthError::new(
            ErrorCode::InteractionRequired,
            "Multi-factor authentication required",
        )),
        Requirement::Challenge | Requirement::Enrol => {
            // The query came in the request's URI, so it is a valid header value.
            let location = HeaderValue::from_str(&format!("/u/mfa?{}", step.authorize_query))
                .map_err(|_| OAuthError::invalid_request("The request is not valid."))?;
            let no_store = HeaderValue::from_static("no-store");
            let headers = [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, no_store),
            ];
            Ok(Some((StatusCode::FOUND, headers).into_response()))
        }
    }
}

/// What the user's login needs now, from the tenant's settings and the user's factors.
pub async fn requirement(
    app: &AppState,
    user: &User,
    asked: bool,
) -> Result<Requirement, OAuthError> {
    let store = app.store.as_ref();
    let settings = store.mfa_settings().await?;
    let authenticators = store
        .authenticators(&MfaOwner::User(user.user_id.clone()))
        .await?;
    Ok(mfa::requirement(&settings, &authenticators, asked))
}
