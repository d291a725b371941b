//! Auth0's MFA API for a password login left pending with `mfa_required`, named by its
//! `mfa_token`: `GET /mfa/authenticators` and `POST /mfa/associate` (the token as a Bearer
//! token), `POST /mfa/challenge` (the token in the body, with the client's credentials). The
//! login is finished at `/oauth/token` by the `mfa-otp` and `mfa-recovery-code` grants
//! (`token::mfa`, which also reads the pending login for these routes). The rules are
//! `portcullis_core::mfa::api`'s.

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use portcullis_core::mfa::{
    api::{self as mfa_api, AssociateError},
    enrol::Label,
    method_type,
};
use portcullis_store::{MfaOwner, PendingMfaLogin, User};
use portcullis_types::MfaFactor;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    mfa::app_label,
    token::{mfa::pending_login, request::ClientRequest},
};
use crate::{
    error::{ErrorCode, OAuthError},
    state::AppState,
};

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// The pending login of the request's `Authorization: Bearer <mfa_token>`.
async fn bearer_login(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<(PendingMfaLogin, User), OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            invalid_token("The Authorization header must carry the mfa_token as a Bearer token")
        })?;
    pending_login(app, token)
        .await?
        .ok_or_else(|| invalid_token("Malformed, expired or used mfa_token."))
}

/// One authenticator in Auth0's shape.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    authenticator_type: &'static str,
    active: bool,
}

/// Auth0's `authenticator_type` of a factor.
fn authenticator_type(kind: MfaFactor) -> &'static str {
    match kind {
        MfaFactor::Otp => "otp",
        other => method_type(other),
    }
}

/// `GET /mfa/authenticators`: the user's authenticator apps and recovery codes.
pub async fn authenticators(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let result = async {
        let (_, user) = bearer_login(&app, &headers).await?;
        let all = app
            .store
            .authenticators(&MfaOwner::User(user.user_id))
            .await?;
        let listed: Vec<Listed<'_>> = mfa_api::listed(&all)
            .map(|a| Listed {
                id: &a.id,
                authenticator_type: authenticator_type(a.kind),
                active: a.confirmed,
            })
            .collect();
        Ok::<_, OAuthError>(Json(json!(listed)).into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The body of `POST /mfa/associate`.
#[derive(Deserialize)]
struct AssociateBody {
    authenticator_types: Vec<String>,
    #[serde(default)]
    client_id: Option<String>,
}

/// `POST /mfa/associate`: an authenticator app for a user without a usable factor; confirmed
/// by the `mfa-otp` grant's first correct code.
pub async fn associate(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let body: AssociateBody = serde_json::from_slice(&body).map_err(|_| {
            OAuthError::invalid_request(
                "The body must be JSON with authenticator_types, an array of strings.",
            )
        })?;
        let (login, user) = bearer_login(&app, &headers).await?;
        if body
            .client_id
            .as_deref()
            .is_some_and(|id| id != login.client_id)
        {
            return Err(invalid_token("The mfa_token was issued to another client."));
        }
        if body.authenticator_types != ["otp"] {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedChallengeType,
                "Only authenticator_types [\"otp\"] can be associated.",
            ));
        }
        let settings = app.store.mfa_settings().await?;
        let issuer = app_label(&app);
        let label = Label {
            issuer: &issuer,
            account: &user.email,
        };
        let owner = MfaOwner::User(user.user_id.clone());
        let now = app.clock.now();
        let associated = mfa_api::associate(
            app.store.as_ref(),
            &app.key_cipher,
            &settings,
            &owner,
            label,
            now,
        )
        .await
        .map_err(|error| match error {
            AssociateError::AlreadyEnrolled => {
                OAuthError::new(ErrorCode::AccessDenied, "User is already enrolled.")
            }
            AssociateError::NotEnabled => OAuthError::new(
                ErrorCode::UnsupportedChallengeType,
                "The otp factor is not enabled.",
            ),
            AssociateError::Mfa(error) => OAuthError::internal(error),
        })?;
        let mut answer = json!({
            "authenticator_type": "otp",
            "secret": associated.secret_base32,
            "barcode_uri": associated.barcode_uri,
        });
        if !associated.recovery_codes.is_empty() {
            answer["recovery_codes"] = json!(associated.recovery_codes);
        }
        Ok(Json(answer).into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /mfa/challenge` with `challenge_type` `otp`: the user answers with a code of their
/// app (no message is sent); Auth0's `{"challenge_type": "otp"}`.
pub async fn challenge(State(app): State<AppState>, request: ClientRequest) -> Response {
    let result = async {
        let ClientRequest { credentials, body } = request;
        let authenticated = credentials.authenticate(&app).await?;
        let token = body
            .mfa_token
            .as_ref()
            .filter(|token| !token.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: mfa_token"))?;
        let login = pending_login(&app, token.expose_str())
            .await?
            .filter(|(login, _)| login.client_id == authenticated.client.client_id);
        let Some((_, user)) = login else {
            return Err(OAuthError::new(
                ErrorCode::InvalidGrant,
                "Malformed, expired or used mfa_token.",
            ));
        };
        let types = body.challenge_type.as_deref().unwrap_or("otp");
        if !types.split_whitespace().any(|kind| kind == "otp") {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedChallengeType,
                format!("Unsupported challenge type: {types}"),
            ));
        }
        let owner = MfaOwner::User(user.user_id);
        let has_app = app
            .store
            .authenticators(&owner)
            .await?
            .iter()
            .any(|a| a.confirmed && a.kind == MfaFactor::Otp);
        if !has_app {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedChallengeType,
                "User is not enrolled with otp.",
            ));
        }
        Ok(Json(json!({ "challenge_type": "otp" })).into_response())
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
