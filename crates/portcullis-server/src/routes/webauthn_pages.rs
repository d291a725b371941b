//! The WebAuthn ceremonies the hosted pages carry: the relying party of this deployment, the
//! options a page renders (the second-factor pages' keys), whether the login and sign-up
//! pages offer passkeys, the JSON their scripts fetch a ceremony's options as, and the form
//! that posts the browser's answer. The handlers that finish them are
//! `routes::mfa_webauthn` and `routes::passkey`; this module depends on neither, so the pages
//! that render ceremonies and the handlers that finish them do not depend on each other.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use portcullis_core::mfa::{
    webauthn::{self, Answer, Registrant, RelyingParty, Started},
    MfaError, Requirement,
};
use portcullis_store::{MfaOwner, MfaSettings, User};
use portcullis_types::MfaFactor;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

/// The relying party of this deployment, or `None` (keys are then not offered) when the
/// issuer's host is not a domain name, which browsers refuse as a relying party id.
pub(crate) fn relying_party(app: &AppState) -> Option<RelyingParty> {
    match RelyingParty::for_issuer(&app.settings.issuer) {
        Ok(rp) => Some(rp),
        Err(error) => {
            tracing::debug!(%error, "WebAuthn is not offered");
            None
        }
    }
}

/// The factors of the tenant's that are WebAuthn keys.
pub(crate) fn enabled_keys(settings: &MfaSettings) -> Vec<MfaFactor> {
    settings
        .enabled
        .iter()
        .copied()
        .filter(|factor| webauthn::is_webauthn(*factor))
        .collect()
}

/// A kind of key the enrolment page offers, with its registration ceremony.
#[derive(Debug, Serialize)]
pub(crate) struct KeyOffer {
    kind: &'static str,
    label: &'static str,
    #[serde(flatten)]
    started: Started,
}

/// What the second-factor page carries besides its forms.
#[derive(Debug, Default)]
pub(crate) struct Ceremonies {
    /// The code form is shown: the user has an authenticator app, or may enrol one.
    pub otp: bool,
    /// Authenticating one of the user's keys (the code page).
    pub authenticate: Option<Started>,
    /// Registering a key of each kind the tenant enables (the enrolment page).
    pub enrol: Vec<KeyOffer>,
}

/// The ceremonies of the page the user owes, bound to their login session.
pub(crate) async fn ceremonies(
    app: &AppState,
    (user, session_hash): (&User, &[u8]),
    settings: &MfaSettings,
    needed: Requirement,
) -> Result<Ceremonies, MfaError> {
    let owner = MfaOwner::User(user.user_id.clone());
    let store = app.store.as_ref();
    let otp_enabled = settings.is_enabled(MfaFactor::Otp);
    let mut page = Ceremonies::default();
    let rp = relying_party(app);
    let session = Some(session_hash);
    let now = app.clock.now();
    match needed {
        Requirement::Challenge => {
            let authenticators = store.authenticators(&owner).await?;
            page.otp = otp_enabled
                && authenticators
                    .iter()
                    .any(|a| a.confirmed && a.kind == MfaFactor::Otp);
            if let Some(rp) = rp {
                let accepted = enabled_keys(settings);
                page.authenticate =
                    webauthn::start_authentication(&rp, store, &owner, &accepted, session, now)
                        .await?;
            }
        }
        Requirement::Enrol => {
            page.otp = otp_enabled;
            let Some(rp) = rp else {
                return Ok(page);
            };
            let who = Registrant {
                owner: &owner,
                name: &user.email,
                display_name: &user.email,
            };
            for kind in enabled_keys(settings) {
                let started =
                    webauthn::start_registration(&rp, store, who, kind, session, now).await?;
                page.enrol.push(KeyOffer {
                    kind: kind.as_str(),
                    label: match kind {
                        MfaFactor::WebauthnPlatform => "Use a passkey on this device",
                        _ => "Use a security key",
                    },
                    started,
                });
            }
        }
        Requirement::None | Requirement::Unavailable => {}
    }
    Ok(page)
}

/// The relying party and the kinds of key the tenant enables, when it enables any (the login
/// and sign-up pages then offer passkeys); `Ok(None)` otherwise.
pub(crate) async fn passkey_setup(
    app: &AppState,
) -> Result<Option<(RelyingParty, Vec<MfaFactor>)>, portcullis_store::StoreError> {
    let settings = app.store.mfa_settings().await?;
    let accepted = enabled_keys(&settings);
    if accepted.is_empty() {
        return Ok(None);
    }
    Ok(relying_party(app).map(|rp| (rp, accepted)))
}

/// Whether the login and sign-up pages offer passkeys. A failure to read the settings is
/// logged and the page goes without them: the password still works.
pub(crate) async fn passkeys_offered(app: &AppState) -> bool {
    match passkey_setup(app).await {
        Ok(setup) => setup.is_some(),
        Err(error) => {
            tracing::warn!(%error, "could not read the MFA settings");
            false
        }
    }
}

/// The browser's answer to a page's ceremony (here and on the login page).
#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    ceremony: String,
    /// The `PublicKeyCredential` as its `toJSON()` gives it.
    #[serde(default)]
    credential: String,
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) authorize_query: String,
}

impl KeyForm {
    pub(crate) fn answer(&self) -> Answer<'_> {
        Answer {
            ceremony: &self.ceremony,
            credential: &self.credential,
        }
    }
}

/// A ceremony's options as the login and sign-up pages' script fetches them: `{"ceremony",
/// "options"}`, never cached.
pub(crate) fn ceremony_json(started: &Started) -> Response {
    let mut response = axum::Json(started).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refusal to start a ceremony, in the shape of the other JSON errors of the server, with
/// a message the page can show.
pub(crate) fn ceremony_refused(status: StatusCode, message: &str) -> Response {
    let error = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request"
    };
    let mut response = (
        status,
        axum::Json(serde_json::json!({ "error": error, "error_description": message })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The form a page's script posts to fetch a ceremony's options: the page's CSRF value and
/// authorization request, and for a sign-up the email typed.
#[derive(Deserialize)]
pub struct OptionsForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) authorize_query: String,
    #[serde(default)]
    pub(crate) email: String,
}
