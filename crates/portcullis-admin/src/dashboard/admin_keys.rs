//! An administrator's passkeys and security keys: the WebAuthn ceremonies the dashboard's
//! pages carry, run by `portcullis_core::mfa::webauthn` (the end users' own ceremonies, with an
//! `MfaOwner::Admin`) and bound to the administrator's session.
//!
//! A page that offers a key starts its ceremony when it is rendered: the options ride in the
//! page and the shared WebAuthn script (`/dashboard/static/webauthn.js`) posts the browser's
//! answer as a plain, CSRF-checked form. The account page ([`super::account_keys`]) and the
//! sign-in's second step ([`super::admin_mfa`]) both register keys here, and the step
//! authenticates with one; counting an assertion on the dashboard's brute-force counters is
//! the step's business.

use portcullis_core::mfa::{
    admin::ADMIN_KEYS,
    enrol,
    webauthn::{self, Answer, Refusal, Registrant, RelyingParty, Started},
    MfaError,
};
use portcullis_store::{Authenticator, MfaOwner};
use portcullis_types::{EventType, MfaFactor};
use serde::Serialize;
use serde_json::json;

use super::{auth::Dash, form::FormData};
use crate::state::AdminState;

/// The owner of the signed-in administrator's keys.
pub fn owner(dash: &Dash) -> MfaOwner {
    MfaOwner::Admin(dash.admin.id.clone())
}

/// The relying party of this deployment, or `None` when the issuer's host is not a domain
/// name (browsers refuse an IP address as a relying party id): keys are then not offered.
pub fn relying_party(app: &AdminState) -> Option<RelyingParty> {
    match RelyingParty::for_issuer(&app.settings.issuer) {
        Ok(rp) => Some(rp),
        Err(error) => {
            tracing::debug!(%error, "WebAuthn is not offered on the dashboard");
            None
        }
    }
}

/// A kind of key a page offers to register, with its ceremony.
#[derive(Debug, Serialize)]
pub struct KeyOffer {
    kind: &'static str,
    label: &'static str,
    #[serde(flatten)]
    started: Started,
}

/// One registration ceremony per kind of key an administrator may enrol; none without a
/// relying party.
pub async fn offers(dash: &Dash) -> Result<Vec<KeyOffer>, MfaError> {
    let Some(rp) = relying_party(&dash.app) else {
        return Ok(Vec::new());
    };
    let owner = owner(dash);
    let who = Registrant {
        owner: &owner,
        name: &dash.admin.email,
        display_name: &dash.admin.email,
    };
    let mut offered = Vec::new();
    for &kind in ADMIN_KEYS {
        let started = webauthn::start_registration(
            &rp,
            dash.app.store(),
            who,
            kind,
            Some(&dash.session.id_hash),
            dash.app.clock().now(),
        )
        .await?;
        offered.push(KeyOffer {
            kind: kind.as_str(),
            label: match kind {
                MfaFactor::WebauthnPlatform => "Use a passkey on this device",
                _ => "Use a security key",
            },
            started,
        });
    }
    Ok(offered)
}

/// The browser's answer a form carries.
fn answer(form: &FormData) -> Answer<'_> {
    Answer {
        ceremony: form.raw("ceremony"),
        credential: form.raw("credential"),
    }
}

/// A key registered from a dashboard page, and the recovery codes to show once when the
/// administrator had none (their way back in without the key).
pub struct Registered {
    pub key: Authenticator,
    pub recovery_codes: Vec<String>,
}

/// Finishes registering the key a page's ceremony created, named as the form says; a refusal
/// is logged and audited.
pub async fn register(dash: &Dash, form: &FormData) -> Result<Registered, Refusal> {
    let Some(rp) = relying_party(&dash.app) else {
        return Err(Refusal::Ceremony);
    };
    let owner = owner(dash);
    let store = dash.app.store();
    let now = dash.app.clock().now();
    let registered = webauthn::finish_registration(
        &rp,
        store,
        (&owner, form.opt("name")),
        answer(form),
        Some(&dash.session.id_hash),
        now,
    )
    .await;
    let key = match registered {
        Ok(key) => key,
        Err(refusal) => {
            if !matches!(refusal, Refusal::Failed(_)) {
                tracing::info!(%refusal, "an administrator's key was refused");
                dash.app
                    .audit(
                        dash.entry(
                            EventType::MfaFailed,
                            "Administrator security key enrolment refused",
                        )
                        .details(json!({ "api": "dashboard" })),
                    )
                    .await;
            }
            return Err(refusal);
        }
    };
    dash.app
        .audit(
            dash.entry(
                EventType::MfaEnrolled,
                "Administrator enrolled a passkey or security key",
            )
            .details(json!({ "api": "dashboard", "factor": key.kind.as_str() })),
        )
        .await;
    let has_codes = store
        .authenticators(&owner)
        .await?
        .iter()
        .any(|a| a.confirmed && a.kind == MfaFactor::RecoveryCode);
    let recovery_codes = if has_codes {
        Vec::new()
    } else {
        enrol::issue_recovery_codes(store, &owner, now).await?
    };
    Ok(Registered {
        key,
        recovery_codes,
    })
}

/// The authentication ceremony of the sign-in's step, limited to the administrator's own
/// keys; `None` without a key or a relying party.
pub async fn challenge(dash: &Dash) -> Result<Option<Started>, MfaError> {
    let Some(rp) = relying_party(&dash.app) else {
        return Ok(None);
    };
    webauthn::start_authentication(
        &rp,
        dash.app.store(),
        &owner(dash),
        ADMIN_KEYS,
        Some(&dash.session.id_hash),
        dash.app.clock().now(),
    )
    .await
}

/// Checks the assertion a form carries against the step's ceremony: the kind of key that
/// answered, or the refusal.
pub async fn authenticate(dash: &Dash, form: &FormData) -> Result<MfaFactor, Refusal> {
    let Some(rp) = relying_party(&dash.app) else {
        return Err(Refusal::Ceremony);
    };
    webauthn::finish_authentication(
        &rp,
        dash.app.store(),
        &owner(dash),
        ADMIN_KEYS,
        answer(form),
        Some(&dash.session.id_hash),
        dash.app.clock().now(),
    )
    .await
}
