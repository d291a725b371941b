//! The WebAuthn ceremonies the hosted pages carry: the relying party of this deployment, the
//! options a page renders (the second-factor pages' keys, the login page's passkey sign-in)
//! and the form that posts the browser's answer. The handlers that finish them are
//! `routes::mfa_webauthn` and `routes::passkey`; this module depends on neither, so the pages
//! that render ceremonies and the handlers that finish them do not depend on each other.

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

/// The login page's passkey ceremony, when the tenant enables WebAuthn keys. A failure to
/// start one is logged and the page goes without it: the password still works.
pub(crate) async fn offer(app: &AppState) -> Option<Started> {
    let settings = match app.store.mfa_settings().await {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(%error, "could not read the MFA settings");
            return None;
        }
    };
    if enabled_keys(&settings).is_empty() {
        return None;
    }
    let rp = relying_party(app)?;
    match webauthn::start_sign_in(&rp, app.store.as_ref(), app.clock.now()).await {
        Ok(started) => Some(started),
        Err(error) => {
            tracing::warn!(%error, "could not start a passkey sign-in");
            None
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
